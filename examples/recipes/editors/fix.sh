#!/usr/bin/env bash
# The lint's fix commands docs/editors.md shows; tests/lint/test_fix.py checks each one.
set -euo pipefail

# --8<-- [start:fix]
ray-patterns lint src --diff                    # what the safe fixes would change (exit 1 if any)
ray-patterns lint src --fix                     # apply them, then report what is left
ray-patterns lint src --fix --unsafe-fixes      # also the fixes that change behaviour
ray-patterns lint src --show-fixes              # each finding with its fix and its kind
# --8<-- [end:fix]
