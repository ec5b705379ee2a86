"""A program that fails: its traceback and exit code 1 pass through, the report is written.

Ray-free on purpose (each Ray start in a child costs ~7 s of the test budget); the
in-process test ``test_ray_is_restored_after_the_block_even_on_error`` covers a
block that raises after using Ray.
"""

import json


def load(text):
    return json.loads(text)


print("before the error")
load("{not json")
