"""ARM list answers: ``{"value": [...], "nextLink": ...}`` pages, and the scopes a list covers.

ARM pages long lists and hands the rest of the list behind ``nextLink`` (an absolute URL carrying the same
api-version and a ``$skiptoken``); clients follow it until it is absent (azure-core's ``ItemPaged``, the az CLI).
The page size is the sandbox's ``Settings.list_page_size``; the tokens are offsets, opaque to clients.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from . import ids
from .arm_errors import bad_request
from .routing import Request, Response, json_response
from .state import Json, SandboxState

SKIP_TOKEN = "$skiptoken"


def page(req: Request, items: list[Json], page_size: int) -> Response:
    """One page of ``items`` from the offset in ``$skiptoken``, with ``nextLink`` while more remain."""
    raw = req.query.get(SKIP_TOKEN, "0")
    if not raw.isdigit():
        raise bad_request("InvalidSkipToken", f"The skip token '{raw}' is not valid.")
    start = int(raw)
    end = start + max(1, page_size)
    body: Json = {"value": items[start:end]}
    if end < len(items):
        query = {k: v for k, v in req.query.items() if k != SKIP_TOKEN}
        body["nextLink"] = f"{req.base_url}{req.path}?{urlencode({**query, SKIP_TOKEN: end})}"
    return json_response(200, body)


def in_scope(world: SandboxState, full_type: str, resource_group: str | None) -> Iterable[Json]:
    """Resources of one type in the subscription, or in one resource group when it is named."""
    prefix = ids.key(ids.rg_id(world.subscription_id, resource_group)) + "/" if resource_group else ""
    for resource in world.of_type(full_type):
        if ids.key(resource["id"]).startswith(prefix):
            yield resource
