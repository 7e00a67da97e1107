"""The link record at the end of a provisioning run: ``Ready``, ``privateAddress``, ``lastProvisioned``.

The HTTP starter records the spec and a ``Provisioning`` condition when it starts a run; these two
activities close it, so ``GET /api/links/{name}`` always tells how the last run ended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df

from kubelink.conditions import READY, Condition, utc_timestamp
from kubelink.store import LinkStore

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def record_link_ready(payload: dict[str, Any]) -> dict[str, Any]:
    output = payload["output"]
    ready = Condition(READY, "True", "Provisioned", f"The app reaches {output['privateAddress']} privately", "Info")
    LinkStore.from_env().upsert_link(
        output["name"],
        spec=payload["spec"],
        private_address=output["privateAddress"],
        last_provisioned=utc_timestamp(datetime.now(UTC)),
        last_output=output,
        last_error=None,
        conditions=[ready],
    )
    return {"ok": True}


@bp.activity_trigger(input_name="payload")
def record_link_failed(payload: dict[str, Any]) -> dict[str, Any]:
    error = payload["error"]
    failed = Condition(
        READY,
        "False",
        "ProvisioningFailed",
        f"Step {payload['step']} failed: {error['code']}: {error['message']}",
        "Error",
    )
    name = payload["spec"]["name"]
    LinkStore.from_env().upsert_link(name, spec=payload["spec"], last_error=error, conditions=[failed])
    return {"ok": True}
