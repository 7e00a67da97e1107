"""Pre-flight: read Azure and refuse, before any write, a link that only Azure can tell is impossible.

Every problem is reported at once (``PreflightFailed`` with one ``details`` entry per spec field), so a
user fixes the spec in one go instead of discovering the problems one failed step at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df

from activities.contract import Payload, run_activity
from activities.observe import observe_preflight_facts
from kubelink.desired.preflight import (
    MANAGED_GROUP_CODE,
    check_managed_groups,
    check_preflight,
    preflight_warnings,
)
from kubelink.errors import PermanentError
from kubelink.progress import Step

if TYPE_CHECKING:
    from kubelink.spec import LinkSpec

STEP = Step.PREFLIGHT

bp = df.Blueprint()


@bp.activity_trigger(input_name="payload")
def preflight(payload: dict[str, Any]) -> dict[str, Any]:
    """``{"spec"}`` → ``{"facts", "warnings"}``, or a permanent ``PreflightFailed`` naming every problem."""
    return run_activity(STEP, payload, _preflight)


def _preflight(spec: LinkSpec, payload: Payload) -> dict[str, Any]:
    facts = observe_preflight_facts(spec)
    problems = check_preflight(spec, facts)
    if problems:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise PermanentError(
            MANAGED_GROUP_CODE if check_managed_groups(spec, facts) else "PreflightFailed",
            f"link {spec.name} cannot be provisioned: {summary}",
            step=STEP,
            details=problems,
        )
    return {"facts": facts.to_json(), "warnings": preflight_warnings(spec, facts, datetime.now(UTC).date())}
