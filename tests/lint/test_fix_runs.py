"""Fixed code must still work: every fix, applied to a program that runs, gives a
program that lints clean for that rule and computes the same result on real Ray.

All programs run in the test session's shared Ray (one start for all of them).
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

from ray_patterns.lint.config import LintConfig
from ray_patterns.lint.core import Rule
from ray_patterns.lint.engine import lint_source
from ray_patterns.lint.fix import fix_source
from ray_patterns.lint.rules import all_rules

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

RETURN_RAY_PUT = """import ray


@ray.remote
def make(n):
    return ray.put(list(range(n)))


@ray.remote
def make_named(n):
    ref = ray.put(n * 2)
    return ref


def main():
    a = ray.get(ray.get(make.remote(3)))
    b = ray.get(ray.get(make_named.options(num_cpus=1).remote(4)))
    return a, b
"""

PASS_LARGE_ARG = """import numpy as np
import ray


@ray.remote
def score(w, i):
    return float(w[i]) + i


def main():
    weights = np.arange(200_000, dtype=np.float64)
    total = []
    for i in range(4):
        total.append(score.remote(weights, i))
    a = score.remote(weights, 1)
    b = score.remote(w=weights, i=2)
    return ray.get(total), ray.get([a, b])
"""

BLOCKING_GET = """import ray


@ray.remote
def square(x):
    return x * x


@ray.remote
class Summer:
    async def one(self, x):
        value = ray.get(square.remote(x))
        return value + 1

    async def many(self, n):
        refs = [square.remote(i) for i in range(n)]
        return sum(ray.get(refs))


def main():
    s = Summer.remote()
    return ray.get([s.one.remote(3), s.many.remote(4)])
"""

GET_IN_COMPREHENSION = """import ray


@ray.remote
def sq(x):
    return x * x


def main():
    return [ray.get(sq.remote(x)) for x in range(6)]
"""

GET_AFTER_SUBMIT = """import ray


@ray.remote
def work(i):
    return i + 1


def main(items=range(5)):
    out = []
    for i in items:
        ref = work.remote(i)
        out.append(ray.get(ref))
    return out
"""

REMOTE_IN_LOOP = """import ray


def square(x):
    return x * x


def main(n=4):
    refs = []
    for i in range(n):
        refs.append(ray.remote(square).remote(i))
    more = [ray.remote(num_cpus=1)(square).remote(i) for i in range(n)]
    return ray.get(refs), ray.get(more)
"""

FINE_GRAINED = """import ray


@ray.remote
def double(x):
    return 2 * x


def main():
    refs = [double.remote(x) for x in range(1000)]
    return ray.get(refs)
"""


def _example(slug: str) -> str:
    return (EXAMPLES / slug / "anti.py").read_text()


# (program, rules whose fix it exercises, needs --unsafe-fixes, result order may change)
CASES: dict[str, tuple[str, set[str], bool, bool]] = {
    "example-unnecessary-ray-get": (_example("unnecessary_ray_get"), {"RAY103"}, False, False),
    "example-redefine": (_example("redefine_task_actor_loop"), {"RAY201"}, False, False),
    "example-ray-get-loop": (_example("ray_get_loop"), {"RAY105"}, True, False),
    "example-submission-order": (_example("submission_order"), {"RAY202"}, True, True),
    "return-ray-put": (RETURN_RAY_PUT, {"RAY402"}, False, False),
    "pass-large-arg": (PASS_LARGE_ARG, {"RAY401"}, False, False),
    "blocking-get-in-async": (BLOCKING_GET, {"RAY301"}, False, False),
    "get-in-comprehension": (GET_IN_COMPREHENSION, {"RAY105"}, True, False),
    "example-closure-capture": (_example("closure_capture"), {"RAY104"}, True, False),
    "fine-grained": (FINE_GRAINED, {"RAY102"}, True, False),
    "remote-wrap-in-loop": (REMOTE_IN_LOOP, {"RAY201"}, False, False),
    "get-after-submit": (GET_AFTER_SUBMIT, {"RAY105"}, True, False),
}


def _run(source: str, name: str) -> Any:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module.main()


def _codes(source: str) -> set[str]:
    return {f.code for f in lint_source(source, "prog.py", LintConfig())[0]}


def test_every_fix_has_a_running_program() -> None:
    with_fix = {r.code for r in all_rules() if r.fix is not Rule.fix}
    assert with_fix == set().union(*(codes for _, codes, _, _ in CASES.values()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixed_program_lints_clean_and_computes_the_same(case: str, ray_session: None) -> None:
    source, codes, unsafe, any_order = CASES[case]
    assert codes <= _codes(source)
    if unsafe:
        assert not fix_source(source, "prog.py", LintConfig()).changed
    outcome = fix_source(source, "prog.py", LintConfig(), unsafe=unsafe)
    assert outcome.error is None
    assert codes <= {f.code for f in outcome.applied}
    assert not codes & _codes(outcome.fixed), outcome.fixed
    before = _run(source, f"orig_{case}")
    after = _run(outcome.fixed, f"fixed_{case}")
    if any_order:
        before, after = sorted(before), sorted(after)
    assert after == before
