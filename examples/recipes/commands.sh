#!/usr/bin/env bash
# The shell commands the docs show; tests/test_examples.py checks each one parses.
set -euo pipefail

# --8<-- [start:install]
pip install ray-patterns            # library, lint, doctor
pip install "ray-patterns[bench]"   # + the peers the bench compares (joblib, dask, ray[data])
# --8<-- [end:install]

# --8<-- [start:try]
ray-patterns lint examples/                                   # find anti-patterns in source
ray-patterns explain RAY105                                   # what a rule means, and the fix
ray-patterns doctor -- python examples/ray_get_loop/anti.py  # watch a program run
ray-patterns bench --quick ray-get-loop                       # measure anti vs fix
# --8<-- [end:try]

# --8<-- [start:cluster]
export RAY_ADDRESS=ray://head-node:10001     # Ray Client; or "auto" on a cluster node
python examples/recipes/cluster.py           # the library joins that cluster
ray-patterns doctor -- python examples/recipes/cluster.py
ray-patterns bench --quick                   # measures on the cluster's CPUs
# --8<-- [end:cluster]

# --8<-- [start:lint-ci]
ray-patterns lint src --format json --output lint.json       # machine-readable
ray-patterns lint src --format sarif --output lint.sarif     # GitHub code scanning
ray-patterns lint src --statistics --exit-zero               # counts per rule, never fails
flake8 --select RAY src                                      # the same rules as a flake8 plugin
# --8<-- [end:lint-ci]

# --8<-- [start:docs]
pip install -e ".[docs]"
mkdocs serve                                   # http://127.0.0.1:8000
ray-patterns bench --plot docs/figures         # refresh the figures the pages embed
# --8<-- [end:docs]
