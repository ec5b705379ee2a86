"""fork-new-processes: a fork-started Pool inside a Ray task vs a spawn-started one.

Correctness, not speed: ``ok`` is 1 when the task returned the right result within
its timeout; ``hung`` is 1 when it did not return in time, ``crashed`` 1 when it
failed. A forked child inherits locks that Ray's threads held at the fork, so it
can hang, but it does not always: the verdict says what happened in this run. The
forking task runs in a worker of its own (``max_calls=1``) with no retries, so a
broken worker is thrown away.
"""

from __future__ import annotations

import math
import multiprocessing

import ray

from ray_patterns.bench.core import Case, CaseResult, Extra, Variant

EXPECTED = [math.factorial(i) for i in range(12)]


@ray.remote(max_calls=1, max_retries=0)
def pool_in_task(method: str, rounds: int) -> bool:
    ok = True
    for _ in range(rounds):
        with multiprocessing.get_context(method).Pool(2) as pool:
            ok = ok and pool.map(math.factorial, range(12)) == EXPECTED
    return ok


def variants(quick: bool) -> list[Variant]:
    # a spawn-started Pool of 2 takes ~1.5 s to start here: 10 s is a hang
    rounds, timeout = (2, 10.0) if quick else (5, 30.0)

    def run(method: str) -> Extra:
        ref = pool_in_task.remote(method, rounds)
        hung = crashed = ok = False
        try:
            ok = bool(ray.get(ref, timeout=timeout))
        except ray.exceptions.GetTimeoutError:
            hung = True
            ray.cancel(ref, force=True)
        except ray.exceptions.RayError:
            crashed = True
        return {"ok": float(ok), "hung": float(hung), "crashed": float(crashed)}

    return [
        Variant("fork-started Pool", "anti", lambda: run("fork")),
        Variant("spawn-started Pool", "better", lambda: run("spawn")),
    ]


def _outcome(res: CaseResult, role: str, who: str) -> str:
    v = res.by_role(role)  # type: ignore[arg-type]
    if v is None:
        return f"{who}: no figure"
    runs = len(v.extras)
    counts = {k: sum(int(e.get(k, 0)) for e in v.extras) for k in ("ok", "hung", "crashed")}
    if counts["ok"] == runs:
        return f"{who} worked in {runs} of {runs} runs"
    said = [f"{counts[k]} {k}" for k in ("hung", "crashed") if counts[k]]
    wrong = runs - counts["ok"] - counts["hung"] - counts["crashed"]
    said += [f"{wrong} wrong result"] if wrong else []
    return f"{who}: {', '.join(said)} of {runs} runs"


def verdict(res: CaseResult) -> str:
    """What each Pool did in this run: hung, crashed or worked (no hang that did not happen)."""
    anti = _outcome(res, "anti", "fork-started Pool")
    if "worked" in anti:
        anti = f"anti-pattern NOT wrong here: {anti} (a fork can hang; it did not this time)"
    return f"{anti}; {_outcome(res, 'better', 'spawn-started')}"


CASE = Case(
    "fork-new-processes",
    "a multiprocessing Pool inside a Ray task, fork vs spawn (ok = right result in time)",
    variants,
    correct="ok",
    verdict=verdict,
    repeats=(1, 2),
)
