"""SDK client factories for activities, and the translation of SDK errors into kubelink's errors.

``function_app.py`` imports this module on every cold start, so nothing heavy is imported here at module
level: each factory imports its SDK when first called (azure.mgmt.network alone takes ~0.6 s).

Credentials (README, "Settings"): ``DefaultAzureCredential`` (managed identity in Azure); a static
development token only when ``KUBELINK_ARM_ENDPOINT`` is a loopback URL, and a loopback endpoint never
gets a real credential, so a token can't leak to a local sandbox. TLS uses the standard trust
(``REQUESTS_CA_BUNDLE`` for a private CA such as the sandbox's); verification is never disabled.
"""

from __future__ import annotations

import functools
import json
import ssl
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from adapters import settings
from kubelink.errors import KubelinkError, PermanentError, TransientError

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential
    from azure.core.pipeline.policies import RetryPolicy
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.privatedns import PrivateDnsManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.subscriptions import SubscriptionClient
    from azure.mgmt.web import WebSiteManagementClient
    from kubernetes.client import CoreV1Api

    from kubelink.spec import LinkSpec

DEV_TOKEN = "kubelink-development-token"
PUBLIC_ARM_AUDIENCE = "https://management.azure.com"
# Sovereign clouds whose token audience differs from the ARM host (azure-mgmt-core ``get_arm_endpoints``).
_AUDIENCES = {"management.usgovcloudapi.net": "https://management.core.usgovcloudapi.net"}
# The well-known AAD server application of AKS: the audience of tokens for AAD-enabled clusters.
AKS_AAD_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"

RETRY_TOTAL = 3  # a few quick retries in-process; longer waits are durable timers in the orchestrator
RETRY_BACKOFF_MAX = 20
RETRY_AFTER_MAX = 30.0  # a longer Retry-After surfaces as a TransientError carrying it
RETRY_TIMEOUT = 120  # seconds for one call, retries included: well inside any functionTimeout
CONNECTION_TIMEOUT = 10
READ_TIMEOUT = 60

# ARM error codes that mean "try again later" whatever the HTTP status.
TRANSIENT_ARM_CODES = frozenset(
    {"anotheroperationinprogress", "retryableerror", "referencedresourcenotprovisioned", "toomanyrequests"}
)


# --- credentials ---------------------------------------------------------------------------------


class StaticTokenCredential:
    """A fixed development token for the local sandbox; it authorises nothing in Azure."""

    def __init__(self, token: str = DEV_TOKEN) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to release (part of the credential protocol)."""


def arm_credential(endpoint: str | None = None) -> TokenCredential:
    """The credential for ``endpoint`` (default: ``KUBELINK_ARM_ENDPOINT``), one per process."""
    return _credential(settings.is_loopback_url(endpoint or settings.arm_endpoint()))


@functools.cache
def _credential(loopback: bool) -> TokenCredential:
    """Cached so tokens are reused across activity invocations instead of fetched for each."""
    if loopback:
        return StaticTokenCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def arm_audience(endpoint: str) -> str:
    """The token audience for an ARM endpoint: public ARM for loopback, else the sovereign cloud's own."""
    if settings.is_loopback_url(endpoint):
        return PUBLIC_ARM_AUDIENCE
    host = urlsplit(endpoint).hostname or ""
    return _AUDIENCES.get(host, f"https://{host}")


# --- ARM clients -----------------------------------------------------------------------------------


def _arm_options() -> dict[str, Any]:
    endpoint = settings.arm_endpoint()
    return {
        "credential": arm_credential(endpoint),
        "base_url": endpoint,
        "credential_scopes": [f"{arm_audience(endpoint)}/.default"],
        "retry_policy": _retry_policy(),
        "connection_timeout": CONNECTION_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
    }


def network_client(subscription_id: str) -> NetworkManagementClient:
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(subscription_id=subscription_id, **_arm_options())


def web_client(subscription_id: str) -> WebSiteManagementClient:
    from azure.mgmt.web import WebSiteManagementClient

    return WebSiteManagementClient(subscription_id=subscription_id, **_arm_options())


def containerservice_client(subscription_id: str) -> ContainerServiceClient:
    from azure.mgmt.containerservice import ContainerServiceClient

    return ContainerServiceClient(subscription_id=subscription_id, **_arm_options())


def privatedns_client(subscription_id: str) -> PrivateDnsManagementClient:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    return PrivateDnsManagementClient(subscription_id=subscription_id, **_arm_options())


