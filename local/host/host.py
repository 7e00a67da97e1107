"""``LocalHost``: one loopback HTTP server for the app's triggers, the Durable HTTP API and the admin endpoint."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from aiohttp import web
from azure.durable_functions.models.utils import http_utils
from azure.durable_functions.models.utils.df_serialization import df_dumps
from azure.functions import meta
from azure.functions.timer import TimerRequestConverter

from local.host import eventgrid
from local.host import history as h
from local.host.clock import Clock, SystemClock
from local.host.durable_api import RPC_PATH, WEBHOOK_PATH, DurableApi, client_binding
from local.host.engine import Engine
from local.host.functions import (
    ORCHESTRATION_TRIGGER,
    TIMER_TRIGGER,
    FunctionInfo,
    WorkerContext,
    load_app,
    new_invocation_id,
)
from local.host.http_triggers import build_routes, find_route, to_request, to_response
from local.host.logs import HostLog
from local.host.settings import HostConfig, LocalSettings, resolve
from local.host.taskhub import TERMINAL_STATES, Store
from local.host.timers import Schedule, TimerListener, wait_until_clock

_ACTIVE = threading.Lock()  # the SDK keeps one module-global aiohttp session: one host per process at a time


class LocalHost:
    """Runs ``<app_dir>/function_app.py`` unchanged; ``start()`` serves it from a background thread."""

    def __init__(
        self,
        app_dir: str | Path,
        port: int = 7071,
        state_dir: str | Path | None = None,
        settings_file: str | Path | None = None,
        *,
        clock: Clock | None = None,
        bind: str = "127.0.0.1",
        log_stream: TextIO | None = None,
        managed_identity: tuple[str, str] | None = None,
    ) -> None:
        self.app_dir = Path(app_dir).resolve()
        #: (IDENTITY_ENDPOINT, IDENTITY_HEADER) of the app's managed identity, which App Service puts in the
        #: environment of every app with an identity (the platform's variables, not app settings).
        self.managed_identity = managed_identity
        self.state_dir = Path(state_dir) if state_dir is not None else self.app_dir / ".local" / "host-state"
        self.settings_file = Path(settings_file) if settings_file else self.app_dir / "local.settings.json"
        self.clock: Clock = clock or SystemClock()
        self.bind = bind
        self.port = port
        self.log = HostLog(self.clock, log_stream)
        self._log_stream = log_stream
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._restore_env: dict[str, str | None] = {}
        self._previous_import: tuple[ModuleType | None, list[str]] | None = None
        self.engine: Engine | None = None
        self.api: DurableApi | None = None
        self.functions: dict[str, FunctionInfo] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.bind}:{self.port}"

    def start(self, timeout: float = 30.0) -> LocalHost:
        """Serve in a daemon thread with its own event loop; returns once ``/admin/host/status`` would answer."""
        self._thread = threading.Thread(target=self._thread_main, name="local-host", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("local host did not start")
        if self._startup_error is not None:
            self._thread.join()
            raise self._startup_error
        return self

    def stop_soon(self) -> None:
        """Ask ``serve()`` to shut down (thread-safe; also the CLI's signal handler)."""
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_soon()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> LocalHost:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _thread_main(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
                self._ready.set()
            else:
                raise

    async def serve(self) -> None:
        """Run until ``stop()`` (or cancellation); the CLI calls this directly on its own loop."""
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("another LocalHost is running in this process")
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        store: Store | None = None
        runner: web.AppRunner | None = None
        tasks: list[asyncio.Task[None]] = []
        try:
            store, runner = await self._startup(tasks)
            self._ready.set()
            await self._stopped.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if runner is not None:
                await runner.cleanup()
            await http_utils._close_session()
            http_utils._client_session = None
            if self.engine is not None:
                self.engine.close()
            if store is not None:
                store.close()
            self._restore_environment()
            _ACTIVE.release()
            self.log.info("Host stopped")

    async def _startup(self, tasks: list[asyncio.Task[None]]) -> tuple[Store, web.AppRunner]:
        settings = LocalSettings.load(self.settings_file)
        self._restore_env = self._apply_managed_identity()
        self._restore_env.update(
            {k: v for k, v in settings.apply(os.environ, self.log.info).items() if k not in self._restore_env}
        )
        config = HostConfig.load(self.app_dir / "host.json")
        self._previous_import = (sys.modules.get("function_app"), list(sys.path))
        self.functions = load_app(self.app_dir)
        hub = resolve(config.hub_name, os.environ)
        # The SDK's session and lock belong to whichever loop first used them: start fresh on ours.
        http_utils._client_session = None
        http_utils._session_lock = asyncio.Lock()
        store = Store(self.state_dir)
        self.engine = Engine(
            functions=self.functions,
            store=store,
            clock=self.clock,
            log=self.log,
            max_activities=config.max_concurrent_activities,
            app_dir=str(self.app_dir),
        )
        self.api = DurableApi(
            store=store,
            clock=self.clock,
            hub=hub,
            orchestrators=lambda: [n for n, f in self.functions.items() if f.trigger_type == ORCHESTRATION_TRIGGER],
            wake=self.engine.wake,
        )
        self._routes = build_routes(self.functions, config.route_prefix)
        self._sync_pool = ThreadPoolExecutor(max(4, config.max_concurrent_activities), thread_name_prefix="function")
        listeners = [
            self._timer_listener(info, store) for info in self.functions.values() if info.trigger_type == TIMER_TRIGGER
        ]
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.bind, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._binding = self.engine.client_binding = client_binding(self.url, hub)
        for name, info in self.functions.items():
            route = next((r for r in self._routes if r.function is info), None)
            where = f" [{','.join(route.methods)}] {self.url}/{route.template}" if route else ""
            self.log.info(f"Function {name}: {info.trigger_type}{where}")
        tasks.append(asyncio.create_task(self.engine.run()))
        tasks.extend(asyncio.create_task(listener.run()) for listener in listeners)
        self.log.info(f"Host started on {self.url} (hub {hub}, state {self.state_dir})")
        return store, runner

    def _apply_managed_identity(self) -> dict[str, str | None]:
        """Set ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER`` as App Service does; return what to restore."""
        if self.managed_identity is None:
            return {}
        endpoint, header = self.managed_identity
        previous = {name: os.environ.get(name) for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")}
        os.environ["IDENTITY_ENDPOINT"], os.environ["IDENTITY_HEADER"] = endpoint, header
        self.log.info(f"Managed identity endpoint: {endpoint}")
        return previous

    def _restore_environment(self) -> None:
        """Undo what loading the app changed in this process (settings, ``function_app``, ``sys.path``)."""
        if self._previous_import is not None:
            module, path = self._previous_import
            if module is None:
                sys.modules.pop("function_app", None)
            else:
                sys.modules["function_app"] = module
            sys.path[:] = path
            self._previous_import = None
        for key, value in self._restore_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._restore_env = {}

    def _timer_listener(self, info: FunctionInfo, store: Store) -> TimerListener:
        moved = asyncio.Event()
        loop = asyncio.get_running_loop()

        def moved_now() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(moved.set)

        self.clock.subscribe(moved_now)
        return TimerListener(
            info,
            Schedule(resolve(str(info.trigger["schedule"]), os.environ)),
            store=store,
            clock=self.clock,
            log=self.log,
            invoke=self._invoke_timer,
            wait_until=lambda moment: wait_until_clock(self.clock, moment, moved),
        )

    # --- requests ------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        assert self.api is not None
        if path.rstrip("/") == "/admin/host/status":
            return web.json_response({"id": "local", "state": "Running", "version": "local-host"})
        if path.rstrip("/") == eventgrid.EVENTGRID_PATH and request.method == "POST":
            return await eventgrid.handle(request, self.functions, self._invoke_event)
        for prefix in (WEBHOOK_PATH, RPC_PATH):
            if path == prefix or path.startswith(prefix + "/"):
                return await self.api.handle(request, path[len(prefix) :])
        found = find_route(self._routes, request.method, path)
        if found is None:
            return web.Response(status=404)
        route, params = found
        return await self._invoke_http(route.function, request, params)

    async def _invoke_http(
        self, info: FunctionInfo, request: web.Request, params: dict[str, str]
    ) -> web.StreamResponse:
        level = str(info.trigger.get("authLevel") or "FUNCTION").upper()
        if level != "ANONYMOUS":
            key = "given" if "code" in request.query or "x-functions-key" in request.headers else "missing"
            self.log.info(f"'{info.name}' has authLevel {level}: keys are not checked locally (key {key})")
        args: dict[str, Any] = {info.trigger["name"]: await to_request(request, params)}
        try:
            result = await self._call(info, args)
        except Exception as exc:
            self.log.error(
                f"Executed 'Functions.{info.name}' failed: {type(exc).__name__}: {exc}\n{h.format_traceback(exc)}"
            )
            return web.Response(status=500)
        return to_response(result)

    async def _invoke_event(self, info: FunctionInfo, args: dict[str, Any]) -> Any:
        try:
            return await self._call(info, args)
        except Exception as exc:
            self.log.error(
                f"Executed 'Functions.{info.name}' failed: {type(exc).__name__}: {exc}\n{h.format_traceback(exc)}"
            )
            raise

    async def _invoke_timer(self, info: FunctionInfo, timer_info: dict[str, Any]) -> None:
        timer = TimerRequestConverter.decode(
            meta.Datum(type="json", value=json.dumps(timer_info)), trigger_metadata=None
        )
        await self._call(info, {info.trigger["name"]: timer})

    async def _call(self, info: FunctionInfo, args: dict[str, Any]) -> Any:
        """Invoke like the worker: async on the loop, sync in a thread; bind the durable client and context."""
        invocation_id = new_invocation_id()
        if info.client_param:
            args[info.client_param] = self._binding
        if info.wants_context:
            args["context"] = WorkerContext(invocation_id, info.name, str(self.app_dir))
        began = time.perf_counter()
        succeeded = False
        try:
            if info.is_async:
                result = await info.fn(**args)
            else:
                result = await asyncio.get_running_loop().run_in_executor(
                    self._sync_pool, functools.partial(info.fn, **args)
                )
            succeeded = True
            return result
        finally:
            self.log.executed(info.name, succeeded, invocation_id, began, None)

    # --- in-process helpers for tests ----------------------------------------------------------

    def _run(self, coro: Any) -> Any:
        assert self._loop is not None, "host not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def start_orchestration(self, name: str, input: Any = None, instance_id: str | None = None) -> str:
        """Start ``name`` with ``input`` encoded as the Python client's ``start_new`` sends it (``df_dumps``)."""
        assert self.api is not None
        api = self.api
        input_json = None if input is None else h.compact(df_dumps(input))

        async def start() -> str:
            return api.start(name, instance_id, input_json)

        return str(self._run(start()))

    def status(
        self, instance_id: str, *, show_history: bool = False, show_output: bool = False
    ) -> dict[str, Any] | None:
        """The status API payload (``None`` for an unknown instance)."""
        assert self.api is not None
        instance = self.api.store.get_instance(instance_id)
        if instance is None:
            return None
        return self.api.status_payload(instance, show_history=show_history, show_output=show_output, show_input=True)

    def client_binding(self) -> str:
        """The ``durableClient`` binding JSON this host gives client functions."""
        return self._binding

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        """The recorded DTFx history of the current execution, exactly as the SDK receives it (replayable)."""
        assert self.api is not None
        return self.api.store.history(instance_id)

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        assert self.api is not None
        instance = self.api.store.get_instance(instance_id)
        if instance is None:
            raise KeyError(instance_id)
        self.api.raise_event(instance, name, h.compact(data))

    def terminate(self, instance_id: str, reason: str | None = None) -> None:
        assert self.api is not None
        instance = self.api.store.get_instance(instance_id)
        if instance is None:
            raise KeyError(instance_id)
        self.api.terminate(instance, reason)

    def wait_for(
        self, instance_id: str, timeout: float = 30.0, statuses: tuple[str, ...] = TERMINAL_STATES
    ) -> dict[str, Any]:
        """Poll until the instance reaches one of ``statuses``; raises ``TimeoutError`` with the last status."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(instance_id)
            if status is not None and status["runtimeStatus"] in statuses:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"{instance_id}: {status}")
            time.sleep(0.02)

    def log_lines(self) -> list[str]:
        """The log so far, when the host was given an in-memory ``log_stream`` (``io.StringIO``)."""
        getvalue = getattr(self._log_stream, "getvalue", None)
        return str(getvalue()).splitlines() if getvalue else []

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no message is due and no activity is running (future timers do not count)."""
        assert self.engine is not None
        return self.engine.wait_idle(timeout)


def run_function_app(app_dir: str | Path, **kwargs: Any) -> LocalHost:
    """Convenience for tests: a started host on a free port (``stop()`` it, or use it as a context manager)."""
    kwargs.setdefault("port", 0)
    return LocalHost(app_dir, **kwargs).start()
