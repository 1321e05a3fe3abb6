"""The `stepdown` command line.

Each group of commands lives in its own module under :mod:`stepdown.commands`
and registers itself on :data:`app`; this module only wires them together and
turns refused input into one clear line and a non-zero exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from sensor_io.errors import InputError

app = typer.Typer(
    name="stepdown",
    help="Body-worn IMUs scoring the lateral step-down test, rep by rep.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _register_commands() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    from stepdown.commands import simulate  # noqa: F401
    from stepdown.commands import load  # noqa: F401
    from stepdown.commands import catalog  # noqa: F401
    from stepdown.commands import web  # noqa: F401
    from stepdown.commands import info  # noqa: F401
    from stepdown.commands import live  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    _register_commands()
    try:
        rc = app(args=argv, standalone_mode=False)
    except InputError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        return 2
    except FileNotFoundError as err:
        err_console.print(f"[bold red]error:[/] no such file: {err.filename}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except SystemExit as err:  # typer/click usage errors and explicit exits
        return int(err.code or 0)
    except Exception as err:  # click exceptions carry their own exit code
        import click

        if isinstance(err, click.ClickException):
            err.show()
            return err.exit_code
        if isinstance(err, click.exceptions.Abort):
            return 130
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
