"""Running the test programs under the doctor, and reading their expected lines."""

from __future__ import annotations

import runpy
from pathlib import Path

from ray_patterns.doctor import Report, Thresholds, watch

PROGRAMS = Path(__file__).parent / "programs"


def marked_lines(program: str, marker: str) -> list[int]:
    """Lines of ``programs/<program>.py`` whose comment holds ``marker``."""
    text = (PROGRAMS / f"{program}.py").read_text().splitlines()
    return [number for number, line in enumerate(text, 1) if f"# {marker}" in line]


def run_path(path: Path, **thresholds: int | float) -> Report:
    """Run ``path`` as ``__main__`` under ``watch()`` (Ray already up)."""
    with watch(Thresholds(**thresholds)) as report:  # type: ignore[arg-type]
        runpy.run_path(str(path), run_name="__main__")
    assert report.complete
    return report


_cache: dict[tuple[str, tuple[tuple[str, int | float], ...]], Report] = {}


def run_program(program: str, **thresholds: int | float) -> Report:
    """``run_path`` of ``programs/<program>.py``, once per session per thresholds:
    several tests read the same run (each Ray run costs a second)."""
    key = (program, tuple(sorted(thresholds.items())))
    if key not in _cache:
        _cache[key] = run_path(PROGRAMS / f"{program}.py", **thresholds)
    return _cache[key]


def sites(report: Report, slug: str) -> set[tuple[str, int]]:
    return {(Path(f.path).name, f.line) for f in report.by_check(slug)}
