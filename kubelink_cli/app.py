"""The ``kubelink`` command (README "Command-line client"): one subcommand per route of kubelink's HTTP API.

Exit codes: 0 done; 1 a run failed (Azure's code and message printed), kubelink refused the request or could not
be reached; 2 a refused body (every bad field printed) or a bad command line; 3 ``verify`` found drift.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import requests
import typer
import yaml
from rich.console import Console

from kubelink_cli import render
from kubelink_cli.client import ApiError, KubelinkClient, Run, default_url

FAILED, REFUSED, DRIFTED, INTERRUPTED = 1, 2, 3, 130
T = TypeVar("T")
DEFAULT_TIMEOUT = 7200.0  # a gateway takes 20-60 minutes in Azure; a run that is still going is left running

app = typer.Typer(
    name="kubelink",
    help="Connect App Service apps to Kubernetes Services privately: the client of kubelink's HTTP API.",
    epilog="Example: kubelink apply -f examples/link.json --wait   (target: --url/KUBELINK_URL, default the host "
    "in .local/world.json; key: --key/KUBELINK_KEY)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
errors = Console(stderr=True)


class Output(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


class Target:
    """The kubelink the command talks to, made on first use (``--help`` needs none)."""

    def __init__(self, url: str | None, key: str | None) -> None:
        self.url, self.key = url, key
        self._client: KubelinkClient | None = None

    @property
    def client(self) -> KubelinkClient:
        if self._client is None:
            url = self.url or default_url()
            if not url:
                _exit(FAILED, "No kubelink to talk to: pass --url (or set KUBELINK_URL), or start one with `make run`")
            self._client = KubelinkClient(url, self.key)
        return self._client


WaitOption = Annotated[bool, typer.Option("--wait", "-w", help="Follow the run until it ends.")]
TimeoutOption = Annotated[float, typer.Option(help="Seconds --wait follows a run before giving up (it goes on).")]
SpecFile = Annotated[Path, typer.Option("--file", "-f", help="The link spec (JSON); - reads standard input.")]


@app.callback()
def target(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(envvar="KUBELINK_URL", help="kubelink's base URL (default: .local/world.json's host).")
    ] = None,
    key: Annotated[str | None, typer.Option(envvar="KUBELINK_KEY", help="The function key (x-functions-key).")] = None,
) -> None:
    ctx.obj = Target(url, key)


@app.command(epilog="Example: kubelink apply -f examples/link.json --wait")
def apply(
    ctx: typer.Context, file: SpecFile, wait: WaitOption = False, timeout: TimeoutOption = DEFAULT_TIMEOUT
) -> None:
    """Provision a link (POST /api/links): create what is missing, fix what differs, leave the rest.

    With --wait: a live table of the five steps (state, elapsed time, current message), then the output.
    Exit 1 if the run fails (Azure's code and message printed), 2 if kubelink refuses the spec (every bad field)."""
    spec, client = _read(file), _client(ctx)
    uri = _begin(lambda: client.start_provisioning(spec), wait)
    if uri is None:
        return
    status = _follow(lambda: render.follow_run(client, uri, console, timeout), uri)
    render.print_outcome(console, status)
    if status["runtimeStatus"] != "Completed":
        raise typer.Exit(FAILED)


@app.command(epilog="Example: kubelink get orders-api -o yaml")
def get(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="One link; every link when left out.")] = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="table, json or yaml.")] = Output.table,
) -> None:
    """List every link (GET /api/links), or show one (GET /api/links/NAME); -o json prints the API's own body."""
    client = _client(ctx)
    if name:
        record = _call(lambda: client.link(name))
        _emit(record, output, lambda: render.links_table([record]))
    else:
        records = _call(client.links)
        _emit({"value": records}, output, lambda: render.links_table(records))


@app.command(epilog="Example: kubelink describe orders-api")
def describe(
    ctx: typer.Context,
    name: str,
    drift: Annotated[int, typer.Option(help="How many recent drift records to show.", min=1, max=1000)] = 10,
) -> None:
    """A link in full: conditions, the resources it uses, last verification, recent drift."""
    client = _client(ctx)
    record = _call(lambda: client.link(name))
    console.print(render.describe(record, _call(lambda: client.drift(name, drift))))


@app.command("drift", epilog="Example: kubelink drift orders-api --top 20 -o json")
def drift_history(
    ctx: typer.Context,
    name: str,
    top: Annotated[int, typer.Option(help="Newest records to show (1-1000).", min=1, max=1000)] = 100,
    output: Annotated[Output, typer.Option("--output", "-o", help="table, json or yaml.")] = Output.table,
) -> None:
    """A link's drift records, newest first (GET /api/links/NAME/drift)."""
    client = _client(ctx)
    records = _call(lambda: client.drift(name, top))
    _emit({"value": records}, output, lambda: render.drift_table(records))


