"""``inside_anti.py`` then ``inside_fixed.py`` in one watched run (one Ray start for both)."""

import runpy
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    for name in ("inside_anti.py", "inside_fixed.py"):
        runpy.run_path(str(HERE / name), run_name="__main__")
