# kubelink — the commands of README's first screen. Every target works from a fresh clone: it installs what it needs
# (Python venv, npm packages, Debian packages, the kube-apiserver build cached in ~/.cache/kubelink).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# checkov (the offline Bicep scan of infra/) pins many packages of its own: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
# Go 1.19 and rsync build kube-apiserver; etcd-server runs next to it; nodejs/npm run Azurite (if node is missing);
# chromium and chromium-driver run the status page's browser test (headless, no browser download).
APT_PACKAGES := golang-go rsync etcd-server chromium chromium-driver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup system-packages apiserver lint test run demo bench

# The last step installs this checkout (editable) for the `kubelink` command: .venv/bin/kubelink.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q -e .
	touch $@

# Created once and reused until requirements-checkov.txt changes (pip also caches the wheels).
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

# The Azure CLI in a venv of its own (its pins must not touch .venv): tests/cli drives it against the sandbox.
AZCLI_VENV := .venv-azcli
$(AZCLI_VENV)/.installed: requirements-azcli.txt
	python3 -m venv $(AZCLI_VENV)
	$(AZCLI_VENV)/bin/pip install -q --upgrade pip
	$(AZCLI_VENV)/bin/pip install -q -r requirements-azcli.txt
	touch $@

node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	touch $@

system-packages:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Built once from Debian's kubernetes source package (~3.5 min cold), then reused from the cache.
apiserver: system-packages $(VENV)/.installed
	$(PY) -m local.cluster

setup: $(VENV)/.installed $(AZCLI_VENV)/.installed node_modules/.installed system-packages apiserver

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The suites on TEST_WORKERS pytest-xdist workers, each with worlds of its own (they mostly wait on durable timers,
# so more workers than cores pay); then the tests that judge them all (session_last: least privilege) read what
# the workers' worlds left in TEST_RECORDS.
TEST_WORKERS ?= 4
TEST_RECORDS := .test-records
test: setup lint $(CHECKOV_VENV)/.installed
	rm -rf $(TEST_RECORDS)
	KUBELINK_TEST_RECORDS=$(TEST_RECORDS) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not session_last"
	KUBELINK_TEST_RECORDS=$(TEST_RECORDS) $(PY) -m pytest -m session_last

run: setup
	$(PY) -m local.supervisor run

demo: setup
	$(PY) -m local.demo

# Figures, not tests: provisioning (requests, writes, polls, notice lag), a 1,000-link verification sweep, and
# what the per-resource lease costs links writing one app at once.
bench: setup
	$(PY) -m benchmarks.provision
	$(PY) -m benchmarks.sweep
	$(PY) -m benchmarks.drift_latency
	$(PY) -m benchmarks.concurrent_links
