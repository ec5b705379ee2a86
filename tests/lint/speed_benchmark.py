"""Wall time of ``ray-patterns lint`` cold and warm, beside ruff's pyflakes rules.

Not a test (CPU-heavy): run it by hand under the shared lock, so nothing else runs::

    flock /tmp/ray.lock python tests/lint/speed_benchmark.py [TREE] [--repeat N] [--against DIR]

TREE defaults to the installed ``ray`` package. In one run, N rounds of each tool
once, interleaved so that a change in the machine's load hits all of them alike (the
median and the best of N reported, and the ratios of the medians):
``ray-patterns lint --no-cache`` (cold), ``ray-patterns lint`` with a filled cache
(warm), ``ruff check --no-cache --select=F`` and, with ``--flake8``, ``flake8
--select=F`` (slow). The cache lives in a scratch folder, not in TREE. ``--against
DIR`` adds a cold run of another checkout's code in the same rounds (``DIR/src`` first on
``PYTHONPATH``; e.g. ``git archive BASE src | tar -x -C DIR``): before and after in the
same conditions.

Python's bytecode cache goes to that scratch folder too (``PYTHONPYCACHEPREFIX``, even
when ``PYTHONDONTWRITEBYTECODE`` is set): an installed tool starts from its ``.pyc``
files, and compiling our modules on every start would be measured otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the process and its children (the workers):
    the second moves less when other programs load the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flake8", action="store_true", help="time flake8 --select=F too")
    parser.add_argument(
        "--against", type=Path, help="a checkout (its src/) to time cold beside this one"
    )
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
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    envs = {name: env for name in tools}
    against = "ray-patterns lint (cold, --against)"
    if args.against is not None:
        src = (args.against / "src").resolve()
        assert (src / "ray_patterns").is_dir(), f"{src} holds no ray_patterns package"
        tools[against] = [*ours, "--no-cache"]
        envs[against] = {
            **env,
            "PYTHONPATH": os.pathsep.join([str(src), env.get("PYTHONPATH", "")]),
        }
    times: dict[str, list[float]] = {name: [] for name in tools}
    cpu: dict[str, list[float]] = {name: [] for name in tools}
    try:
        # fill the bytecode cache and the lint cache before the first timed round
        subprocess.run(ours, cwd=scratch, env=env, capture_output=True, check=False)
        if args.against is not None:
            subprocess.run(tools[against], cwd=scratch, env=envs[against], capture_output=True)
        for _ in range(args.repeat):
            for name, cmd in tools.items():
                wall, used = _timed(cmd, scratch, envs[name])
                times[name].append(wall)
                cpu[name].append(used)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    files = sum(1 for _ in tree.rglob("*.py"))
    print(f"{tree} ({files} .py files), {args.repeat} rounds")
    ruff = statistics.median(times["ruff check --select=F"])
    ruff_cpu = statistics.median(cpu["ruff check --select=F"])
    for name, runs in times.items():
        median, used = statistics.median(runs), statistics.median(cpu[name])
        print(
            f"{name:<38} wall median {median:5.2f} s (best {min(runs):5.2f}),"
            f" / ruff's {median / ruff:5.2f};  CPU median {used:5.2f} s,"
            f" / ruff's {used / ruff_cpu:5.2f}"
        )


if __name__ == "__main__":
    main()
