"""``examples/link.json`` (the spec the demo posts, which works against the seeded sandbox) as the base of the
tests' link specs, so a change to the example is a change every suite sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLE_PATH = Path(__file__).resolve().parents[1] / "examples" / "link.json"


def example_link(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the example with top-level fields replaced."""
    body: dict[str, Any] = json.loads(EXAMPLE_PATH.read_text())
    return {**body, **changes}
