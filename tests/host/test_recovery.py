"""Kill the host (SIGKILL) mid-orchestration and restart it: the instance resumes from SQLite."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.host.conftest import APPS, poll

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(tmp_path: Path, port: int, log_name: str, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "local.host",
        "--app-dir", str(APPS / "recovery"),
        "--port", str(port),
        "--state-dir", str(tmp_path / "state"),
        "--settings", str(tmp_path / "local.settings.json"),
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / log_name).open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    poll(f"http://127.0.0.1:{port}/admin/host/status", lambda r: r.status_code == 200, timeout=20)
    return process


def _wait_for_line(path: Path, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.02)


def _poll_connect(url: str):
    def ready(response: requests.Response) -> bool:
        return response.status_code == 200

    return poll(url, ready, timeout=20)


def test_sigkill_mid_orchestration_then_restart_resumes(tmp_path):
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"HOST_TEST_DIR": str(tmp_path)}}))
    port = _free_port()
    first = _spawn(tmp_path, port, "first.log")
    try:
        started = requests.post(f"http://127.0.0.1:{port}/api/start/rec-1")
        assert started.status_code == 202
        status_url = started.json()["statusQueryGetUri"]
        _wait_for_line(tmp_path / "calls.log", "step2 start")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)

    second = _spawn(tmp_path, port, "second.log", "--timer-scale", "20")
    try:
        (tmp_path / "release").write_text("go")
        done = _poll_connect(status_url).json()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)

    assert done["runtimeStatus"] == "Completed", done
    assert done["output"] == [2, 3, 4]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    # step1 completed before the kill and is not run again; step2 was running, so it runs again (at-least-once).
    assert calls == ["step1", "step2 start", "step2 start", "step2 done", "step3"]
    log = (tmp_path / "second.log").read_text()
    assert "Executed 'Functions.step3' (Succeeded, Id=" in log and "instance=rec-1" in log
    assert second.returncode == 0
