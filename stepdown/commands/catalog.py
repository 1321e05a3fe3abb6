"""Catalog commands: `stepdown import`, `athletes`, `tests`, `export`, `users ...`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from sensor_io.errors import InputError
from stepdown.cli import app
from stepdown.paths import check_output_folder

console = Console()
users_app = typer.Typer(help="Accounts of the review web app.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _open():
    from stepdown.catalog.db import connect

    return connect()


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@app.command("import")
def import_(
    recordings: Annotated[list[Path], typer.Argument(help="Recording files (.parquet or .csv).")],
    athlete: Annotated[str, typer.Option("--athlete", help="Athlete id the tests belong to.")],
) -> None:
    """Analyse recordings and store them in the catalog (importing twice changes nothing).\f

    Parameters
    ----------
    recordings : list of Path
        Recording files (.parquet or .csv).
    athlete : str
        Athlete id the tests belong to.
    """
    from stepdown.catalog.importer import import_recording
    from stepdown.paths import recordings_dir

    conn = _open()
    done = 0
    for path in recordings:
        try:
            res = import_recording(conn, path, athlete, recordings_dir())
        except InputError as err:
            before = f" ({done} recording(s) before it were imported)" if done else ""
            reason = str(err).removeprefix(f"{path}: ").removeprefix(f"{path}, ")  # named once
            raise InputError(f"{path}: not imported: {reason}{before}") from None
        done += 1
        if res.created and res.kind != "test":
            console.print(f"imported {path} as {res.kind.replace('_', ' ')} set {res.test_id}",
                          highlight=False, markup=False)
        elif res.created:
            console.print(f"imported {path} as test {res.test_id}: total {res.total}, "
                          f"{res.category}", highlight=False, markup=False)
        else:
            what = "test" if res.kind == "test" else f"{res.kind.replace('_', ' ')} set"
            console.print(f"already in the catalog: {path} ({what} {res.test_id})",
                          highlight=False, markup=False)


@app.command()
def athletes() -> None:
    """List the athletes in the catalog with their latest test."""
    from stepdown.catalog.repo import list_athletes

    table = Table("athlete", "name", "tests", "latest total", "category")
    table.columns.insert(3, Column("last test (UTC)", no_wrap=True))
    for a in list_athletes(_open()):
        last = a.latest
        table.add_row(a.athlete.id, a.athlete.name, str(len(a.tests)),
                      last.when_text if last else "–", str(last.total) if last else "–",
                      last.category if last else "–")
    console.print(table)


@app.command()
def tests(athlete: Annotated[str, typer.Argument(help="Athlete id.")]) -> None:
    """List one athlete's tests, oldest first.\f

    Parameters
    ----------
    athlete : str
        Athlete id.
    """
    from stepdown.catalog.repo import get_athlete, list_tests

    conn = _open()
    if get_athlete(conn, athlete) is None:
        raise InputError(f"no athlete {athlete!r} in the catalog")
    table = Table("test", Column("time (UTC)", no_wrap=True), "leg", "reps", "total",
                  "Piva", Column("category", no_wrap=True), "pelvic drop °", "knee cm",
                  caption="Piva: 0-6 subtotal; pelvic drop, knee medial: mean of the reps' peaks")
    for t in list_tests(conn, athlete):
        table.add_row(str(t.id), t.when_text, t.test_leg, str(t.n_reps), str(t.total),
                      str(t.piva_total), t.category,
                      _fmt(t.mean_measures.get("pelvic_drop_deg")),
                      _fmt(t.mean_measures.get("knee_medial_cm")))
    console.print(table)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="Output file: .csv or .parquet.")],
    athlete: Annotated[list[str] | None, typer.Option(
        "--athlete", help="Only these athletes (repeatable).")] = None,
) -> None:
    """Write one row per rep (measures, items, sources, coach labels) for research.\f

    Parameters
    ----------
    out : Path
        Output file: .csv or .parquet.
    athlete : list of str or None
        Only these athletes (``--athlete``, repeatable); None for every athlete.
    """
    import pandas as pd

    from stepdown.catalog.repo import export_rows, get_athlete

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{out}: export writes .csv or .parquet, not {out.suffix!r}")
    check_output_folder(out, str(out))
    conn = _open()
    for a in athlete or []:  # a mistyped id would write an empty file and exit 0
        if get_athlete(conn, a) is None:
            raise InputError(f"--athlete: no athlete {a!r} in the catalog")
    rows = export_rows(conn, set(athlete) if athlete else None)
    frame = pd.DataFrame(rows)
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    console.print(f"wrote {len(frame)} reps to {out}", highlight=False)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    athlete: Annotated[list[str] | None, typer.Option(
        "--athlete", help="Athlete this coach may see (repeatable).")] = None,
    all_athletes: Annotated[bool, typer.Option(
        "--all-athletes", help="This account sees every athlete.")] = False,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Create a web app account (password asked twice unless --password-stdin).\f

    Parameters
    ----------
    username : str
        Login name (lower case).
    athlete : list of str or None
        Athletes this coach may see (``--athlete``, repeatable).
    all_athletes : bool
        This account sees every athlete.
    password_stdin : bool
        Read the password from the first line of stdin.
    """
    from stepdown.catalog.accounts import add_user

    password = _read_password(password_stdin)
    add_user(_open(), username, password, athletes=list(athlete or []), sees_all=all_athletes)
    sees = "every athlete" if all_athletes else (", ".join(athlete or []) or "no athlete yet")
    console.print(f"added user {username}: sees {sees}", highlight=False)


