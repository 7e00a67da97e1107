"""The rooms of the house (docs/architecture.md), checked on the import graph with ``ast``.

Every ``import`` and ``from … import`` of a module counts, at any depth (lazy imports inside functions
included): a lazy import still ties the pure core to what it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: top-level names that mean I/O, an SDK, or a layer above
SDKS = {"azure", "kubernetes", "requests", "urllib3", "aiohttp", "yaml"}
IO = {"os", "sys", "socket", "ssl", "subprocess", "time", "threading", "asyncio", "logging", "sqlite3", "http"}
IO_SUBMODULES = {"urllib.request", "email.utils"}
UPPER = {"activities", "orchestrators", "api", "adapters", "local", "function_app", "tests", "benchmarks"}

#: room → the top-level names its modules may not import
RULES: dict[str, set[str]] = {
    "kubelink": SDKS | IO | UPPER,
    "adapters": {"activities", "orchestrators", "api", "local", "function_app", "tests"},
    "activities": {"orchestrators", "api", "local", "function_app", "tests"},
    "orchestrators": {"api", "local", "function_app", "tests"},
    "api": {"local", "function_app", "tests"},
    # the command-line client speaks HTTP only: it ships alone (pyproject.toml) and imports nothing of the app
    "kubelink_cli": {"kubelink", "activities", "orchestrators", "api", "adapters", "local", "function_app", "tests"},
}


def imported_names(path: Path) -> set[str]:
    """Every module name a file imports (``a.b.c`` for ``from a.b import c`` and ``import a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(room: str) -> list[str]:
    forbidden = RULES[room]
    found = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for name in imported_names(path):
            top = name.split(".")[0]
            if top in forbidden or (room == "kubelink" and name in IO_SUBMODULES):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("room", sorted(RULES))
def test_room_imports_nothing_above_it(room: str) -> None:
    assert violations(room) == []


def test_the_rule_sees_a_lazy_import(tmp_path: Path) -> None:
    """The checker itself: an import inside a function body is found."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from activities.arm import read\n    import os.path\n")
    assert imported_names(module) == {"activities.arm", "os.path"}


def test_every_package_is_in_a_room() -> None:
    """A new top-level package must be given a room here before it can hold product code."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - set(RULES) <= {"local", "tests"}
