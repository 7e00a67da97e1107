"""The status page as served: its inline script and style are exactly what the Content-Security-Policy allows,
and it refers to nothing outside the app (the browser test in tests/cli drives the page itself)."""

from __future__ import annotations

import base64
import hashlib
import re

from api.status import _page


def _sha256(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"


def test_the_policy_allows_exactly_the_inline_script_and_style() -> None:
    html_bytes, policy = _page()
    html = html_bytes.decode()
    [script] = re.findall(r"<script>(.*?)</script>", html, re.S)
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == _sha256(script)
    assert directives["style-src"] == _sha256(style)
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert "{{" not in html


def test_the_page_names_no_outside_address() -> None:
    html = _page()[0].decode()
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?!data:)[^"'\s>]+""", html) == []
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", html) == []
