"""`python -m stepdown.demo` (`make demo`): what the sample recordings in data/ hold.

For each recording: the file, test leg, sensors with their rates, duration and
the reps of its ground truth (times, true measures, checklist items). When the
analysis pipeline exists (:func:`analysis.pipeline.analyze`, whose ``result()`` is the
typed :class:`analysis.result.AnalysisResult`), each test is also analysed and its per-rep
items, totals and category are printed next to the truth.

The demo ends by importing the analysed recordings into a demo catalog under a
demo data home (``out/demo-home`` by default, ``--home DIR`` to choose; set as
``STEPDOWN_HOME`` for the demo process only), creating a demo coach account
``coach`` who sees every athlete (its password is made once, printed and kept in
``<home>/demo-login.txt``), and printing the exact ``stepdown serve`` command to
look at the tests in the review web app. A rerun changes nothing in the catalog
(imports are idempotent by content) and prints the same login.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from analysis import registry
from analysis.result import AnalysisResult, Rep, TestScore
from analysis.rules import ITEMS
from analysis.uncertainty import describe_uncertainty
from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc
from sensor_io.recording import Recording
from sensor_io.recording_io import read_recording
from stepdown.truth_files import read_truth, truth_path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_HOME = DATA_DIR.parent / "out" / "demo-home"
DEMO_USER = "coach"
LOGIN_FILE = "demo-login.txt"
FAILED: dict[str, Any] = {"failed": True}  # marker: the analysis raised an unexpected error


def find_analyze() -> Callable[[Recording], Any]:
    """The analysis the demo runs (a seam: tests put a failing one in its place).

    Returns
    -------
    callable
        Recording -> an analysis whose ``result()`` is the typed result
        (:func:`analysis.pipeline.analyze`).
    """
    from analysis.pipeline import analyze

    return analyze


def sample_files(folder: Path = DATA_DIR) -> list[Path]:
    """Recordings in ``folder`` (``.parquet``; ``.csv`` with a sidecar), by name.

    Parameters
    ----------
    folder : pathlib.Path
        The samples' folder.

    Returns
    -------
    list of pathlib.Path
        The Parquet files by name, then the CSV files that have a JSON sidecar.
    """
    files = sorted(folder.glob("*.parquet"))
    files += sorted(p for p in folder.glob("*.csv") if p.with_suffix(".json").exists())
    return files


def _items_text(items: Mapping[str, int | None]) -> str:
    """Present items by name (knee level shown when 2), in the registry's order; '-' when
    none."""
    parts = [k if v == 1 else f"{k}{v}" for k in registry.item_names() if (v := items.get(k))]
    return " ".join(parts) or "-"


def _fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{round(x, digits) + 0.0:.{digits}f}"  # no "-0.0"


def overview_lines(path: Path, rec: Recording) -> list[str]:
    """File, test leg, sensors with rates, duration.

    Parameters
    ----------
    path : pathlib.Path
        The recording's file.
    rec : Recording
        The recording read from it.

    Returns
    -------
    list of str
        Rich markup lines: test leg, duration (s), step height (cm), sensors with their
        rates (Hz).
    """
    sensors = ", ".join(f"{n} ({rec.streams[n].rate_hz:.0f} Hz)" for n in rec.placements)
    return [f"test leg [bold]{rec.test_leg}[/], {rec.duration_s:.1f} s, "
            f"step {_fmt(None if rec.step_height_m is None else rec.step_height_m * 100)} cm; "
            f"sensors: {sensors}"]


def _rep_cells(rep: Mapping[str, Any] | Rep) -> list[str]:
    """Times (s) and the knee, pelvis and trunk peaks of a truth rep (a truth document's
    entry) or an analysed one."""
    if isinstance(rep, Rep):
        start, end, m = rep.start_s, rep.end_s, rep.measures.to_json()
    else:
        start, end, m = rep["start_s"], rep["end_s"], rep["measures"]
    return [f"{start:.1f}-{end:.1f}", _fmt(m.get("knee_medial_cm")),
            _fmt(m.get("pelvic_drop_deg")), _fmt(m.get("trunk_lean_deg"))]


def rep_table(truth: JSONDoc | None, analysis: AnalysisResult | None) -> Table:
    """One row per rep: true times and measures, true items and total.

    The analysis' items and total beside them when there is an analysis.

    Parameters
    ----------
    truth : dict of str to Any or None
        The truth document (times s, measures cm / deg), or None.
    analysis : AnalysisResult or None
        The typed analysis, or None.

    Returns
    -------
    rich.table.Table
        The table (times and measures: the truth's, else the analysis' own).
    """
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for col in ("rep", "start-end s", "knee cm", "pelvis °", "trunk °", "truth items", "total"):
        table.add_column(col, justify="left" if "items" in col else "right")
    if analysis is not None:
        table.add_column("analysis items")
        table.add_column("total", justify="right")
    t_reps = (truth or {}).get("reps", [])
    a_reps = analysis.reps if analysis is not None else ()
    for i in range(max(len(t_reps), len(a_reps))):
        t = t_reps[i] if i < len(t_reps) else None
        a = a_reps[i] if i < len(a_reps) else None
        row = [str(i + 1)]
        shown = t or a  # times and measures: the truth's, else the analysis' own
        row += _rep_cells(shown) if shown else ["-"] * 4
        row += [_items_text(t["items"]), str(t["total"])] if t else ["-", "-"]
        if analysis is not None:
            row += [_items_text(a.item_values()), str(a.total)] if a else ["(no rep)", "-"]
        table.add_row(*row)
    return table


def test_line(label: str, test: TestScore) -> str:
    """'truth: medium, total 3 (Piva 3/6): pelvis knee2'.

    Parameters
    ----------
    label : str
        What the line is about (``truth``, ``analysis``).
    test : TestScore
        The test-level score.

    Returns
    -------
    str
        The line, rich markup.
    """
    return (f"{label}: [bold]{test.category}[/], total {test.total} "
            f"(Piva {test.piva_total}/6): {_items_text(test.items)}")


def show_recording(
    console: Console, path: Path, rec: Recording, analyze: Callable[[Recording], Any],
) -> tuple[JSONDoc | None, AnalysisResult | JSONDoc | None]:
    """Print one recording's overview, its truth reps and, if possible, its analysis.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    path : pathlib.Path
        The recording's file (its truth file is looked for beside it).
    rec : Recording
        The recording read from ``path``.
    analyze : callable
        The analysis to run (:func:`find_analyze`).

    Returns
    -------
    truth : dict of str to Any or None
        The truth document, or None.
    analysis : AnalysisResult or dict of str to Any or None
        The typed analysis, None, or FAILED when the analysis raised an unexpected error.
    """
    console.rule(f"[bold]{path.name}")
    for line in overview_lines(path, rec):
        console.print(line, highlight=False)
    truth = read_truth(path) if truth_path(path).exists() else None
    analysis, crashed = None, False
    try:
        analysis = analyze(rec).result()
    except InputError as err:
        console.print(f"[red]analysis refused this recording:[/] {err}", highlight=False)
    except Exception as err:  # a bug in the analysis: say so, show the other files
        console.print(f"[bold red]analysis failed (a bug):[/] {type(err).__name__}: {err}",
                      highlight=False)
        crashed = True
    if truth is None and analysis is None:
        console.print("no truth file and no analysis")
        return truth, FAILED if crashed else analysis
    if truth is None:
        console.print("no truth file beside it: times and measures are the analysis' own")
    console.print(rep_table(truth, analysis))
    if truth is not None:
        console.print(test_line("truth   ", TestScore.from_json(truth["test"])),
                      highlight=False)
    if analysis is not None:
        console.print(test_line("analysis", analysis.test), highlight=False)
        missing = not_assessed(analysis)
        if missing:
            console.print(f"not assessed by the sensors worn: {', '.join(missing)}",
                          highlight=False)
        for line in describe_uncertainty(analysis):
            console.print(line, highlight=False)
    return truth, FAILED if crashed else analysis


def athlete_id(path: Path, rec: Recording) -> str:
    """The recording's athlete id, else one made from its file name.

    Parameters
    ----------
    path : pathlib.Path
        The recording's file.
    rec : Recording
        The recording read from it.

    Returns
    -------
    str
        The id (``demo-<file stem>`` when the recording has none).
    """
    return rec.athlete.id or "demo-" + "".join(c if c.isalnum() else "-"
                                              for c in path.stem.lower())[:40]


def not_assessed(analysis: AnalysisResult) -> list[str]:
    """Items the analysis left unassessed in every rep (no sensor, no classifier).

    Parameters
    ----------
    analysis : AnalysisResult
        The typed analysis.

    Returns
    -------
    list of str
        Item names in the registry's order; empty without reps.
    """
    reps = analysis.reps
    return [k for k in registry.item_names()
            if reps and all(r.items[k].source == "not_assessed" for r in reps if k in r.items)]


def agreement_line(pairs: list[tuple[JSONDoc, AnalysisResult]]) -> str:
    """How often the analysis agrees with the truth.

    Test categories, test items, and the true total inside the range the analysis stated.

    Parameters
    ----------
    pairs : list of tuple of (dict of str to Any, AnalysisResult)
        (truth document, analysis) per test.

    Returns
    -------
    str
        One line.
    """
    cat = sum(t["test"]["category"] == a.test.category for t, a in pairs)
    same = sum((a.test.items.get(k) or 0) == t["test"]["items"][k]
               for t, a in pairs for k in ITEMS)
    ranges = [(t["test"]["total"], a.uncertainty["total_range"])
              for t, a in pairs if a.uncertainty is not None]
    inside = sum(low <= total <= high for total, (low, high) in ranges)
    return (f"analysis vs truth: category agrees in {cat} of {len(pairs)} tests; "
            f"test-level items agree in {same} of {len(ITEMS) * len(pairs)}; "
            f"the true total is inside the stated range in {inside} of {len(ranges)}")


@dataclass(frozen=True)
class DemoCatalog:
    """What the demo put in its catalog: tests imported now, already there, refused."""

    home: Path
    """The demo data home."""
    imported: list[str]
    """File names imported now."""
    already: list[str]
    """File names already in the catalog."""
    refused: list[str]
    """'<file>: <why>' for each recording the catalog refused."""
    athletes: list[str]
    """The athlete ids, sorted."""
    password: str | None
    """The demo coach's password; None: the account exists but its password file is gone."""


