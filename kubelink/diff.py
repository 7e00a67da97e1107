"""Small immutable diff records, one per differing field (after kopf's ``DiffItem``).

One diff serves provisioning (apply what differs), plan (report it) and drift (record it), so the
three can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

DiffOp = Literal["add", "change", "remove"]


@dataclass(frozen=True)
class DiffItem:
    op: DiffOp
    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """The plan/drift shape: ``{field, expected, actual}``."""
        return {"field": self.field, "expected": self.new, "actual": self.old}

    @staticmethod
    def from_json(body: Mapping[str, Any]) -> DiffItem:
        old, new = body.get("actual"), body.get("expected")
        op: DiffOp = "add" if old is None else "remove" if new is None else "change"
        return DiffItem(op, body["field"], old, new)


def diff_fields(desired: Mapping[str, Any], actual: Mapping[str, Any] | None) -> tuple[DiffItem, ...]:
    """Compare the fields kubelink owns; keys absent from ``desired`` are not ours and never compared."""
    actual = actual or {}
    items: list[DiffItem] = []
    for name, want in desired.items():
        have = actual.get(name)
        if _normalise(want) == _normalise(have):
            continue
        op: DiffOp = "add" if have is None else "remove" if want is None else "change"
        items.append(DiffItem(op, name, have, want))
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
