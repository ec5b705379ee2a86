"""Submits the tasks of helpers.py: judged as if they were defined here."""

import helpers as h
import ray
from helpers import double, heavy, make_block, plain, summary


def found():
    refs = [double.remote(x) for x in range(100_000)]  # expect: RAY102
    more = [h.double.remote(x) for x in range(100_000)]  # expect: RAY102
    blocks = ray.get([make_block.remote(i) for i in range(2000)])  # expect: RAY203
    return refs, more, blocks


def traps():
    work = [heavy.remote(n) for n in range(100_000)]  # real work in each task
    sums = ray.get([summary.remote(i) for i in range(2000)])  # small results
    return work, sums, plain(3)