def demo_password(conn: Any, home: Path) -> str | None:
    """Create the demo coach (sees every athlete) if missing; its password.

    The password is random, made once and kept in ``home/demo-login.txt`` (owner
    read/write only) so that a rerun prints the same login.

    Parameters
    ----------
    conn : Any
        An open catalog connection.
    home : pathlib.Path
        The demo data home.

    Returns
    -------
    str or None
        The password; None when the account exists but its password file is gone.
    """
    from stepdown.catalog.accounts import add_user, get_user

    login = home / LOGIN_FILE
    if get_user(conn, DEMO_USER) is not None:
        return login.read_text().strip() if login.exists() else None
    password = secrets.token_urlsafe(12)
    add_user(conn, DEMO_USER, password, sees_all=True)  # what `stepdown users add` does
    login.write_text(password + "\n")
    login.chmod(0o600)
    return password


def import_samples(analysed: list[tuple[Path, Recording, AnalysisResult]],
                   home: Path) -> DemoCatalog:
    """Import (path, recording read from it, analysis contract) into the catalog under ``home``.

    The recording already read and the analysis already made are stored as they
    are (not read or recomputed); the athlete is :func:`athlete_id`. A recording
    the catalog refuses is named in ``refused`` and the others are still imported.

    Parameters
    ----------
    analysed : list of tuple of (pathlib.Path, Recording, AnalysisResult)
        The analysed sample recordings.
    home : pathlib.Path
        The demo data home (``STEPDOWN_HOME`` during the import only).

    Returns
    -------
    DemoCatalog
        What was imported, already there or refused, the athletes and the login.
    """
    from stepdown.catalog.db import connect
    from stepdown.catalog.importer import import_recording
    from stepdown.paths import data_home_env, recordings_dir

    imported, already, refused = [], [], []
    athletes = {path: athlete_id(path, rec) for path, rec, _ in analysed}
    with data_home_env(home):
        conn = connect()
        try:
            for path, rec, doc in analysed:
                try:
                    res = import_recording(conn, path, athletes[path], recordings_dir(),
                                           read=lambda _, rec=rec: rec,
                                           analyze=lambda _, doc=doc: doc)
                except InputError as err:
                    refused.append(f"{path.name}: {err}")
                    continue
                (imported if res.created else already).append(path.name)
            password = demo_password(conn, home)
        finally:
            conn.close()
    return DemoCatalog(home, imported, already, refused, sorted(set(athletes.values())), password)


