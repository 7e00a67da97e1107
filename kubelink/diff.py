"""Small immutable diff records, one per differing field (after kopf's ``DiffItem``), and the change to one
resource they add up to.

One diff serves provisioning (apply what differs), plan (report it) and drift (record it), so the three can never
disagree. A field is a path tuple (``("properties", "delegations", "Microsoft.Web/serverFarms")``), rendered as text
once, by :func:`render_path`, where a plan row or a drift record shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

DiffOp = Literal["add", "change", "remove"]
Action = Literal["create", "update", "none"]
Result = Literal["created", "updated", "unchanged"]
FieldPath = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SEGMENT = re.compile(r"\[([^\]]*)\]|\.?([A-Za-z_][A-Za-z0-9_]*)")
_RESULTS: dict[Action, Result] = {"create": "created", "update": "updated", "none": "unchanged"}


def render_path(path: FieldPath) -> str:
    """``a.b[Microsoft.Web/serverFarms][0]``: identifiers joined by dots, anything else (names with dots, dashes or
    slashes, list indexes) in brackets, so the text parses back to the same tuple."""
    text = ""
    for segment in path:
        if isinstance(segment, str) and _IDENTIFIER.match(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{segment}]"
    return text


def parse_path(text: str) -> FieldPath:
    """The inverse of :func:`render_path`."""
    segments: list[str | int] = []
    for bracketed, plain in _SEGMENT.findall(text):
        if plain:
            segments.append(plain)
        else:
            segments.append(int(bracketed) if bracketed.isdigit() else bracketed)
    return tuple(segments)


def path(dotted: str) -> FieldPath:
    """A path written as plain dotted identifiers (``"properties.addressPrefix"``), for readable call sites."""
    return tuple(dotted.split("."))


@dataclass(frozen=True)
class DiffItem:
    op: DiffOp
    field: FieldPath
    old: Any
    new: Any

    @property
    def field_text(self) -> str:
        return render_path(self.field)

    def to_json(self) -> dict[str, Any]:
        """The plan/drift shape: ``{field, op, expected, actual}``."""
        return {"field": self.field_text, "op": self.op, "expected": self.new, "actual": self.old}

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> DiffItem:
        return DiffItem(body["op"], parse_path(body["field"]), body.get("actual"), body.get("expected"))


@dataclass(frozen=True)
class ResourceChange:
    """What provisioning does (or would do) to one resource: a plan row and an activity's ``result``."""

    step: str
    resource: str
    exists: bool
    changes: tuple[DiffItem, ...]

    @property
    def action(self) -> Action:
        if not self.exists:
            return "create"
        return "update" if self.changes else "none"

    @property
    def result(self) -> Result:
        return _RESULTS[self.action]

    def to_json(self) -> dict[str, Any]:
        """The ``POST /api/plan`` row: ``{step, resource, action, fields}``."""
        return {
            "step": self.step,
            "resource": self.resource,
            "action": self.action,
            "fields": [item.to_json() for item in self.changes],
        }


def diff_op(have: Any, want: Any) -> DiffOp:
    return "add" if have is None else "remove" if want is None else "change"


def diff_fields(desired: Mapping[str, Any], actual: Mapping[str, Any] | None) -> tuple[DiffItem, ...]:
    """Compare the fields kubelink owns, keyed by dotted path; keys absent from ``desired`` are not ours and never
    compared."""
    actual = actual or {}
    items: list[DiffItem] = []
    for name, want in desired.items():
        have = actual.get(name)
        if _normalise(want) == _normalise(have):
            continue
        items.append(DiffItem(diff_op(have, want), path(name), have, want))
    return tuple(items)


def _normalise(value: Any) -> Any:
    """Order-insensitive for lists of scalars, case-insensitive for strings (ARM ids and enums)."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, Mapping):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        normalised = [_normalise(v) for v in value]
        try:
            return sorted(normalised)
        except TypeError:
            return normalised
    return value
