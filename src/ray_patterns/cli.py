"""The ``ray-patterns`` command: ``bench``, ``lint``, ``rules``, ``explain``, ``pages``, ``doctor``.

Subcommands live next to what they drive (``bench/cli.py``, ``lint/cli.py``,
``doctor/cli.py``) and are imported only when called, so ``ray-patterns lint``
never pays for importing Ray.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command
_COMMANDS: dict[str, str] = {
    "bench": "ray_patterns.bench.cli:bench",
    "lint": "ray_patterns.lint.cli:lint",
    "rules": "ray_patterns.lint.cli:rules",
    "explain": "ray_patterns._catalog_cli:explain",
    "pages": "ray_patterns._catalog_cli:pages",
    "doctor": "ray_patterns.doctor.cli:doctor",
    "server": "ray_patterns.lint.server:server",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("ray_patterns"):
                raise click.ClickException(
                    f"'{cmd_name}' is not available in this build ({exc.name} is missing)"
                ) from exc
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ray-patterns")
def main() -> None:
    """The Ray design-patterns handbook as software: library, lint, doctor, bench."""


if __name__ == "__main__":  # pragma: no cover
    main()
