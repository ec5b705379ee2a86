"""Wall time of ``ray-patterns lint`` against ``flake8 --select=F`` and ``ruff --select=F``.

Not a test (CPU-heavy, minutes): run it by hand under the shared lock::

    flock /tmp/ray-patterns-ray.lock python tests/lint/speed_benchmark.py [TREE]

TREE defaults to the installed ``ray`` package. Each tool runs once, side by side in
one run; the ratios are what the closing note of issue 4 reports.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    if len(sys.argv) > 1:
        tree = Path(sys.argv[1])
    else:
        spec = importlib.util.find_spec("ray")
        assert spec is not None and spec.origin is not None, "ray is not installed"
        tree = Path(spec.origin).parent
    bin_dir = Path(sys.executable).parent
    tools = {
        "ray-patterns lint": [str(bin_dir / "ray-patterns"), "lint", str(tree), "--exit-zero"],
        "flake8 --select=F": [sys.executable, "-m", "flake8", "--select=F", str(tree)],
        "ruff check --select=F": [
            str(bin_dir / "ruff"),
            "check",
            "--no-cache",
            "--select=F",
            "--quiet",
            str(tree),
        ],
    }
    times = {name: _timed(cmd) for name, cmd in tools.items()}
    ours = times["ray-patterns lint"]
    for name, seconds in times.items():
        print(f"{name:<24} {seconds:7.2f} s   ray-patterns / this = {ours / seconds:6.2f}")


if __name__ == "__main__":
    main()