@users_app.command("assign")
def users_assign(
    username: Annotated[str, typer.Argument(help="Login name.")],
    athlete: Annotated[list[str], typer.Argument(help="Athlete ids to give access to.")],
) -> None:
    """Let a coach see more athletes.\f

    Parameters
    ----------
    username : str
        Login name.
    athlete : list of str
        Athlete ids to give access to.
    """
    from stepdown.catalog.accounts import assign

    assign(_open(), username, athlete)
    console.print(f"{username} now also sees {', '.join(athlete)}", highlight=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not _has_terminal():  # getpass would warn that it echoes, then read stdin's EOF
        raise InputError("no terminal to ask the password on; give it on stdin with "
                         "--password-stdin")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _has_terminal() -> bool:
    """Whether a hidden prompt can be shown: the controlling terminal, as getpass opens it."""
    import os

    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return sys.stdin.isatty()  # no /dev/tty (Windows): getpass reads the console
    return True


@users_app.command("unassign")
def users_unassign(
    username: Annotated[str, typer.Argument(help="Login name.")],
    athlete: Annotated[list[str], typer.Argument(help="Athlete ids to take away.")],
) -> None:
    """Stop a coach seeing some athletes.\f

    Parameters
    ----------
    username : str
        Login name.
    athlete : list of str
        Athlete ids to take away.
    """
    from stepdown.catalog.accounts import unassign

    n = unassign(_open(), username, athlete)
    console.print(f"{username} no longer sees {', '.join(athlete)} ({n} removed)",
                  highlight=False)


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Delete an account and end its sessions (its labels and notes stay, with its name).\f

    Parameters
    ----------
    username : str
        Login name.
    """
    from stepdown.catalog.accounts import remove_user

    remove_user(_open(), username)
    console.print(f"removed user {username}", highlight=False)


@users_app.command("password")
def users_password(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Set a new password; the account is logged out everywhere.\f

    Parameters
    ----------
    username : str
        Login name.
    password_stdin : bool
        Read the password from the first line of stdin (asked twice otherwise).
    """
    from stepdown.catalog.accounts import set_password

    set_password(_open(), username, _read_password(password_stdin))
    console.print(f"new password set for {username}; its sessions were ended", highlight=False)


@users_app.command("logout")
def users_logout(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """End every session of an account (it must log in again).\f

    Parameters
    ----------
    username : str
        Login name.
    """
    from stepdown.catalog.accounts import end_sessions

    n = end_sessions(_open(), username)
    console.print(f"ended {n} session(s) of {username}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List accounts and the athletes each sees."""
    from stepdown.catalog.accounts import list_users

    table = Table("user", "sees")
    for u in list_users(_open()):
        table.add_row(u.username, "every athlete" if u.sees_all else ", ".join(sorted(u.athletes)))
    console.print(table)
