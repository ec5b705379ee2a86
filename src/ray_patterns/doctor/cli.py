"""``ray-patterns doctor [--json F] [--html F] [--trace F] -- python script.py ARGS``.

The script runs in this process (``runpy``, as ``__main__``, with its own
``sys.argv``) under ``watch()``, so its ``ray.init`` and everything else work as
usual; its exit code is ours and the report is written even when it raises or
calls ``sys.exit``.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback

import click

from ray_patterns.doctor import watch
from ray_patterns.doctor.thresholds import Thresholds


def _split_command(command: tuple[str, ...]) -> tuple[str, str, list[str]]:
    """``("path"|"module", target, argv)`` from ``python [-m mod | script.py] ARGS``."""
    args = list(command)
    if args and os.path.basename(args[0]).startswith("python") and not args[0].endswith(".py"):
        args = args[1:]
    if not args:
        raise click.UsageError("give the program to run: doctor -- python script.py ARGS")
    if args[0] == "-m":
        if len(args) < 2:
            raise click.UsageError("-m needs a module name: doctor -- python -m pkg.mod ARGS")
        return "module", args[1], [args[1], *args[2:]]
    if args[0].startswith("-"):
        raise click.UsageError(
            f"python option {args[0]!r} is not supported; run: doctor -- python script.py ARGS"
        )
    if not os.path.isfile(args[0]):
        raise click.UsageError(f"no such script: {args[0]}")
    return "path", args[0], args


def run_program(kind: str, target: str, argv: list[str]) -> int:
    """Run the program as ``__main__``; its exit code (1 and a traceback if it raised)."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = argv
    if kind == "path":
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    try:
        if kind == "module":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
        return 0
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:  # the program's error: shown as Python would, then exit 1
        traceback.print_exc()
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write findings as JSON."
)
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write an HTML report.")
@click.option(
    "--trace", "trace_path", type=click.Path(dir_okay=False), help="Write a Chrome/Perfetto trace."
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a threshold, e.g. --set fine_grained_min_calls=50 (repeatable).",
)
@click.option("--quiet", is_flag=True, help="No terminal summary.")
@click.option(
    "--job",
    "job_id",
    metavar="JOB_ID",
    help="Examine a finished or running job (job id or submission id) from its task events.",
)
@click.option(
    "--address",
    metavar="HOST:PORT",
    help="With --job: the cluster's GCS address (default: RAY_ADDRESS, else the local one).",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def doctor(
    json_path: str | None,
    html_path: str | None,
    trace_path: str | None,
    settings: tuple[str, ...],
    quiet: bool,
    job_id: str | None,
    address: str | None,
    command: tuple[str, ...],
) -> None:
    """Run a Ray program and report the handbook anti-patterns it hits.

    Example: ray-patterns doctor --html report.html -- python train.py --epochs 3

    Or, after the fact, a job on a cluster (nothing installed on the workers):
    ray-patterns doctor --job raysubmit_XYZ --address 10.0.0.1:6379
    """
    pairs = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        pairs[name] = value
    try:
        thresholds = Thresholds().with_settings(pairs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from None
    if job_id is not None:
        _doctor_job(job_id, address, thresholds, json_path, html_path, trace_path, quiet, command)
        return
    if address is not None:
        raise click.UsageError("--address goes with --job JOB_ID")
    kind, target, argv = _split_command(command)
    code = 0
    with watch(
        thresholds,
        json_path=json_path,
        html_path=html_path,
        trace_path=trace_path,
        summary=not quiet,
    ) as report:
        code = run_program(kind, target, argv)
    report.exit_code = code
    if json_path:  # again, now with the exit code
        report.write_json(json_path)
    sys.stdout.flush()
    sys.exit(code)


def _doctor_job(
    job_id: str,
    address: str | None,
    thresholds: Thresholds,
    json_path: str | None,
    html_path: str | None,
    trace_path: str | None,
    quiet: bool,
    command: tuple[str, ...],
) -> None:
    from ray_patterns.doctor import _write_outputs
    from ray_patterns.doctor.job import JobError, examine_job

    if command:
        raise click.UsageError("give either --job JOB_ID or a program to run, not both")
    try:
        report = examine_job(job_id, address, thresholds)
    except JobError as exc:
        raise click.ClickException(str(exc)) from None
    _write_outputs(report, json_path, html_path, trace_path, not quiet)
