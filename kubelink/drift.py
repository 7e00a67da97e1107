"""Drift: what a verification found, as the records users read at ``GET /api/links/{name}/drift``.

Pure. The checks themselves are the provisioning code's observe → diff (``ResourceChange``), run without
writing; this module only turns their differences and the probe's answer into one record per differing
field, and into the verdict for the link's ``Ready`` condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from kubelink.diff import DiffItem, ResourceChange

DriftKind = Literal["config", "connectivity"]

#: what App Service restarts the app for (docs/azure.md §17: creating or changing an app setting restarts it; enabling
#: regional integration restarts it; silent for gateway-required integration's connection and package hand-off, which
#: kubelink counts as restarting to be safe)
_RESTARTING = ("/config/appsettings", "/networkconfig/virtualnetwork", "/virtualnetworkconnections/")


def remediation_policy(remediate: object) -> Literal["all", "safe", "none"]:
    """A spec's ``remediate`` as a policy (``true`` keeps meaning "fix everything"), read from the JSON so that an
    orchestrator needs no model."""
    if remediate == "safe":
        return "safe"
    return "all" if remediate is True else "none"


def restarts_app(resource: str) -> bool:
    """Whether fixing ``resource`` writes something that restarts the app."""
    return any(part in resource.lower() for part in _RESTARTING)


@dataclass(frozen=True)
class DriftRecord:
    """One differing field of one resource at one verification (README, "Drift")."""

    link: str
    detected_at: str
    kind: DriftKind
    resource: str
    field: str
    expected: Any
    actual: Any
    remediated: bool = False
    #: fixing it restarts the app (``restarts_app``): ``remediate: "safe"`` only reports it
    restarts_app: bool = False
    #: ``owned`` (this link created the resource) or ``adopted`` (``kubelink.ownership``); None when not known
    ownership: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "detectedAt": self.detected_at,
            "kind": self.kind,
            "resource": self.resource,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "remediated": self.remediated,
            "restartsApp": self.restarts_app,
            "ownership": self.ownership,
        }

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> DriftRecord:
        return DriftRecord(
            link=body["link"],
            detected_at=body["detectedAt"],
            kind=body["kind"],
            resource=body["resource"],
            field=body["field"],
            expected=body.get("expected"),
            actual=body.get("actual"),
            remediated=bool(body.get("remediated", False)),
            restarts_app=bool(body.get("restartsApp", False)),
            ownership=body.get("ownership"),
        )


@dataclass(frozen=True)
class ProbeOutcome:
    """The answer of ``GET https://{defaultHostName}{probe.path}``: status and latency, never a body or header."""

    url: str
    expect_status: int
    status: int | None
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == self.expect_status

    @property
    def observed(self) -> int | str:
        """What the record shows as ``actual``: the status, or why there was none (e.g. ``ConnectTimeout``)."""
        if self.status is not None:
            return self.status
        return self.error or "NoResponse"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "url": self.url,
            "expectStatus": self.expect_status,
            "status": self.status,
            "latencyMs": round(self.latency_ms, 1),
        }
        if self.error:
            body["error"] = self.error
        return body

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> ProbeOutcome:
        return ProbeOutcome(
            url=body["url"],
            expect_status=int(body["expectStatus"]),
            status=body.get("status"),
            latency_ms=float(body.get("latencyMs", 0.0)),
            error=body.get("error"),
        )


def change_from_json(row: Mapping[str, Any]) -> ResourceChange:
    """A plan row (``ResourceChange.to_json``) back into the change, as it crosses the activity boundary."""
    fields = tuple(DiffItem.from_json(f) for f in row.get("fields", ()))
    return ResourceChange(row["step"], row["resource"], row["action"] != "create", fields)


def drift_records(
    link: str,
    detected_at: str,
    changes: Iterable[ResourceChange],
    probe: ProbeOutcome | None,
    ownership: Mapping[str, str] | None = None,
) -> list[DriftRecord]:
    """One ``config`` record per differing field (a missing resource is one record, ``exists``), plus one
    ``connectivity`` record when the probe did not get the expected status. ``ownership`` maps a resource to
    ``owned``/``adopted`` (the verification's labelled rows)."""
    records: list[DriftRecord] = []
    for change in changes:
        restarts, owned = restarts_app(change.resource), (ownership or {}).get(change.resource)
        if not change.exists:
            records.append(
                DriftRecord(link, detected_at, "config", change.resource, "exists", True, False, False, restarts, owned)
            )
            continue
        records.extend(
            DriftRecord(
                link,
                detected_at,
                "config",
                change.resource,
                item.field_text,
                item.new,
                item.old,
                False,
                restarts,
                owned,
            )
            for item in change.changes
        )
    if probe is not None and not probe.ok:
        records.append(
            DriftRecord(link, detected_at, "connectivity", probe.url, "status", probe.expect_status, probe.observed)
        )
    return records


def checked_drift(
    link: str, detected_at: str, checks: Iterable[Mapping[str, Any]], probe: ProbeOutcome | None
) -> list[DriftRecord]:
    """``drift_records`` of a verification's labelled plan rows (``Ownership.label``), as they cross the activity
    boundary: the per-link verification and the fleet sweep both record drift through here."""
    rows = list(checks)
    owned = {str(row["resource"]): str(row["ownership"]) for row in rows if row.get("ownership")}
    return drift_records(link, detected_at, [change_from_json(row) for row in rows], probe, owned)


def mark_remediated(records: Iterable[DriftRecord], policy: str = "all") -> list[DriftRecord]:
    """The same records, saying a re-provisioning run was started (or already running) for those it fixes: all of
    them, or under the ``safe`` policy those whose fix does not restart the app."""
    return [replace(r, remediated=True) if policy == "all" or _safe_fix(r) else r for r in records]


def remediable(records: Iterable[DriftRecord], policy: str) -> bool:
    """Whether a re-provisioning run has anything to fix under ``policy`` (``all``, ``safe``, ``none``). A failed
    probe is fixed by fixing the configuration behind it, so under ``safe`` it alone starts nothing."""
    if policy == "all":
        return any(True for _ in records)
    return policy == "safe" and any(_safe_fix(r) for r in records)


def _safe_fix(record: DriftRecord) -> bool:
    return record.kind == "config" and not record.restarts_app


@dataclass(frozen=True)
class Verdict:
    """What a verification means for the link's ``Ready`` condition."""

    ready: bool
    reason: str
    message: str
    severity: Literal["Info", "Warning", "Error"]


def verdict(records: list[DriftRecord]) -> Verdict:
    """Healthy when nothing differs; otherwise say what drifted, what the probe saw, and whether a fix is under way."""
    if not records:
        return Verdict(True, "Verified", "Every check matched the provisioned state", "Info")
    fields = ", ".join(sorted({r.field for r in records if r.kind == "config"}))
    probe = next((r for r in records if r.kind == "connectivity"), None)
    if probe is not None:
        reason = "Unreachable"
        message = f"The app does not reach the private service (GET {probe.resource}: {probe.actual})"
        message += f"; drifted: {fields}" if fields else ""
    else:
        reason, message = "Drifted", f"The link no longer matches its provisioned state: {fields}"
    if all(r.remediated for r in records):
        return Verdict(False, "Remediating", f"{message}; re-provisioning was started", "Warning")
    if any(r.remediated for r in records):
        left = ", ".join(sorted({r.field for r in records if not r.remediated}))
        message += f"; re-provisioning fixes what does not restart the app, and leaves {left} to you"
        return Verdict(False, reason, message, "Error")
    return Verdict(False, reason, message, "Error")
