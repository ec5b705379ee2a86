"""Wall time of ``ray-patterns lint`` cold and warm, beside ruff's pyflakes rules.

Not a test (CPU-heavy): run it by hand under the shared lock, so nothing else runs::

    flock /tmp/ray.lock python tests/lint/speed_benchmark.py [TREE] [--repeat N]

TREE defaults to the installed ``ray`` package. In one run, each tool N times (best
of N reported): ``ray-patterns lint --no-cache`` (cold), ``ray-patterns lint`` with a
filled cache (warm), ``ruff check --no-cache --select=F`` and, with ``--flake8``,
``flake8 --select=F`` (slow). The cache lives in a scratch folder, not in TREE.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flake8", action="store_true", help="time flake8 --select=F too")
    args = parser.parse_args()
    tree = args.tree
    if tree is None:
        spec = importlib.util.find_spec("ray")
        assert spec is not None and spec.origin is not None, "ray is not installed"
        tree = Path(spec.origin).parent
    tree = tree.resolve()
    bin_dir = Path(sys.executable).parent
    ours = [str(bin_dir / "ray-patterns"), "lint", str(tree), "--exit-zero"]
    tools = {
        "ray-patterns lint (cold, --no-cache)": [*ours, "--no-cache"],
        "ray-patterns lint (warm, cache)": ours,
        "ruff check --select=F": [
            str(bin_dir / "ruff"),
            "check",
            "--no-cache",
            "--select=F",
            "--quiet",
            "--exit-zero",
            str(tree),
        ],
    }
    if args.flake8 and importlib.util.find_spec("flake8") is not None:
        tools["flake8 --select=F"] = [sys.executable, "-m", "flake8", "--select=F", str(tree)]
    scratch = Path(tempfile.mkdtemp(prefix="ray-patterns-speed-"))
    try:
        times = {}
        for name, cmd in tools.items():
            if cmd is ours:  # fill the cache right before the warm runs
                subprocess.run(ours, cwd=scratch, capture_output=True, check=False)
            times[name] = min(_timed(cmd, scratch) for _ in range(args.repeat))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    files = sum(1 for _ in tree.rglob("*.py"))
    print(f"{tree} ({files} .py files), best of {args.repeat}")
    ruff = times["ruff check --select=F"]
    for name, seconds in times.items():
        print(f"{name:<38} {seconds:7.2f} s   this / ruff = {seconds / ruff:6.2f}")


if __name__ == "__main__":
    main()
