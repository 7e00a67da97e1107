"""A running local world as a script or a test drives it: kubelink's HTTP API (``kubelink_cli.client``, the
client the ``kubelink`` command uses), the sandbox's control API (request log, faults) and real SDK clients
acting as people.

The demo, the benchmarks and the end-to-end suites all use it, so they follow runs and count writes one way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from kubelink_cli.client import KubelinkClient, Run

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo

#: ARM POST actions that only read: every other non-GET request changes Azure
READ_ACTIONS = ("/list", "/listclusterusercredential", "/getvpnclientconnectionhealth")
ARM_SCOPE = "https://management.azure.com/.default"

Client = TypeVar("Client")


class SandboxCredential:
    """A ``TokenCredential`` for a seeded principal of the sandbox (``admin``: Owner of the subscription;
    ``nobody``: no role), from its test-only ``GET /_sandbox/token``: how tests and tools act as someone other than
    kubelink's identity. Tokens are reused until a minute before they expire."""

    def __init__(self, arm: str, ca_bundle: str, principal: str = "admin") -> None:
        self.url = f"{arm}/_sandbox/token"
        self.principal = principal
        self.http = requests.Session()
        self.http.trust_env = False  # a machine-wide REQUESTS_CA_BUNDLE would override ``verify``
        self.http.verify = ca_bundle
        self._lock = threading.Lock()
        self._token: tuple[str, int] | None = None

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._token[1] - 60 < time.time():
                response = self.http.get(self.url, params={"principal": self.principal}, timeout=30)
                response.raise_for_status()
                answer = response.json()
                self._token = (answer["access_token"], int(answer["expires_on"]))
            return self._token[0]

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        token = self.token()
        assert self._token is not None
        return AccessToken(token, self._token[1])

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        token = self.token()
        assert self._token is not None
        return AccessTokenInfo(token, self._token[1])

    def close(self) -> None:
        self.http.close()


