"""Comparing ARM bodies across writes: what ARM changes on every write (``etag``) taken out."""

from __future__ import annotations

from typing import Any


def without_etags(node: Any) -> Any:
    """``node`` with every ``etag`` key removed, at any depth."""
    if isinstance(node, dict):
        return {k: without_etags(v) for k, v in node.items() if k != "etag"}
    if isinstance(node, list):
        return [without_etags(v) for v in node]
    return node
