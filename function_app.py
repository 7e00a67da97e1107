"""kubelink's face: the Durable Functions app and its blueprints, nothing else.

Each step lives one hop from here: HTTP routes in ``api/``, orchestrations in ``orchestrators/``, and the
Azure/Kubernetes work in ``activities/`` (one module per concern). Imported on every cold start, so
nothing below imports an Azure or Kubernetes SDK at module level.
"""

import azure.durable_functions as df
import azure.functions as func

from activities import records
from orchestrators import provision_link

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (provision_link.bp, records.bp):
    app.register_functions(blueprint)
