"""kubelink's face: the Durable Functions app and its blueprints, nothing else.

Each step lives one hop from here: HTTP routes and the drift timer in ``api/``, orchestrations in
``orchestrators/``, and the Azure/Kubernetes work in ``activities/`` (one module per concern). Imported on
every cold start, so nothing below imports an Azure or Kubernetes SDK at module level.
"""

import azure.durable_functions as df
import azure.functions as func

from activities import (
    app_setting,
    dns,
    drift,
    gateway,
    peering,
    preflight,
    private_link,
    probe,
    records,
    regional,
    service,
    teardown,
    verify,
    vnet_integration,
)
from api import links, openapi, status, verify_timer
from orchestrators import provision_link, teardown_link, verify_link, verify_sweep

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for module in (
    links,
    openapi,
    status,
    verify_timer,
    provision_link,
    verify_link,
    verify_sweep,
    teardown_link,
    preflight,
    service,
    gateway,
    vnet_integration,
    regional,
    peering,
    private_link,
    dns,
    app_setting,
    probe,
    verify,
    drift,
    records,
    teardown,
):
    app.register_functions(module.bp)
