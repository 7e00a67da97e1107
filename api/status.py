"""GET /api/status: a read-only status page of every link (README "Status page").

The page is one self-contained HTML document: its script and style are inlined and allowed by hash in a
Content-Security-Policy that permits nothing else, so it loads nothing from outside the app and fetches only
kubelink's own JSON routes (``GET /api/links``, ``GET /api/links/{name}/drift``), passing on the function key
it was opened with. It is assembled once per worker, from files read on the first request, not at cold start.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()
PAGE_DIR = Path(__file__).with_name("status_page")


@bp.route(route="status", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def status_page(req: func.HttpRequest) -> func.HttpResponse:
    """The status page; it refreshes itself from the JSON routes (``?refresh=SECONDS``, default 10)."""
    html, policy = _page()
    headers = {"Content-Security-Policy": policy, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return func.HttpResponse(html, mimetype="text/html", charset="utf-8", headers=headers)


@functools.cache
def _page() -> tuple[bytes, str]:
    """The page with its script and style inlined, and the policy allowing exactly those two."""
    script, style = (PAGE_DIR / "page.js").read_text(), (PAGE_DIR / "page.css").read_text()
    html = (PAGE_DIR / "index.html").read_text().replace("{{style}}", style).replace("{{script}}", script)
    policy = (
        f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html.encode(), policy


def _hash(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"
