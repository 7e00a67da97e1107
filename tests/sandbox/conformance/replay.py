"""Replay recorded ARM traffic against the sandbox and say, exchange by exchange, where its answers differ.

A recording (vcrpy cassette or REST-spec example, tests/data/recordings/MANIFEST.md) is cut into *exchanges*: a
request the client chose to send, plus the operation polls that followed it. Each request is sent to the sandbox
with the recording's ids rewritten into the sandbox's world; the sandbox's own operation URLs are then polled the
way the recorded client polled Azure's. Compared, per exchange:

- ``status``: the HTTP status code;
- ``lro``: which of ``Azure-AsyncOperation``, ``Location``, ``Azure-AsyncNotification`` came back (``Retry-After``
  is left out: the Python SDK and az CLI recorders strip it);
- ``body``: the JSON type of the body, its top-level keys and its ``properties`` keys (``missing``: recorded but not
  answered; ``extra``: answered but not recorded), and the provisioning state or operation status;
- ``polls``: the poll sequence by shape: the shape (status code, LRO headers) of a running operation's poll when
  the recording has one, and the terminal poll's status code and operation status. Run lengths are not compared
  (Azure polled a gateway 217 times over 37 minutes; the sandbox takes a second).

Each difference is a ``Difference(source, exchange, aspect, detail)``; the test compares them with an explicit
allow-list, so a new difference fails it.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml

from local.world_client import SandboxCredential

RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "recordings"
RECORDED_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
LRO_HEADERS = ("azure-asyncoperation", "location", "azure-asyncnotification")
#: Paths of operation status monitors and results: polls, not requests the client chose.
POLL_PATH = re.compile(
    r"/(operations|operationResults|nfvOperations|privateDnsOperationStatuses|privateDnsOperationResults)/[^/]+$",
    re.IGNORECASE,
)
POLL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Difference:
    source: str  # the recording's path under tests/data/recordings
    exchange: str  # "3 PUT virtualNetworks" (index in the recording, method, resource kind)
    aspect: str  # status | lro | body.keys | body.properties | body.state | body.type | polls
    detail: str

    def __str__(self) -> str:
        return f"{self.source} #{self.exchange} {self.aspect}: {self.detail}"


@dataclass
class Answer:
    """What one side (recording or sandbox) answered to one exchange."""

    status: int
    headers: frozenset[str]
    body: Any
    polls: list[tuple[int, frozenset[str], str | None]] = field(default_factory=list)
    #: the LRO headers' values (to follow them; not compared)
    urls: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Exchange:
    index: int
    method: str
    url: str  # as recorded
    body: Any
    request_headers: dict[str, str]
    recorded: Answer


@dataclass(frozen=True)
class Recording:
    """One vendored recording and how its world maps onto the sandbox's."""

    path: str  # relative to RECORDINGS
    #: recorded name → sandbox name (resource groups, apps, plans), applied to paths and bodies
    names: dict[str, str] = field(default_factory=dict)
    #: resource groups the recording created before its first request (made in the sandbox first), and their tags
    groups: tuple[str, ...] = ()
    group_tags: dict[str, str] | None = None
    #: request body rewrites for values Azure itself no longer accepts (kind → function)
    modernise: Callable[[str, Any], Any] | None = None

    @property
    def file(self) -> Path:
        return RECORDINGS / self.path


@dataclass
class Figures:
    interactions: int = 0  # recorded request/response pairs, polls included
    exchanges: int = 0  # of them, requests the client chose (each replayed, its polls compared by shape)
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)


