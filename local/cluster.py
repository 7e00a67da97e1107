"""A real Kubernetes API for the local world: Debian's etcd + kube-apiserver v1.20.2 built from Debian's source.

No package ships a kube-apiserver binary, so `build()` compiles it once from Debian's `kubernetes` source package
with Debian's Go 1.19 and caches it outside the repo (~/.cache/kubelink, or $KUBELINK_CACHE).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from local.process import Component, Proc, StartError, free_port, pick_port

VERSION = "v1.20.2"
GIT_COMMIT = "faecb196815e248d3ecfb03c680a4507229c2a56"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def cache_dir() -> Path:
    """Where built binaries live: outside the repo so a fresh clone or `git clean` keeps them."""
    return Path(os.environ.get("KUBELINK_CACHE") or Path.home() / ".cache" / "kubelink")


def apiserver_path() -> Path:
    return cache_dir() / "bin" / f"kube-apiserver-{VERSION}"


def apiserver_built() -> bool:
    """True when the cached binary exists and reports the version we build."""
    binary = apiserver_path()
    if not binary.is_file():
        return False
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.split() == ["Kubernetes", VERSION]


def _log(msg: str) -> None:
    print(f"[cluster build] {msg}", file=sys.stderr, flush=True)


def _go_root() -> str:
    """Debian's Go 1.19 (`apt-get install golang-go`): the toolchain the 1.20 sources build with."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("Go is missing: apt-get install golang-go (bookworm ships Go 1.19)")
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    if " go1.19" not in version:
        raise RuntimeError(f"kube-apiserver 1.20 needs Debian bookworm's Go 1.19, found: {version.strip()}")
    return subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()