def resource_client(subscription_id: str) -> ResourceManagementClient:
    """Resource groups (their ``managedBy``), api-version 2025-04-01 (azure-mgmt-resource 26)."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(subscription_id=subscription_id, **_arm_options())


def subscription_client() -> SubscriptionClient:
    """The subscription's locations and their availability zones, api-version 2022-12-01
    (azure-mgmt-resource-subscriptions 1)."""
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return SubscriptionClient(**_arm_options())


def _retry_policy() -> RetryPolicy:
    return _bounded_retry_policy_class()(
        retry_total=RETRY_TOTAL, retry_backoff_max=RETRY_BACKOFF_MAX, timeout=RETRY_TIMEOUT
    )


@functools.cache
def _bounded_retry_policy_class() -> type[RetryPolicy]:
    """azure-core's RetryPolicy (honours Retry-After), but never sleeping long inside an activity.

    Built on first use so azure.core is not imported at cold start.
    """
    from azure.core.pipeline import PipelineResponse
    from azure.core.pipeline.policies import RetryPolicy

    class BoundedRetryPolicy(RetryPolicy):
        def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > RETRY_AFTER_MAX:
                return False  # arm_error turns it into a TransientError with retry_after
            return bool(super().is_retry(settings, response))

        def increment(self, settings: dict[str, Any], response: Any = None, error: Any = None) -> bool:
            if error is not None and _tls_failure(error):
                return False  # retrying can't fix trust
            return bool(super().increment(settings, response=response, error=error))

    return BoundedRetryPolicy


# --- Kubernetes ------------------------------------------------------------------------------------


def kube_core_api(spec: LinkSpec) -> CoreV1Api:
    """A CoreV1Api for the link's cluster: from ARM when ``kubernetes.aksCluster`` is set, else from the
    kubeconfig in the app setting ``kubernetes.kubeconfigSetting``."""
    from kubernetes import client, config
    from urllib3.util.retry import Retry

    aks = spec.kubernetes.aks_cluster
    kubeconfig = _aks_kubeconfig(aks) if aks else settings.kubeconfig(spec.kubernetes.kubeconfig_setting)
    configuration = client.Configuration()
    # A few quick connection retries; a 429 or 5xx surfaces at once, for a durable wait, never a sleep here.
    configuration.retries = Retry(total=RETRY_TOTAL, backoff_factor=0.5, respect_retry_after_header=False)
    return client.CoreV1Api(config.new_client_from_config_dict(kubeconfig, client_configuration=configuration))


def _aks_kubeconfig(cluster_id: str) -> dict[str, Any]:
    """The cluster user's kubeconfig from ``listClusterUserCredential``. For AAD-enabled clusters it names
    the ``kubelogin`` exec plugin, which a Function can't run: the users get an AKS AAD token instead."""
    parts = cluster_id.split("/")
    subscription, group, name = parts[2], parts[4], parts[8]
    credentials = containerservice_client(subscription).managed_clusters.list_cluster_user_credentials(group, name)
    value = credentials.kubeconfigs[0].value if credentials.kubeconfigs else None
    if not value:
        raise PermanentError("NoKubeconfig", f"AKS returned no kubeconfig for cluster {name}", resource=cluster_id)
    kubeconfig = settings.load_kubeconfig(value, f"AKS cluster {name}")
    for entry in kubeconfig.get("users") or ():
        user = entry.get("user") or {}
        if "exec" in user or "auth-provider" in user:
            entry["user"] = {"token": arm_credential().get_token(AKS_AAD_SCOPE).token}
    return kubeconfig


# --- errors ----------------------------------------------------------------------------------------


def arm_error(exc: BaseException, *, step: str | None = None, resource: str | None = None) -> KubelinkError:
    """Translate an Azure SDK, Kubernetes client or connection error into a Transient/PermanentError that
    carries the platform's own code and message, so callers never string-match messages.

    Transient: HTTP 408/429/5xx, ARM codes like 409 ``AnotherOperationInProgress``, Kubernetes 409
    (``Conflict``/``AlreadyExists``: a retried activity re-observes and adopts), unreachable endpoints.
    Permanent: everything else, and TLS verification failures (retrying can't fix trust).
    """
    if isinstance(exc, KubelinkError):
        return exc
    azure = sys.modules.get("azure.core.exceptions")  # loaded whenever an Azure SDK error exists
    kube = sys.modules.get("kubernetes.client.exceptions")
    if azure and isinstance(exc, azure.HttpResponseError) and exc.response is not None:
        return _from_arm_response(exc, step, resource)
    if azure and isinstance(exc, azure.ClientAuthenticationError):
        return PermanentError("AuthenticationFailed", _first_line(exc), step=step, resource=resource)
    if kube and isinstance(exc, kube.ApiException) and exc.status:
        return _from_kube_status(exc, step, resource)
    if _tls_failure(exc):
        return PermanentError(
            "TlsVerificationFailed",
            f"{_first_line(exc)} (trust the endpoint's CA with REQUESTS_CA_BUNDLE)",
            step=step,
            resource=resource,
        )
    if _is_connection_error(exc, azure):
        return TransientError("ConnectionFailed", _first_line(exc), step=step, resource=resource)
    return PermanentError(type(exc).__name__, _first_line(exc), step=step, resource=resource)