def stepdown_command() -> str:
    """How to run ``stepdown`` here.

    The venv's script (relative when below the current folder), else plain ``stepdown``.

    Returns
    -------
    str
        The command.
    """
    script = Path(sys.executable).parent / "stepdown"
    if not script.exists():
        return "stepdown"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def serve_command(home: Path) -> str:
    """The exact shell command that opens the demo catalog in the review web app.

    Parameters
    ----------
    home : pathlib.Path
        The demo data home.

    Returns
    -------
    str
        ``STEPDOWN_HOME=<home> <stepdown> serve``, shell-quoted.
    """
    return f"STEPDOWN_HOME={shlex.quote(str(home))} {shlex.quote(stepdown_command())} serve"


def try_line() -> str:
    """What to run next, spelled so that it runs from here.

    The venv's ``stepdown`` (not on PATH unless the venv is activated).

    Returns
    -------
    str
        The line, rich markup.
    """
    cmd = shlex.quote(stepdown_command())
    line = (f"Try: [bold]{cmd} analyze data/<file> --plot my.png[/], "
            f"[bold]{cmd} info data/<file>[/], "
            f"[bold]{cmd} simulate my.parquet --profile poor --plot my.png[/]")
    if cmd != "stepdown":
        line += f" (or [bold]source {Path(cmd).parent}/activate[/] first, then plain stepdown)"
    return line


