"""What ``kubelink`` prints, with Rich: the live step table of a run, link tables, the plan's diff, errors.

A terminal gets a table redrawn in place while a run goes on; a pipe or a log (the demo under CI) gets one line
per change instead, so the same follow code serves both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kubelink_cli.client import STEPS, ApiError, KubelinkClient, Run, RunFailure

STATE_STYLES = {"pending": "dim", "running": "bold cyan", "done": "green", "failed": "bold red"}
ACTION_STYLES = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red"), "none": ("=", "dim")}
READY_STYLES = {"True": "green", "False": "red", "Unknown": "yellow"}


def elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class StepsView:
    """The five steps of a run as customStatus reports them, with how long each has been (or was) running,
    measured from when this client first saw it running (none for a step that ended before it was seen)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.custom: dict[str, Any] = {}
        self.since = clock()
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}

    def update(self, custom: Mapping[str, Any]) -> None:
        now = self.clock()
        for step, state in (custom.get("steps") or {}).items():
            if state == "running":
                self.started.setdefault(step, now)
            elif state in {"done", "failed"} and step in self.started:
                self.ended.setdefault(step, now)
        self.custom = dict(custom)

    def line(self) -> str:
        """One line for a log: time since following began, the current step, its message, every state."""
        states = " ".join(f"{step}={state}" for step, state in (self.custom.get("steps") or {}).items())
        took = elapsed(self.clock() - self.since)
        return f"{took:>6} [{self.custom.get('step') or '-':15}] {self.custom.get('message')}  ({states})"

    def __rich__(self) -> Table:
        table = Table("step", "state", "elapsed", "message", box=None, pad_edge=False)
        steps: Mapping[str, str] = self.custom.get("steps") or {}
        current = self.custom.get("step")
        for step in STEPS:
            state = steps.get(step, "pending")
            since = self.started.get(step)
            took = "" if since is None else elapsed(self.ended.get(step, self.clock()) - since)
            message = str(self.custom.get("message") or "") if step == current else ""
            table.add_row(step, Text(state, STATE_STYLES.get(state, "")), took, message)
        return table


def follow_run(client: KubelinkClient, uri: str, console: Console, timeout: float, interval: float = 0.5) -> Run:
    """Follow a run's status URL, showing its steps live (a terminal) or a line per change (anything else)."""
    view = StepsView()
    if not console.is_terminal:

        def print_line(custom: dict[str, Any]) -> None:
            view.update(custom)
            console.print(view.line(), markup=False, highlight=False, soft_wrap=True)

        return client.follow(uri, timeout, on_change=print_line, interval=interval)
    with Live(view, console=console, refresh_per_second=4):
        return client.follow(uri, timeout, on_change=view.update, interval=interval)


def print_outcome(console: Console, status: Mapping[str, Any]) -> None:
    """A finished provisioning run: its private address and what each step did, or why it failed."""
    if status["runtimeStatus"] != "Completed":
        print_failure(console, status)
        return
    output = status.get("output") or {}
    table = Table("step", "result", box=None, pad_edge=False)
    for step in STEPS:
        result = (output.get("steps") or {}).get(step, "")
        table.add_row(step, Text(result, "green" if result in {"created", "updated"} else "dim"))
    console.print(
        Text.assemble(
            ("Completed", "bold green"), f": link {output.get('name')} → ", (str(output.get("privateAddress")), "bold")
        )
    )
    console.print(table)


def print_failure(console: Console, status: Mapping[str, Any]) -> None:
    failure = RunFailure.of(status)
    where = f" at step {failure.step}" if failure.step else ""
    console.print(
        Text.assemble(
            (status["runtimeStatus"], "bold red"), f"{where}: ", (failure.code, "bold"), f": {failure.message}"
        )
    )


def print_api_error(console: Console, error: ApiError) -> None:
    """kubelink's refusal as it gave it: code, message, every bad field."""
    console.print(
        Text.assemble(("Error ", "bold red"), f"{error.status} ", (error.code, "bold"), f": {error.error_message}")
    )
    for detail in error.details:
        console.print(Text.assemble("  ", (str(detail.get("field")), "yellow"), f": {detail.get('message')}"))
    if error.status_query_uri:
        console.print(f"  running: {error.status_query_uri}", markup=False)


def ready_condition(record: Mapping[str, Any]) -> dict[str, Any]:
    return next((c for c in record.get("conditions") or [] if c.get("type") == "Ready"), {})


def links_table(records: Iterable[Mapping[str, Any]]) -> Table:
    table = Table("NAME", "READY", "REASON", "PATH", "PRIVATE ADDRESS", "LAST VERIFIED", box=None, pad_edge=False)
    for record in records:
        ready = ready_condition(record)
        table.add_row(
            str(record["name"]),
            Text(ready.get("status", "Unknown"), READY_STYLES.get(ready.get("status", ""), "")),
            ready.get("reason", ""),
            (record.get("spec") or {}).get("integration", "gateway"),
            record.get("privateAddress") or "",
            record.get("lastVerified") or "never",
        )
    return table