def is_platform_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from Azure, Kubernetes or the network (what ``arm_error`` is for), as opposed to a
    bug. Only SDKs already imported are consulted: an error of an SDK never loaded can't be at hand."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError, ssl.SSLError]
    for module, name in (
        ("azure.core.exceptions", "AzureError"),
        ("kubernetes.client.exceptions", "ApiException"),
        ("urllib3.exceptions", "HTTPError"),
        ("requests.exceptions", "RequestException"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            kinds.append(getattr(loaded, name))
    return isinstance(exc, tuple(kinds))


def _from_arm_response(exc: Any, step: str | None, resource: str | None) -> KubelinkError:
    response = exc.response
    status: int = response.status_code
    code, message = None, None
    if exc.error is not None:
        code, message = exc.error.code, exc.error.message
    if not code:
        code, message = _arm_error_body(response)
    code = code or f"Http{status}"
    message = message or exc.reason or _first_line(exc)
    retry_after = _retry_after(response.headers.get("Retry-After"))
    transient = status in (408, 429) or status >= 500 or code.lower() in TRANSIENT_ARM_CODES
    cls = TransientError if transient else PermanentError
    path = urlsplit(str(response.request.url)).path
    if code.lower() == "scopelocked":  # Azure names the locks; kubelink adds what it needed to do beneath them
        message = f"{message} (kubelink needed to {response.request.method} {path}{f' in step {step}' if step else ''})"
    where = resource or path or None
    return cls(code, _clip(message), step=step, resource=where, retry_after=retry_after)


def _arm_error_body(response: Any) -> tuple[str | None, str | None]:
    """``{"error": {"code", "message"}}`` (ARM), ``{"code", "message"}`` (some RPs) or App Service's PascalCase
    ``{"Code", "Message"}`` (which the SDK's error model leaves unparsed), else nothing."""
    try:
        body = json.loads(response.text())
    except (ValueError, TypeError):
        return None, None
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code", error.get("Code")), error.get("message", error.get("Message"))
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)


def _from_kube_status(exc: Any, step: str | None, resource: str | None) -> KubelinkError:
    status: int = exc.status
    reason, message = exc.reason or f"Http{status}", None
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (ValueError, TypeError):
        body = {}
    if isinstance(body, dict) and body.get("kind") == "Status":
        reason = body.get("reason") or reason
        message = body.get("message")
    transient = status in (408, 409, 429) or status >= 500  # 409: re-observing resolves a create/update race
    cls = TransientError if transient else PermanentError
    headers = exc.headers or {}
    return cls(
        str(reason).replace(" ", ""),
        _clip(message or str(exc.reason or status)),
        step=step,
        resource=resource,
        retry_after=_retry_after(headers.get("Retry-After")),
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (``__cause__``, ``__context__``, azure-core's inner_exception)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (current.__cause__, current.__context__, getattr(current, "inner_exception", None)):
            if isinstance(inner, BaseException):
                stack.append(inner)
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def _tls_failure(exc: BaseException) -> bool:
    return any(
        isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e) for e in _causes(exc)
    )


def _is_connection_error(exc: BaseException, azure: Any) -> bool:
    urllib3 = sys.modules.get("urllib3.exceptions")
    requests = sys.modules.get("requests.exceptions")
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]
    if azure:
        kinds += [azure.ServiceRequestError, azure.ServiceResponseError]
    if urllib3:
        kinds.append(urllib3.HTTPError)
    if requests:
        kinds += [requests.ConnectionError, requests.Timeout]
    return isinstance(exc, tuple(kinds))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return _clip(text.splitlines()[0])


def _clip(text: str, limit: int = 1000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