class WorldClient(KubelinkClient):
    """The world described by ``world.json`` (``World.describe()``): kubelink's API through the ``kubelink``
    command's own client, and the sandbox, trusting the sandbox's CA explicitly."""

    def __init__(self, world: Mapping[str, Any]) -> None:
        http = requests.Session()
        http.trust_env = False  # a machine-wide REQUESTS_CA_BUNDLE would override ``verify``
        http.verify = world["caBundle"]
        super().__init__(world.get("host") or "", session=http)  # no host for a sandbox without a Functions host
        self.arm: str = world["arm"]
        self.ca_bundle: str = world["caBundle"]
        self.subscription_id: str = world["subscriptionId"]
        self.sites: dict[str, str] = dict(world.get("sites") or {})
        self.storage: str | None = world.get("storage")
        #: The sandbox's ``admin`` (Owner of the subscription): who the SDK clients and ``arm_call`` act as.
        self.admin = SandboxCredential(self.arm, self.ca_bundle, "admin")

    def sweep(self, concurrency: int, timeout: float = 3600) -> Run:
        """Start the verification sweep as the drift timer does (``verify-sweep``) and follow it to its end."""
        from kubelink.options import RunOptions

        run = {"concurrency": concurrency, "options": RunOptions.for_poll_seconds(1).to_json()}
        uri = self.start("/runtime/webhooks/durabletask/orchestrators/verify_sweep/verify-sweep", run)
        return self.follow(uri, timeout=timeout, interval=0.5)

    def clone_links(
        self, name: str, count: int, spec: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    ) -> list[str]:
        """``count`` more link records like ``name``'s, as its provisioning wrote them (``{name}-0000``…), each
        spec ``spec(index, copy)`` when given: many links over the same (or seeded) resources."""
        from adapters.store import LinkStore

        assert self.storage, "the world has no storage"
        store = LinkStore.from_connection_string(self.storage)
        source = store.get_link(name)
        assert source is not None and source.private_address, f"link {name} is not provisioned"
        names = [f"{name}-{index:04d}" for index in range(count)]
        for index, clone in enumerate(names):
            body = {**source.spec, "name": clone}
            store.upsert_link(
                clone,
                spec=spec(index, body) if spec else body,
                private_address=source.private_address,
                last_provisioned=source.last_provisioned,
                conditions=source.conditions,
            )
        return names

    def throttle(self, scale: float) -> None:
        """ARM's token buckets in the sandbox, times ``scale`` (0: off)."""
        self.http.put(f"{self.arm}/_sandbox/throttling", json={"scale": scale}, timeout=30).raise_for_status()

    # --- the sandbox ----------------------------------------------------------------------------

    def arm_requests(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.http.get(f"{self.arm}/_sandbox/requests", timeout=60).json()
        return log

    def arm_writes(self) -> list[dict[str, Any]]:
        """The logged ARM requests that change something: every one but GETs and read-only POST actions."""
        return [r for r in self.arm_requests() if r["method"] != "GET" and not r["path"].lower().endswith(READ_ACTIONS)]

    def reset_requests(self) -> None:
        """Forget the request log, so the next assertions see only what follows."""
        self.http.delete(f"{self.arm}/_sandbox/requests", timeout=30).raise_for_status()

    def inject(self, **fault: Any) -> None:
        """One sandbox fault (``method``, ``pathPattern``, ``status``, ``times``…): local/sandbox/README.md."""
        self.http.post(f"{self.arm}/_sandbox/faults", json=fault, timeout=30).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.arm}/_sandbox/faults", timeout=30).raise_for_status()

    def sandbox_state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.http.get(f"{self.arm}/_sandbox/world", timeout=60).json()
        return state

    def probe(self, app: str, path: str) -> requests.Response:
        """GET the app's own endpoint, as its users would."""
        return self.http.get(f"{self.sites[app]}{path}", timeout=30)

    # --- people, with the SDKs ------------------------------------------------------------------

    def arm_call(self, method: str, path: str, principal: str = "admin", **kwargs: Any) -> requests.Response:
        """A raw ARM request as a seeded principal (for what the SDKs hide: status codes, headers, bodies)."""
        credential = self.admin if principal == "admin" else SandboxCredential(self.arm, self.ca_bundle, principal)
        headers = {"Authorization": f"Bearer {credential.token()}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.arm}{path}", headers=headers, timeout=60, **kwargs)

    def assign_role(self, role_name: str, scope: str, principal_id: str) -> None:
        """As the sandbox's ``admin``, assign the role named ``role_name`` to ``principal_id`` at ``scope``
        (``PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}``, as ``az role assignment create``
        does): how a test widens an identity's access the way an operator would."""
        import uuid

        api = {"api-version": "2022-04-01"}
        definitions = f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
        listed = self.arm_call("GET", definitions, params={**api, "$filter": f"roleName eq '{role_name}'"})
        listed.raise_for_status()
        (definition,) = listed.json()["value"]
        name = uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{definition['id']}|{principal_id}".lower())
        body = {"properties": {"roleDefinitionId": definition["id"], "principalId": principal_id}}
        path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        self.arm_call("PUT", path, params=api, json=body).raise_for_status()

    def authorizations(self) -> dict[str, Any]:
        """Every action the sandbox granted or refused, per principal (``GET /_sandbox/authorizations``)."""
        record: dict[str, Any] = self.http.get(f"{self.arm}/_sandbox/authorizations", timeout=60).json()
        return record

    def sdk(self, client: Callable[..., Client], principal: str = "admin") -> Client:
        """A real ARM SDK client (``WebSiteManagementClient``…) on the sandbox, as a person would use it: the
        sandbox's ``admin`` unless another seeded principal is named."""
        return client(
            self.admin if principal == "admin" else SandboxCredential(self.arm, self.ca_bundle, principal),
            self.subscription_id,
            base_url=self.arm,
            credential_scopes=[ARM_SCOPE],
            connection_verify=self.ca_bundle,
        )
