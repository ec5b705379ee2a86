"""The doctor as a context manager: report the anti-patterns a block of code hit."""

import time

import ray

from ray_patterns.doctor import Thresholds, watch


@ray.remote
def work(i):
    time.sleep(0.01)
    return i


def main(n=5):
    # --8<-- [start:watch]
    with watch(Thresholds(get_loop_min_count=3), json_path=None) as report:
        values = [ray.get(work.remote(i)) for i in range(n)]  # ray-get-loop
    for finding in report.findings:
        print(f"{finding.path}:{finding.line}: {finding.slug}: {finding.message}")
    # --8<-- [end:watch]
    return values, [f.slug for f in report.findings]


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
