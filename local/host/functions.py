"""Loading ``function_app.py`` and calling its functions the way the Python language worker does."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import meta
from azure.functions.decorators.function_app import FunctionRegister
from azure.functions.durable_functions import ActivityTriggerConverter, OrchestrationTriggerConverter

from local.host import history as h

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"
HTTP_TRIGGER = "httpTrigger"
TIMER_TRIGGER = "timerTrigger"
EVENT_GRID_TRIGGER = "eventGridTrigger"
DURABLE_CLIENT = "durableClient"
_OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"


class AppLoadError(Exception):
    """The app directory has no usable ``function_app.py``."""


@dataclass(frozen=True)
class FunctionInfo:
    """One indexed function: its trigger binding, the user callable and what the worker would pass it."""

    name: str
    trigger: dict[str, Any]
    bindings: list[dict[str, Any]]
    fn: Callable[..., Any]

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    @property
    def client_param(self) -> str | None:
        return next((b["name"] for b in self.bindings if b["type"] == DURABLE_CLIENT), None)

    @property
    def wants_context(self) -> bool:
        return "context" in inspect.signature(self.fn).parameters and self.trigger["name"] != "context"


def load_app(app_dir: Path) -> dict[str, FunctionInfo]:
    """Import ``function_app`` from ``app_dir`` (afresh, even if another app's was imported before)."""
    app_dir = app_dir.resolve()
    if not (app_dir / "function_app.py").is_file():
        raise AppLoadError(f"{app_dir / 'function_app.py'} not found")
    # Only the entry module is re-imported: the app's own packages may be shared with the caller (and this host).
    sys.modules.pop("function_app", None)
    if str(app_dir) in sys.path:
        sys.path.remove(str(app_dir))
    sys.path.insert(0, str(app_dir))
    importlib.invalidate_caches()
    module = importlib.import_module("function_app")
    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    if len(apps) != 1:
        raise AppLoadError(f"function_app.py must define exactly one FunctionApp, found {len(apps)}")
    functions: dict[str, FunctionInfo] = {}
    for function in apps[0].get_functions():
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        trigger = next(b for b in bindings if b["type"].lower().endswith("trigger"))
        name = str(function.get_function_name())
        functions[name] = FunctionInfo(name, trigger, bindings, function.get_user_function())
    return functions


class WorkerContext(func.Context):
    """The worker's ``func.Context`` for functions that declare a ``context`` parameter."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local = threading.local()
        self._thread_local.invocation_id = invocation_id

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local


def new_invocation_id() -> str:
    return str(uuid.uuid4())


def call_orchestrator(info: FunctionInfo, context_json: str) -> tuple[dict[str, Any] | None, BaseException | None]:
    """Run the SDK's ``handle``; on failure split the worker exception at ``$OutOfProcData$`` like the host."""
    context = OrchestrationTriggerConverter.decode(meta.Datum(type="string", value=context_json), trigger_metadata=None)
    try:
        returned = info.fn(**{info.trigger["name"]: context})
    except Exception as exc:
        message = str(exc)
        if _OUT_OF_PROC_LABEL in message:
            return json.loads(message.split(_OUT_OF_PROC_LABEL, 1)[1]), exc
        return None, exc
    return json.loads(returned), None


def activity_args(info: FunctionInfo, input_text: str | None, context: WorkerContext) -> dict[str, Any]:
    """``ActivityTriggerConverter.decode`` of the ``df_dumps`` text the host passes."""
    value = ActivityTriggerConverter.decode(meta.Datum(type="string", value=input_text), trigger_metadata=None)
    args: dict[str, Any] = {info.trigger["name"]: value}
    if info.wants_context:
        args["context"] = context
    return args


def encode_activity_result(result: Any) -> str:
    """The worker's ``ActivityTriggerConverter.encode`` (``df_dumps``; ``ValueError`` if not serializable)."""
    return str(ActivityTriggerConverter.encode(result, expected_type=None).value)


def activity_failure(name: str, error: BaseException) -> tuple[str, str]:
    """TaskFailed Reason/Details as TaskActivityShim writes them for a worker exception."""
    friendly = f"{type(error).__name__}: {error}"
    details = {
        "$type": "System.Exception, System.Private.CoreLib",
        "ClassName": "System.Exception",
        "Message": friendly,
        "Data": None,
        "InnerException": {
            "$type": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",
            "ClassName": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException",
            "Message": f"Result: Failure\nException: {friendly}\nStack: {h.format_traceback(error)}",
        },
        "HelpURL": None,
        "StackTraceString": None,
        "HResult": -2146233088,
        "Source": None,
    }
    return f"Activity function '{name}' failed: {friendly}", h.compact(details)
