"""The `stepdown` command line.

Each group of commands lives in its own module under :mod:`stepdown.commands`
and registers itself on :data:`app`; this module only wires them together and
turns refused input into one clear line and a non-zero exit code.

Exit codes: 0 done, 2 refused input (a file that cannot be read or written too) or a usage
error (missing argument, unknown command or option), 1 aborted at a prompt, 130 interrupted
(Ctrl-C).

Typer up to 0.2x raised click's exceptions; typer ≥ 0.29 raises those of its
own vendored copy (``typer._click``) and its own ``typer.Exit``/``typer.Abort``.
:func:`main` handles both families, so a usage error never prints a traceback
whichever typer is installed.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import typer

from sensor_io.errors import InputError, first_line

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="stepdown",
    help="Body-worn IMUs scoring the lateral step-down test, rep by rep.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _err_console() -> Console:
    """The stderr console for error lines (rich is imported only when one is printed)."""
    from rich.console import Console

    return Console(stderr=True)


@app.callback()
def _group() -> None:
    """Body-worn IMUs scoring the lateral step-down test, rep by rep."""
    # A callback keeps `stepdown CMD` a command group even when only CMD's module
    # is loaded (typer runs a lone command without its name otherwise).


COMMAND_MODULES: dict[str, str] = {
    "analyze": "analyze", "import": "catalog", "athletes": "catalog", "tests": "catalog",
    "export": "catalog", "users": "catalog", "info": "info", "devices": "live", "record": "live",
    "recover": "live", "load": "load", "simulate": "simulate", "train": "train", "serve": "web",
    "batch": "batch", "catalog": "catalog_admin", "import-dot": "vendor_import",
    "programme": "programme",
}
"""Which module of :mod:`stepdown.commands` defines each top-level command."""


def _register_commands(argv: list[str] | None = None) -> None:
    """Import the command modules; each adds its commands to ``app`` as a side effect.

    A known command imports only its own module (``stepdown analyze`` need not
    load the web app and the BLE stack: start-up time is part of every run);
    anything else (help, a typo) imports them all so help and errors list every command.
    """
    import importlib

    args = sys.argv[1:] if argv is None else argv
    first = next((a for a in args if not a.startswith("-")), None)
    wanted = {COMMAND_MODULES[first]} if first in COMMAND_MODULES else set(COMMAND_MODULES.values())
    for module in sorted(wanted):
        importlib.import_module(f"stepdown.commands.{module}")


def _family(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The exception classes ``names`` of ``module`` that exist (none if it is not installed)."""
    try:
        mod = __import__(module, fromlist=list(names))
    except ImportError:
        return ()
    return tuple(cls for name in names if isinstance(cls := getattr(mod, name, None), type))


# The families are looked up only when an exception reaches main (an except clause's
# expression is evaluated then), so a run that succeeds never imports click itself.
@lru_cache(maxsize=1)
def click_errors() -> tuple[type[BaseException], ...]:
    """Usage errors and other "show this to the user" errors, of typer's click and click."""
    return _family("typer._click.exceptions", "ClickException") + _family(
        "click.exceptions", "ClickException")


@lru_cache(maxsize=1)
def exits() -> tuple[type[BaseException], ...]:
    """An explicit exit with a code."""
    return _family("typer", "Exit") + _family("click.exceptions", "Exit")


@lru_cache(maxsize=1)
def aborts() -> tuple[type[BaseException], ...]:
    """An abort (e.g. end of input at a prompt)."""
    return _family("typer", "Abort") + _family("click.exceptions", "Abort")


# What the environment refuses (a folder read-only or not ours, a full disk, a name that is
# a folder, ...): the user can act on it, so one line. Any other OSError (a bad file
# descriptor, an invalid argument, io.UnsupportedOperation's "not writable") is a bug and
# keeps its traceback, not shown as refused input.
_ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name) for name in (
        "ENOENT", "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "EFBIG", "EIO", "EISDIR",
        "ENOTDIR", "ENAMETOOLONG", "EEXIST", "ENOTEMPTY", "EBUSY", "ETXTBSY", "EMFILE",
        "ENFILE", "ELOOP", "EXDEV")
    if hasattr(errno, name))


def _environment_problem(err: OSError) -> str | None:
    """One line for an OSError the environment caused; None for any other (a bug)."""
    code = err.errno
    if code is None:  # pyarrow's carry it in the text only: "... Detail: [errno 30] ..."
        found = re.search(r"\[errno (\d+)\]", str(err), re.IGNORECASE)
        code = int(found.group(1)) if found else None
    if code not in _ENVIRONMENT_ERRNOS:
        return None
    names = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
    return (f"{names}: " if names else "") + (err.strerror or first_line(err))


def _escape(text: str) -> str:
    """``text`` shown as it is by rich (a file's "[/bold]" or pyarrow's "[errno 30]" is no tag)."""
    from rich.markup import escape

    return escape(text)


def _exit_code(err: BaseException) -> int:
    code: Any = getattr(err, "exit_code", None)
    if code is None:
        code = getattr(err, "code", 0)
    return int(code or 0)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Parameters
    ----------
    argv : list of str or None
        The arguments after the program name; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        0 done, 2 refused input or a usage error, 1 aborted at a prompt, 130 interrupted
        (see the module docstring).
    """
    _register_commands(argv)
    old_umask = os.umask(0o077)  # health data and password hashes: files 0600, folders 0700
    try:
        rc = app(args=argv, standalone_mode=False, prog_name="stepdown")
    except InputError as err:  # its text quotes files and names: "[/x]" is no style tag
        _err_console().print(f"[bold red]error:[/] {_escape(str(err))}", highlight=False,
                             soft_wrap=True)
        return 2
    except OSError as err:  # past the commands' own checks: read-only, no permission, disk full
        text = _environment_problem(err)
        if text is None:
            raise
        if isinstance(err, FileNotFoundError) and err.filename is not None:
            text = f"no such file: {err.filename}"
        _err_console().print(f"[bold red]error:[/] {_escape(text)}", highlight=False,
                             soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        _err_console().print("interrupted")
        return 130
    except SystemExit as err:
        return _exit_code(err)
    except click_errors() as err:  # usage errors carry their message and exit code (2)
        err.show()  # type: ignore[attr-defined]
        return _exit_code(err)
    except exits() as err:
        return _exit_code(err)
    except aborts():
        _err_console().print("aborted")
        return 1
    except Exception as err:  # the catalog's database: damaged, locked past its retries, gone
        from stepdown.catalog.db import catalog_problem, is_database_error

        if not is_database_error(err):
            raise
        _err_console().print(f"[bold red]error:[/] {_escape(catalog_problem(err))}", highlight=False,
                             soft_wrap=True)
        return 2
    finally:
        os.umask(old_umask)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # `python -m stepdown.cli`: run the imported module, whose `app`
    from stepdown.cli import main as _main  # the command modules registered on

    sys.exit(_main())
