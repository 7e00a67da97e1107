"""The connectivity probe: does the app reach the private service, as a user's request would?

``GET https://{app defaultHostName}{probe.path}`` and compare the status with ``probe.expectStatus``. The
host name is read from ARM each time (it is the app's, not kubelink's). TLS uses the standard trust
(``REQUESTS_CA_BUNDLE`` for a private CA); the timeout is short so one dead path can't hold a sweep. Only
the status, the latency and the kind of failure are kept: never a body, a header or a credential.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.arm import read
from activities.contract import Payload, run_activity
from activities.observe import web
from kubelink.desired import dig
from kubelink.drift import ProbeOutcome
from kubelink.errors import PermanentError
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

STEP = Step.PROBE
#: seconds to connect and to wait for the answer's first byte: a healthy private path answers well within
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def probe_link(payload: dict[str, Any]) -> dict[str, Any]:
    """The probe's outcome; only failing to *find* the app (ARM) is an error, an unreachable path is a result."""
    return run_activity(STEP, payload, _probe_link)


def _probe_link(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    if spec.probe is None:
        raise PermanentError("NoProbe", f"link {spec.name} has no probe.path", step=STEP)
    site = read(web(spec).web_apps.get, spec.app.resource_group, spec.app.name)
    host = dig(site, "properties", "defaultHostName")
    if not host:
        raise PermanentError(
            "AppNotFound" if site is None else "NoDefaultHostName",
            f"app {spec.app.name} {'does not exist' if site is None else 'has no defaultHostName'}",
            step=STEP,
            resource=spec.app_id,
        )
    return {"result": probe(f"https://{host}{spec.probe.path}", spec.probe.expect_status).to_json()}


def probe(url: str, expect_status: int) -> ProbeOutcome:
    """One GET without redirects; a network failure is reported by its kind (``ConnectTimeout``, ``SSLError``…)."""
    import requests

    started = time.perf_counter()
    try:
        with requests.get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False, stream=True) as answer:
            status: int | None = answer.status_code
        error = None
    except requests.RequestException as failure:
        status, error = None, type(failure).__name__
    return ProbeOutcome(url, expect_status, status, (time.perf_counter() - started) * 1000, error)