def drift_table(records: Sequence[Mapping[str, Any]]) -> RenderableType:
    """One line per record, newest first: when, kind, resource and field, then expected → actual (red)."""
    if not records:
        return Text("no drift recorded", "dim")
    return Group(
        *(
            Text.assemble(
                (r["detectedAt"], "bold"),
                f"  {r['kind']:12} {_resource(r['resource'])} ",
                (_field(r["field"]), "yellow"),
                ": ",
                (_value(r.get("expected")), "green"),
                " → ",
                (_value(r.get("actual")), "red"),
                ("  remediated" if r.get("remediated") else "", "cyan"),
            )
            for r in records
        )
    )


def link_resources(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the link's runs read and write, named from its stored spec (defaults already filled in)."""
    kube, network, app = spec.get("kubernetes", {}), spec.get("network", {}), spec.get("app", {})
    gateway = spec.get("gateway", {})
    group, vnet = network.get("resourceGroup"), network.get("virtualNetwork")
    rows = [("Service", f"{kube.get('namespace', 'default')}/{kube.get('service')}"), ("VNet", f"{group}/{vnet}")]
    if spec.get("integration", "gateway") == "gateway":
        rows += [
            ("VPN gateway", f"{group}/{gateway.get('name')}"),
            ("public IP", f"{group}/{gateway.get('publicIpName')}"),
            ("gateway subnet", f"{group}/{vnet}/GatewaySubnet"),
        ]
    elif subnet := app.get("subnet"):
        rows.append(("app subnet", f"{group}/{vnet}/{subnet.get('name')} ({subnet.get('prefix')})"))
    rows.append(("app", f"{app.get('resourceGroup')}/{app.get('name')}"))
    rows.append(("app setting", str(app.get("setting"))))
    if dns := spec.get("dns"):
        rows.append(("private DNS", f"{dns.get('record')}.{dns.get('zone')}"))
    return rows


def describe(record: Mapping[str, Any], drift: Sequence[Mapping[str, Any]]) -> Group:
    spec = record.get("spec") or {}
    head = Table(box=None, show_header=False, pad_edge=False)
    for label, value in (
        ("Name", record["name"]),
        ("Path", spec.get("integration", "gateway")),
        ("Private address", record.get("privateAddress") or "—"),
        ("Last provisioned", record.get("lastProvisioned") or "never"),
        ("Last verified", record.get("lastVerified") or "never"),
    ):
        head.add_row(Text(label, "bold"), str(value))
    conditions = [
        Text.assemble(
            "  ",
            (c["type"], "bold"),
            " ",
            (c["status"], READY_STYLES.get(c["status"], "")),
            f" ({', '.join(filter(None, (c.get('severity'), c.get('reason'))))}",
            f", since {c.get('lastTransitionTime')}): ",
            c.get("message", ""),
        )
        for c in record.get("conditions") or []
    ]
    resources = Table("RESOURCE", "NAME", box=None, pad_edge=False)
    for kind, name in link_resources(spec):
        resources.add_row(kind, name)
    return Group(
        head,
        Text("\nConditions", "bold"),
        *conditions,
        Text("\nResources", "bold"),
        resources,
        Text(f"\nRecent drift ({len(drift)})", "bold"),
        drift_table(drift),
    )


def plan_diff(changes: Sequence[Mapping[str, Any]]) -> Group:
    """The plan as a diff: one line per resource (+ create, ~ update, = unchanged), then each differing field
    with the value Azure has now (red) and the one the run would write (green)."""
    lines: list[RenderableType] = []
    for change in changes:
        sign, style = ACTION_STYLES.get(change["action"], ("?", ""))
        lines.append(Text(f"{sign} {change['step']:16} {_resource(change['resource'])} ({change['action']})", style))
        for item in change.get("fields") or []:
            lines.append(
                Text.assemble(
                    f"    {_field(item['field'])}: ",
                    (_value(item.get("actual")), "red"),
                    " → ",
                    (_value(item.get("expected")), "green"),
                )
            )
    counts = {action: sum(1 for c in changes if c["action"] == action) for action in ("create", "update", "none")}
    lines.append(
        Text(f"\n{counts['create']} to create, {counts['update']} to update, {counts['none']} unchanged", "bold")
    )
    return Group(*lines)


def _resource(resource: str) -> str:
    """An ARM id without its subscription, group and provider namespace (``virtualNetworks/kube-vnet``); -o json
    keeps the whole id."""
    _, providers, rest = resource.rpartition("/providers/")
    return rest.split("/", 1)[-1] if providers else resource


def _field(field: Any) -> str:
    """A field path as the API gives it: a dotted string, or a list of parts."""
    return ".".join(str(part) for part in field) if isinstance(field, list) else str(field)


def _value(value: Any) -> str:
    return "—" if value is None else value if isinstance(value, str) else json.dumps(value)