class Arm:
    """Raw HTTPS calls to the sandbox as its ``admin`` (Owner of the subscription), with a token it issued."""

    def __init__(self, base_url: str, ca_bundle: Path) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.http.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides ``verify``
        self.http.verify = str(ca_bundle)
        self.http.headers["Authorization"] = f"Bearer {SandboxCredential(base_url, str(ca_bundle)).token()}"

    def call(self, method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        target = url if url.startswith("https://") else self.base + url
        response = self.http.request(method, target, json=body, headers=headers or {})
        urls = {k.lower(): v for k, v in response.headers.items() if k.lower() in LRO_HEADERS}
        return Answer(response.status_code, _lro(response.headers), _json(response.content), urls=urls)


# --- reading recordings --------------------------------------------------------------------------------


def load_cassette(path: Path) -> list[Exchange]:
    """A vcrpy cassette as exchanges: each non-poll request with the polls that followed it."""
    interactions: list[dict[str, Any]] = yaml.safe_load(path.read_text())["interactions"]
    exchanges: list[Exchange] = []
    for index, item in enumerate(interactions):
        request, response = item["request"], item["response"]
        answer = Answer(response["status"]["code"], _lro(response["headers"]), _json_text(response["body"]["string"]))
        if POLL_PATH.search(urlsplit(request["uri"]).path):
            if exchanges:
                exchanges[-1].recorded.polls.append(_poll_shape(answer))
            continue
        headers = {k: v[0] if isinstance(v, list) else v for k, v in (request.get("headers") or {}).items()}
        exchanges.append(
            Exchange(
                index,
                request["method"],
                request["uri"],
                _request_body(request["body"]),
                {k: v for k, v in headers.items() if k.lower() in ("if-match", "if-none-match")},
                answer,
            )
        )
    return exchanges


def load_example(path: Path, method: str, url: str) -> list[Exchange]:
    """A REST-spec ``x-ms-examples`` file as one exchange; the answer to match is any of its responses."""
    example = json.loads(path.read_text())
    codes = sorted(int(c) for c in example["responses"])
    first = example["responses"][str(codes[-1])]
    recorded = Answer(codes[-1], _lro(first.get("headers") or {}), first.get("body"))
    body = next((v for k, v in example["parameters"].items() if isinstance(v, dict)), None)
    return [Exchange(0, method, url, body, {}, recorded)]


def _request_body(raw: Any) -> Any:
    if not raw:
        return None
    if isinstance(raw, str) and raw.startswith("b'"):
        raw = ast.literal_eval(raw).decode()
    return json.loads(raw)


def _json_text(text: Any) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json(content: bytes) -> Any:
    return _json_text(content.decode()) if content else None


def _lro(headers: Any) -> frozenset[str]:
    return frozenset(h.lower() for h in headers if h.lower() in LRO_HEADERS)


def _poll_shape(answer: Answer) -> tuple[int, frozenset[str], str | None]:
    status = answer.body.get("status") if isinstance(answer.body, dict) else None
    return (answer.status, answer.headers - {"azure-asyncnotification"}, status)


# --- replaying ----------------------------------------------------------------------------------------


def rewrite(value: Any, recording: Recording, subscription: str) -> Any:
    """A recorded path or body in the sandbox's world: its subscription, and the mapped names."""
    text = json.dumps(value).replace(RECORDED_SUBSCRIPTION, subscription)
    for recorded, sandbox in recording.names.items():
        text = re.sub(rf"(?<=/){re.escape(recorded)}(?=[/?\"]|$)", sandbox, text)
    return json.loads(text)


def replay(arm: Arm, subscription: str, recording: Recording, exchanges: list[Exchange]) -> Iterator[Answer]:
    """Send each exchange's request to the sandbox and follow its operation URLs; yield its answers."""
    for group in recording.groups:
        body: Any = {"location": "westeurope"}
        if recording.group_tags is not None:
            body["tags"] = recording.group_tags
        made = arm.call(
            "PUT", f"/subscriptions/{subscription}/resourcegroups/{group}?api-version=2021-04-01", body=body
        )
        assert made.status in (200, 201), f"could not create the recorded group {group}: {made.status}"
    for exchange in exchanges:
        url = urlsplit(exchange.url)
        path = rewrite(url.path, recording, subscription)
        query = "&".join(f"{k}={v}" for k, v in parse_qsl(url.query))
        body = exchange.body
        if body is not None and recording.modernise is not None:
            body = recording.modernise(kind_of(url.path), body)
        body = rewrite(body, recording, subscription) if body is not None else None
        answer = arm.call(exchange.method, f"{path}?{query}", body=body, headers=exchange.request_headers)
        answer.polls = list(_follow(arm, answer, exchange.method))
        yield answer


def _follow(arm: Arm, first: Answer, method: str) -> Iterator[tuple[int, frozenset[str], str | None]]:
    """Poll as the SDKs do: the status monitor (``Azure-AsyncOperation``) when there is one, else ``Location``
    until it stops answering 202. Polled at once, then every 50 ms, so a running operation is seen running."""
    monitor = first.urls.get("azure-asyncoperation")
    url = monitor or (first.urls.get("location") if first.status == 202 else None)
    deadline = time.monotonic() + POLL_TIMEOUT
    while url and time.monotonic() < deadline:
        polled = arm.call("GET", url)
        shape = _poll_shape(polled)
        yield shape
        running = shape[2] == "InProgress" if monitor else polled.status == 202
        if not running:
            return
        time.sleep(0.05)


# --- comparing ----------------------------------------------------------------------------------------


def kind_of(path: str) -> str:
    """The resource type chain a path names: ``virtualNetworks/subnets``, ``resourcegroups``, or with an action
    ``virtualNetworks/CheckIPAddressAvailability``."""
    parts = [p for p in path.split("/") if p]
    rest = parts[parts.index("providers") + 2 :] if "providers" in parts else parts[2:]
    return "/".join(rest[0::2]) or "subscription"


def compare(source: str, exchange: Exchange, actual: Answer) -> list[Difference]:
    """Every way the sandbox's answer differs from the recorded one (empty when it matches)."""
    expected = exchange.recorded
    name = f"{exchange.index} {exchange.method} {kind_of(urlsplit(exchange.url).path)}"
    found: list[Difference] = []

    def differ(aspect: str, detail: str) -> None:
        found.append(Difference(source, name, aspect, detail))

    if actual.status != expected.status:
        differ("status", f"recorded {expected.status}, sandbox {actual.status}")
    if actual.headers != expected.headers:
        differ("lro", f"recorded {sorted(expected.headers)}, sandbox {sorted(actual.headers)}")
    _compare_bodies(expected.body, actual.body, differ)
    _compare_polls(expected.polls, actual.polls, differ)
    return found


def _compare_bodies(expected: Any, actual: Any, differ: Callable[[str, str], None]) -> None:
    if type(expected) is not type(actual):
        differ("body.type", f"recorded {type(expected).__name__}, sandbox {type(actual).__name__}")
        return
    if isinstance(expected, dict):
        _compare_keys("body.keys", expected, actual, differ)
        props_e, props_a = expected.get("properties"), actual.get("properties")
        if isinstance(props_e, dict) and isinstance(props_a, dict):
            _compare_keys("body.properties", props_e, props_a, differ)
        state_e, state_a = _state(expected), _state(actual)
        if state_e != state_a:
            differ("body.state", f"recorded {state_e}, sandbox {state_a}")
        if isinstance(expected.get("value"), list) and isinstance(actual.get("value"), list):
            # a list entry against the sandbox's entry of the same name (lists hold different worlds' resources)
            answered = {e.get("name"): e for e in actual["value"] if isinstance(e, dict)}
            pair = next(((e, answered[e.get("name")]) for e in expected["value"] if e.get("name") in answered), None)
            if pair is not None:
                _compare_bodies(*pair, differ)


def _compare_keys(aspect: str, expected: dict[str, Any], actual: dict[str, Any], differ: Callable[..., None]) -> None:
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    if missing:
        differ(aspect, f"missing {missing}")
    if extra:
        differ(aspect, f"extra {extra}")


def _state(body: dict[str, Any]) -> Any:
    return body.get("status") or (body.get("properties") or {}).get("provisioningState")


def _compare_polls(
    expected: list[tuple[int, frozenset[str], str | None]],
    actual: list[tuple[int, frozenset[str], str | None]],
    differ: Callable[[str, str], None],
) -> None:
    if not expected:
        if actual and actual[-1][2] not in (None, "Succeeded"):
            differ("polls", f"none recorded, the sandbox's ended {actual[-1]}")
        return
    if not actual:
        differ("polls", f"recorded {len(expected)} polls, the sandbox gave nothing to poll")
        return
    running_e = [p for p in expected if p[2] == "InProgress" or (p[2] is None and p[0] == 202)]
    running_a = [p for p in actual if p[2] == "InProgress" or (p[2] is None and p[0] == 202)]
    if running_e and running_a and _shape(running_e[0]) != _shape(running_a[0]):
        differ("polls", f"running: recorded {_shape(running_e[0])}, sandbox {_shape(running_a[0])}")
    if running_e and not running_a:
        differ("polls", "the recording polled a running operation; the sandbox's was already done")
    if _shape(expected[-1]) != _shape(actual[-1]):
        differ("polls", f"last: recorded {_shape(expected[-1])}, sandbox {_shape(actual[-1])}")


def _shape(poll: tuple[int, frozenset[str], str | None]) -> str:
    status, headers, state = poll
    return f"{status} {sorted(headers)} {state}"
