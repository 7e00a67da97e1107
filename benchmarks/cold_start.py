"""Benchmark: what a worker's cold start pays to import kubelink (prints figures; not a test).

The Functions worker imports ``function_app`` on every start. The figure is the ratio of its import time to that of
``azure.durable_functions`` alone (which it cannot avoid), each timed in fresh interpreters, median of ``--runs``; and,
for scale, the cost of the spec model (pydantic), which ``function_app`` must not load.

    python -m benchmarks.cold_start [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    """Wall time of ``import module`` in a fresh interpreter (bytecode already cached)."""
    command = [sys.executable, "-c", TIMED.format(module=module)]
    return float(subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    modules = ("azure.durable_functions", "function_app", "kubelink.spec")
    import_seconds("function_app")  # warm the bytecode caches
    times: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):  # interleaved, so a busy moment of the machine weighs on every figure alike
        for module in modules:
            times[module].append(import_seconds(module))
    durable, app, model = (statistics.median(times[module]) for module in modules)
    print(f"import azure.durable_functions: {durable * 1000:.0f} ms (median of {runs})")
    print(f"import function_app:            {app * 1000:.0f} ms")
    print(f"import kubelink.spec (pydantic, not loaded by function_app): {model * 1000:.0f} ms")
    print(f"cold-start ratio function_app / azure.durable_functions: {app / durable:.2f}")


if __name__ == "__main__":
    main()
