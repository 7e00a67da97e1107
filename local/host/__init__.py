"""A local Azure Functions host for the Python v2 model with the real Durable Functions 1.x SDK.

See ``local/host/README.md`` for usage and for where it knowingly differs from the real host.
"""

from local.host.clock import ManualClock, SystemClock
from local.host.host import LocalHost, run_function_app

__all__ = ["LocalHost", "ManualClock", "SystemClock", "run_function_app"]
