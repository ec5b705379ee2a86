"""Lint settings: ``[tool.ray-patterns.lint]`` in pyproject.toml, then command-line flags.

Example pyproject.toml::

    [tool.ray-patterns.lint]
    select = ["RAY1", "submission-order"]
    ignore = ["RAY405"]
    exclude = ["generated/"]
    per-file-ignores = { "tests/*" = ["RAY105"] }

    [tool.ray-patterns.lint.fine-grained-tasks]
    large-iterable = 5000
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray_patterns import catalog
from ray_patterns.lint.core import PARSE_ERROR_CODE, PARSE_ERROR_NAME, Rule
from ray_patterns.lint.rules import all_rules

if TYPE_CHECKING:  # imported where a pattern is given: most runs have none (~20 ms)
    import pathspec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_TOP_KEYS = {"select", "ignore", "extend-select", "per-file-ignores", "exclude"}


class ConfigError(ValueError):
    """A setting that cannot be understood; the message says which and what to do."""


def resolve_selectors(selectors: Iterable[str], what: str) -> frozenset[str]:
    """Codes for selectors: codes, code prefixes, rule names, page names (ours or Ray's), ``ALL``.

    Example: ``resolve_selectors(["RAY1", "limit-pending-tasks"], "--select")``.
    """
    codes = {r.code for r in all_rules()} | {PARSE_ERROR_CODE}
    out: set[str] = set()
    for raw in selectors:
        for item in str(raw).split(","):
            sel = item.strip()
            if not sel:
                continue
            if sel.upper() == "ALL":
                out.update(codes)
            elif sel.lower() == PARSE_ERROR_NAME:
                out.add(PARSE_ERROR_CODE)
            elif named := _catalog_codes(sel, what):
                out.update(named & codes)
            elif any(code.startswith(sel.upper()) for code in codes) and sel[:1].isalpha():
                out.update(code for code in codes if code.startswith(sel.upper()))
            else:
                raise ConfigError(
                    f"{what}: unknown rule {sel!r}; "
                    "run 'ray-patterns rules' to list codes and names"
                )
    return frozenset(out)


def _catalog_codes(selector: str, what: str) -> frozenset[str]:
    """The lint codes a check name, code, old code or page name (ours or Ray's) stands for."""
    try:
        checks = catalog.checks_named(selector)
    except catalog.UnknownName:
        return frozenset()
    lint_codes = frozenset(c.code for c in checks if c.lint)
    if checks and not lint_codes:
        raise ConfigError(
            f"{what}: {selector!r} is checked only at run time "
            f"({', '.join(c.code for c in checks)}); use it with 'ray-patterns doctor'"
        )
    if not checks:
        raise ConfigError(f"{what}: page {selector!r} has no anti-pattern check to select")
    return lint_codes


@dataclass
class LintConfig:
    """Which rules run where, with which thresholds."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    per_file_ignores: list[tuple[pathspec.PathSpec, frozenset[str]]] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, int]] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)

    def enabled_codes(self) -> frozenset[str]:
        every = {r.code for r in all_rules()} | {PARSE_ERROR_CODE}
        chosen = self.select if self.select is not None else every
        return frozenset(chosen - self.ignore)

    def ignored_for(self, path: str) -> frozenset[str]:
        if not self.per_file_ignores:
            return frozenset()
        try:
            rel = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = Path(path).as_posix()
        out: set[str] = set()
        for spec, codes in self.per_file_ignores:
            if spec.match_file(rel):
                out |= codes
        return frozenset(out)

    def make_rules(self) -> list[Rule]:
        """Instances of the enabled rules with their thresholds; errors name the bad key."""
        enabled = self.enabled_codes()
        known = {r.name for r in all_rules()}
        for name in self.settings:
            if name not in known:
                raise ConfigError(
                    f"[tool.ray-patterns.lint.{name}]: no rule is named {name!r}; "
                    "run 'ray-patterns rules' to list the names"
                )
        rules = []
        for cls in all_rules():
            try:
                rule = cls(self.settings.get(cls.name))
            except ValueError as exc:
                raise ConfigError(f"[tool.ray-patterns.lint.{cls.name}]: {exc}") from exc
            if cls.code in enabled:
                rules.append(rule)
        return rules


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ray-patterns lint table."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "lint" in data.get("tool", {}).get("ray-patterns", {}):
                return candidate
    return None


def load_config(pyproject: Path | None) -> LintConfig:
    """Read ``[tool.ray-patterns.lint]`` from ``pyproject`` (defaults when None)."""
    if pyproject is None:
        return LintConfig()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read it as TOML ({exc}); fix the file") from exc
    table = data.get("tool", {}).get("ray-patterns", {}).get("lint", {})
    return config_from_table(table, pyproject.parent, str(pyproject))


def config_from_table(table: Mapping[str, Any], root: Path, where: str) -> LintConfig:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [tool.ray-patterns.lint] must be a table")
    rule_names = {r.name for r in all_rules()}
    config = LintConfig(root=root)
    for key, value in table.items():
        if isinstance(value, Mapping) and key != "per-file-ignores":
            if key not in rule_names:
                raise ConfigError(
                    f"{where}: [tool.ray-patterns.lint.{key}] names no rule; "
                    "run 'ray-patterns rules' to list the names"
                )
            config.settings[key] = dict(value)
        elif key not in _TOP_KEYS and key.replace("_", "-") not in _TOP_KEYS:
            raise ConfigError(
                f"{where}: unknown key {key!r} in [tool.ray-patterns.lint] "
                f"(known: {', '.join(sorted(_TOP_KEYS))})"
            )
    key_of = {k.replace("_", "-"): v for k, v in table.items()}
    if "select" in key_of:
        config.select = resolve_selectors(_strings(key_of["select"], "select"), "select")
    if "extend-select" in key_of:
        extra = resolve_selectors(_strings(key_of["extend-select"], "extend-select"), "select")
        base = config.select if config.select is not None else config.enabled_codes()
        config.select = frozenset(base | extra)
    if "ignore" in key_of:
        config.ignore = resolve_selectors(_strings(key_of["ignore"], "ignore"), "ignore")
    if "exclude" in key_of:
        config.exclude = _strings(key_of["exclude"], "exclude")
    pfi = key_of.get("per-file-ignores", {})
    if not isinstance(pfi, Mapping):
        raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [rules]")
    for pattern, codes in pfi.items():
        import pathspec

        spec = pathspec.PathSpec.from_lines("gitwildmatch", [pattern])
        config.per_file_ignores.append(
            (spec, resolve_selectors(_strings(codes, pattern), f"per-file-ignores {pattern!r}"))
        )
    return config


def _strings(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"[tool.ray-patterns.lint] {key} must be a list of strings, got {value!r}")