def print_catalog(console: Console, cat: DemoCatalog) -> None:
    """Where the tests went, the demo login, and the serve command.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    cat : DemoCatalog
        What the demo put in its catalog.
    """
    console.rule("[bold]review web app")
    console.print(f"demo catalog in {cat.home}: {len(cat.imported)} test(s) imported, "
                  f"{len(cat.already)} already there; athletes {', '.join(cat.athletes)}",
                  highlight=False)
    for line in cat.refused:
        console.print(f"[red]not imported:[/] {line}", highlight=False)
    if cat.password is None:
        console.print(f"login: user [bold]{DEMO_USER}[/]; its password file "
                      f"{cat.home / LOGIN_FILE} is gone: delete {cat.home} and rerun the demo "
                      "for a new one", highlight=False)
    else:
        console.print(f"login: user [bold]{DEMO_USER}[/], password [bold]{cat.password}[/] "
                      f"(demo account, kept in {cat.home / LOGIN_FILE})", highlight=False)
    console.print("Look at the tests in the review web app (this computer only; Ctrl+C stops it):",
                  highlight=False)
    console.print(f"  [bold]{serve_command(cat.home)}[/]", highlight=False, soft_wrap=True)
    console.print("then open http://127.0.0.1:8765/ in a browser.", highlight=False)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The demo's command line: FOLDER (default data/) and ``--home``.

    Parameters
    ----------
    argv : list of str
        The arguments after the program name.

    Returns
    -------
    argparse.Namespace
        ``folder`` and ``home``, as paths.
    """
    parser = argparse.ArgumentParser(prog="python -m stepdown.demo",
                                     description="Show, analyse and import the sample recordings.")
    parser.add_argument("folder", nargs="?", type=Path, default=DATA_DIR,
                        help="folder of recordings (default data/)")
    parser.add_argument("--home", type=Path, default=DEMO_HOME,
                        help="demo data home for the catalog (default out/demo-home)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Show every sample recording in FOLDER (default data/).

    Parameters
    ----------
    argv : list of str or None
        ``[FOLDER] [--home DIR]``; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        0, or 1 when there is no recording or the analysis crashed on a file (the other
        files are still shown).
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    folder = args.folder
    console = Console(soft_wrap=True)
    if not console.is_terminal:  # piped or captured: do not squeeze the tables to 80 columns
        console = Console(width=120, soft_wrap=True)
    files = sample_files(folder)
    if not files:
        console.print(f"no recordings in {folder}; make them with python -m stepdown.sample_data")
        return 1
    analyze = find_analyze()
    console.print(f"[bold]stepdown demo[/]: {len(files)} simulated lateral step-down tests in "
                  f"{folder} (made by the simulator; see {folder / 'README.md'})", highlight=False)
    console.print("Truth items come from the simulation under the default heuristic rules: "
                  "knee > 1 cm medial (2: > 3.5 cm), pelvic drop > 5°, trunk lean > 10°; "
                  "arm, descent, pain as simulated. Test level: item in more than half the reps.",
                  highlight=False)
    pairs, failed, analysed = [], 0, []
    for path in files:
        rec = read_recording(path)
        truth, analysis = show_recording(console, path, rec, analyze)
        if analysis is FAILED:
            failed += 1
            continue
        if analysis is not None:
            analysed.append((path, rec, analysis))
        if truth is not None and analysis is not None:
            pairs.append((truth, analysis))
    if pairs:
        console.print("\n" + agreement_line(pairs), highlight=False)
    if folder == DATA_DIR and not failed:  # the programme around the test (issue 15)
        from stepdown.programme.demo import show_programme

        failed += show_programme(console, DATA_DIR / "programme", analysed, args.home.resolve())
    if analysed:
        cat = import_samples(analysed, args.home.resolve())
        print_catalog(console, cat)
        failed += len(cat.refused)
    else:
        console.print("no analysed recording to import into the demo catalog")
    console.print("\n" + try_line(), highlight=False, soft_wrap=True)
    if failed:
        console.print(f"[bold red]the analysis or import failed on {failed} file(s)[/]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