@app.command(epilog="Example: kubelink plan -f examples/link.json")
def plan(
    ctx: typer.Context,
    file: SpecFile,
    output: Annotated[Output, typer.Option("--output", "-o", help="table (a diff), json or yaml.")] = Output.table,
) -> None:
    """What provisioning this spec would change (POST /api/plan), as a coloured diff; writes nothing."""
    spec, client = _read(file), _client(ctx)
    changes = _call(lambda: client.plan(spec))
    _emit({"changes": changes}, output, lambda: render.plan_diff(changes))


@app.command(epilog="Example: kubelink verify orders-api --wait")
def verify(ctx: typer.Context, name: str, wait: WaitOption = False, timeout: TimeoutOption = DEFAULT_TIMEOUT) -> None:
    """Verify a link now (POST /api/links/NAME/verify), reading only.

    With --wait, print what it found: exit 0 when healthy, 3 when it found drift, 1 when the verification failed."""
    client = _client(ctx)
    uri = _begin(lambda: client.start_verification(name), wait)
    if uri is None:
        return
    status = _follow(lambda: client.follow(uri, timeout, interval=0.5), uri)
    if status["runtimeStatus"] != "Completed":
        render.print_failure(console, status)
        raise typer.Exit(FAILED)
    result = status.get("output") or {}
    found = result.get("drift") or []
    verdict = "[bold green]healthy[/]" if result.get("ready") and not found else f"[bold red]{len(found)} drift[/]"
    console.print(f"Link {name} verified at {result.get('verifiedAt')}: {verdict}")
    if found:
        console.print(render.drift_table(found))
        raise typer.Exit(DRIFTED)


@app.command(epilog="Example: kubelink delete orders-api --wait")
def delete(
    ctx: typer.Context,
    name: str,
    wait: WaitOption = False,
    delete_shared_resources: Annotated[
        bool, typer.Option(help="Also remove the gateway, its public IP and GatewaySubnet when nothing else uses them.")
    ] = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Tear a link down (DELETE /api/links/NAME): remove, in reverse order, what kubelink made for it."""
    client = _client(ctx)
    uri = _begin(lambda: client.start_teardown(name, delete_shared_resources), wait)
    if uri is None:
        return
    status = _follow(lambda: render.follow_run(client, uri, console, timeout), uri)
    if status["runtimeStatus"] != "Completed":
        render.print_failure(console, status)
        raise typer.Exit(FAILED)
    console.print(f"[bold green]Deleted[/] link {name}")
    console.print_json(data=status.get("output"))


# --- shared mechanics ----------------------------------------------------------------------------------


def _client(ctx: typer.Context) -> KubelinkClient:
    target: Target = ctx.obj
    return target.client


def _read(file: Path) -> bytes:
    """The spec file's bytes, unparsed: kubelink judges them as written (duplicate keys, nulls…)."""
    try:
        return sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as error:
        _exit(REFUSED, f"Cannot read {file}: {error.strerror}")


def _begin(start: Callable[[], str], wait: bool) -> str | None:
    """Start a run: with --wait its status URL to follow, else None once the URL is printed. With --wait, a run of
    the link already going (409 ``LinkBusy``) is followed instead, as a user who retried would want."""

    def attempt() -> str:
        try:
            return start()
        except ApiError as busy:
            if not (wait and busy.status == 409 and busy.status_query_uri):
                raise
            errors.print(f"{busy.error_message.split(':')[0]}: following that run", markup=False)
            return busy.status_query_uri

    uri = _call(attempt)
    if wait:
        return uri
    console.print(f"Accepted. Follow it: {uri}", markup=False, soft_wrap=True)
    return None


def _follow(follow: Callable[[], Run], uri: str) -> dict[str, Any]:
    """Follow a run to its end; Ctrl-C stops following, never the run."""
    try:
        return _call(follow).status
    except KeyboardInterrupt:
        _exit(INTERRUPTED, f"Stopped following; the run goes on: {uri}")


def _call(call: Callable[[], T]) -> T:
    """Run one API call; kubelink's refusals and an unreachable target end the command with their exit code."""
    try:
        return call()
    except ApiError as error:
        render.print_api_error(errors, error)
        raise typer.Exit(REFUSED if error.status == 400 else FAILED) from None
    except requests.RequestException as error:
        _exit(FAILED, f"Cannot reach kubelink: {error}")
    except TimeoutError as error:
        _exit(FAILED, f"Still running: {error}")


def _emit(body: Any, output: Output, table: Callable[[], Any]) -> None:
    if output is Output.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    elif output is Output.yaml:
        print(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), end="")
    else:
        console.print(table())


def _exit(code: int, message: str) -> NoReturn:
    errors.print(message, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def main() -> None:
    app()
