"""The bench: every handbook anti-pattern against its fix, on a real Ray, side by side."""

from ray_patterns.bench.core import Case, CaseResult, Variant, discover_cases, run_case

__all__ = ["Case", "CaseResult", "Variant", "discover_cases", "run_case"]