def _deb_src_lines() -> str:
    """The machine's own Debian mirrors (whatever apt is configured with) as `deb-src` lines."""
    targets = subprocess.run(
        ["apt-get", "indextargets", "--format", "$(REPO_URI) $(RELEASE) $(COMPONENT)", "Created-By: Packages"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = sorted({f"deb-src [signed-by={KEYRING}] {line}" for line in targets.splitlines() if line.strip()})
    if not lines:
        raise RuntimeError("apt has no Debian sources configured; cannot fetch the kubernetes source package")
    return "\n".join(lines) + "\n"


def _download_source(work: Path) -> Path:
    """Fetch and unpack Debian's `kubernetes` source package with a private apt source list (no system changes)."""
    apt = work / "apt"
    (apt / "lists" / "partial").mkdir(parents=True)
    (apt / "cache").mkdir()
    (apt / "sources.list").write_text(_deb_src_lines())
    opts = [
        f"-oDir::Etc::SourceList={apt / 'sources.list'}",
        "-oDir::Etc::SourceParts=/dev/null",
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt / 'cache'}",
    ]
    if os.geteuid() == 0:
        opts.append("-oAPT::Sandbox::User=root")  # the private dirs are not readable by _apt
    subprocess.run(["apt-get", "-q", *opts, "update"], stdout=subprocess.DEVNULL, check=True)
    download = ["apt-get", "-q", *opts, "source", "--download-only", "kubernetes"]
    subprocess.run(download, cwd=work, stdout=subprocess.DEVNULL, check=True)
    tarballs = sorted(work.glob("kubernetes_*.orig.tar.gz"))
    if not tarballs:
        raise RuntimeError(f"apt-get source kubernetes left no orig tarball in {work}")
    subprocess.run(["tar", "-xzf", str(tarballs[-1]), "-C", str(work)], check=True)
    source = work / "kubernetes-1.20.2"
    if not (source / "cmd" / "kube-apiserver").is_dir():
        raise RuntimeError(f"unexpected source layout in {tarballs[-1].name}")
    return source


def build() -> Path:
    """Build kube-apiserver once; return its path. Idempotent: a cached binary reporting the version is reused."""
    target = apiserver_path()
    if apiserver_built():
        return target
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    goroot = _go_root()
    with tempfile.TemporaryDirectory(prefix="build-", dir=cache_dir()) as tmp:
        work = Path(tmp)
        _log("downloading Debian's kubernetes source package")
        source = _download_source(work)
        _log(f"source unpacked after {time.monotonic() - started:.0f} s; make WHAT=cmd/kube-apiserver (~3 min)")
        gopath = work / "gopath"
        (gopath / "src" / "k8s.io").mkdir(parents=True)
        # The 1.20 Makefile builds from vendor/ in GOPATH mode; module mode fails with "updates to go.mod needed".
        (gopath / "src" / "k8s.io" / "kubernetes").symlink_to(source)
        env = {
            "PATH": f"{goroot}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "GOROOT": goroot,
            "GOPATH": str(gopath),
            "GOCACHE": str(work / "gocache"),
            "HOME": str(work),
            "TMPDIR": str(work),
            "GOPROXY": "off",
            "GOFLAGS": "",
            "GO111MODULE": "off",
            "CGO_ENABLED": "0",
            "KUBE_GIT_VERSION": VERSION,
            "KUBE_GIT_MAJOR": "1",
            "KUBE_GIT_MINOR": "20",
            "KUBE_GIT_TREE_STATE": "clean",
            "KUBE_GIT_COMMIT": GIT_COMMIT,
            "KUBE_BUILD_PLATFORMS": "linux/amd64",
        }
        log = cache_dir() / "build.log"
        with log.open("w") as out:
            result = subprocess.run(
                ["make", "WHAT=cmd/kube-apiserver"],
                cwd=gopath / "src" / "k8s.io" / "kubernetes",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"make WHAT=cmd/kube-apiserver failed (full log: {log}):\n{tail}")
        staged = target.with_name(target.name + ".tmp")
        shutil.copy2(source / "_output" / "bin" / "kube-apiserver", staged)
        staged.replace(target)
    if not apiserver_built():
        raise RuntimeError(f"{target} does not report {VERSION}")
    _log(f"built {target} in {time.monotonic() - started:.0f} s")
    return target


class Cluster(Component):
    """Debian's etcd + the built kube-apiserver on loopback, with a private CA and a bearer-token kubeconfig.

    Ports default to free ones. `kubeconfig` carries `certificate-authority-data`, so clients verify TLS.
    """

    def __init__(
        self,
        work: Path,
        logs: Path,
        *,
        apiserver_port: int | None = None,
        etcd_port: int | None = None,
    ) -> None:
        self.work = work
        self.logs = logs
        self.requested = (apiserver_port, etcd_port)
        self.kubeconfig = work / "kubeconfig"
        self.ca_file = work / "pki" / "ca.pem"
        self.token = secrets.token_urlsafe(32)
        self.port = 0
        self.etcd: Proc | None = None
        self.apiserver: Proc | None = None

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _write_pki(self) -> dict[str, Path]:
        """A fresh CA of the cluster's own (its name differs from the sandbox CA's, so bundles never confuse them),
        the apiserver's loopback serving certificate, and the service-account signing key."""
        pki_dir = self.ca_file.parent
        pki_dir.mkdir(parents=True, exist_ok=True)
        files = {name: pki_dir / name for name in ("serving.pem", "serving.key", "sa.key", "sa.pub")}
        ca_key, serving_key, sa_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelink local cluster CA")])
        ca = (
            _certificate(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        serving = (
            _certificate(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
                ca_name,
                serving_key.public_key(),
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        files["serving.pem"].write_bytes(serving.public_bytes(serialization.Encoding.PEM))
        for key, path in ((serving_key, files["serving.key"]), (sa_key, files["sa.key"])):
            path.touch(mode=0o600)
            path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        files["sa.pub"].write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return files

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "kubelink-local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": base64.b64encode(self.ca_file.read_bytes()).decode(),
                    },
                }
            ],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "kubelink-local", "context": {"cluster": "kubelink-local", "user": "admin"}}],
            "current-context": "kubelink-local",
        }
        self.kubeconfig.touch(mode=0o600)
        self.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))

    def _ready(self) -> bool:
        request = urllib.request.Request(f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.token}"})
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)

    def _start(self) -> None:
        """Start etcd, then the apiserver; return once `/readyz` answers. On failure, nothing is left running."""
        binary = apiserver_path()
        if not apiserver_built():
            raise StartError("kube-apiserver", f"{binary} is not built: run `python -m local.cluster` (make test does)")
        apiserver_port, etcd_port = self.requested
        self.port = pick_port("kube-apiserver", apiserver_port)
        client = pick_port("etcd", etcd_port)
        peer = free_port()
        self.work.mkdir(parents=True, exist_ok=True)
        files = self._write_pki()
        (self.work / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")
        self._write_kubeconfig()

        etcd_url = f"http://127.0.0.1:{client}"
        self.etcd = Proc(
            "etcd",
            [
                "etcd",
                "--name=kubelink",
                f"--data-dir={self.work / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=kubelink=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
            ],
            self.logs / "etcd.log",
        )
        self.etcd.start()
        self.etcd.wait_ready(lambda: _http_ok(f"{etcd_url}/health"), 30, "serving /health")

        self.apiserver = Proc(
            "kube-apiserver",
            [
                str(binary),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                "--insecure-port=0",
                f"--cert-dir={self.work / 'certs'}",
                f"--tls-cert-file={files['serving.pem']}",
                f"--tls-private-key-file={files['serving.key']}",
                f"--token-auth-file={self.work / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={files['sa.pub']}",
                f"--service-account-signing-key-file={files['sa.key']}",
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
            ],
            self.logs / "kube-apiserver.log",
        )
        self.apiserver.start()
        self.apiserver.wait_ready(self._ready, 90, "ready on /readyz")

    def stop(self) -> None:
        """Apiserver first (it needs etcd to shut down cleanly), then etcd."""
        for proc in (self.apiserver, self.etcd):
            if proc is not None:
                proc.stop()


def _certificate(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
    )


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


if __name__ == "__main__":
    print(build())
