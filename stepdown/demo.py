"""`python -m stepdown.demo` (`make demo`): what the sample recordings in data/ hold.

For each recording: the file, test leg, sensors with their rates, duration and
the reps of its ground truth (times, true measures, checklist items). When the
analysis pipeline exists (:func:`analysis.pipeline.analyze`, whose result is or
gives by ``to_json()`` the analysis JSON contract), each test is also analysed and its per-rep items,
totals and category are printed next to the truth. That part switches on by
itself once the module lands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from analysis.rules import ITEMS
from sensor_io.errors import InputError
from sensor_io.recording import Recording
from sensor_io.recording_io import read_recording
from stepdown.simulation import read_truth, truth_path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FAILED: dict[str, Any] = {"failed": True}  # marker: the analysis raised an unexpected error
ABBREV = {"arm": "arm", "trunk": "trk", "pelvis": "pel", "knee": "knee", "descent": "desc",
          "pain": "pain"}


def find_analyze() -> Callable[[Recording], Any] | None:
    """``analysis.pipeline.analyze`` if that module exists, else None."""
    try:
        from analysis import pipeline
    except ModuleNotFoundError as err:
        if err.name != "analysis.pipeline":
            raise
        return None
    return getattr(pipeline, "analyze", None)


def as_contract(result: Any) -> dict[str, Any]:
    """The analysis JSON contract from what ``analyze`` returned (a dict, or an
    object with ``to_json()``)."""
    return result.to_json() if hasattr(result, "to_json") else result


def sample_files(folder: Path = DATA_DIR) -> list[Path]:
    """Recordings in ``folder`` (``.parquet``; ``.csv`` with a sidecar), by name."""
    files = sorted(folder.glob("*.parquet"))
    files += sorted(p for p in folder.glob("*.csv") if p.with_suffix(".json").exists())
    return files


def _items_text(items: dict[str, Any]) -> str:
    """Present items as short names (knee level shown when 2); '-' when none."""
    parts = [ABBREV[k] if v == 1 else f"{ABBREV[k]}{v}" for k in ITEMS
             if (v := items.get(k))]
    return " ".join(parts) or "-"


def _fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{round(x, digits) + 0.0:.{digits}f}"  # no "-0.0"


def overview_lines(path: Path, rec: Recording) -> list[str]:
    """File, test leg, sensors with rates, duration."""
    sensors = ", ".join(f"{n} ({rec.streams[n].rate_hz:.0f} Hz)" for n in rec.placements)
    return [f"test leg [bold]{rec.test_leg}[/], {rec.duration_s:.1f} s, "
            f"step {_fmt(None if rec.step_height_m is None else rec.step_height_m * 100)} cm; "
            f"sensors: {sensors}"]


def rep_table(truth: dict[str, Any] | None, analysis: dict[str, Any] | None) -> Table:
    """One row per rep: true times and measures, true items and total, and the
    analysis' items and total beside them when there is an analysis."""
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for col in ("rep", "start-end s", "knee cm", "pelvis °", "trunk °", "truth items", "total"):
        table.add_column(col, justify="left" if "items" in col else "right")
    if analysis is not None:
        table.add_column("analysis items")
        table.add_column("total", justify="right")
    t_reps = (truth or {}).get("reps", [])
    a_reps = (analysis or {}).get("reps", [])
    for i in range(max(len(t_reps), len(a_reps))):
        t = t_reps[i] if i < len(t_reps) else None
        row = [str(i + 1)]
        if t:
            m = t["measures"]
            row += [f"{t['start_s']:.1f}-{t['end_s']:.1f}", _fmt(m.get("knee_medial_cm")),
                    _fmt(m.get("pelvic_drop_deg")), _fmt(m.get("trunk_lean_deg")),
                    _items_text(t["items"]), str(t["total"])]
        else:
            row += ["-"] * 6
        if analysis is not None:
            a = a_reps[i] if i < len(a_reps) else None
            row += [_items_text(a["items"]), str(a["total"])] if a else ["(no rep)", "-"]
        table.add_row(*row)
    return table


def test_line(label: str, test: dict[str, Any]) -> str:
    """'truth: medium, total 3 (Piva 3/6): pel knee2'."""
    return (f"{label}: [bold]{test['category']}[/], total {test['total']} "
            f"(Piva {test['piva_total']}/6): {_items_text(test['items'])}")


def show_recording(
    console: Console, path: Path, analyze: Callable[[Recording], Any] | None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Print one recording's overview, its truth reps and, if possible, its analysis.

    Returns (truth document or None, analysis contract, None, or FAILED when the
    analysis raised an unexpected error)."""
    console.rule(f"[bold]{path.name}")
    rec = read_recording(path)
    for line in overview_lines(path, rec):
        console.print(line, highlight=False)
    truth = read_truth(path) if truth_path(path).exists() else None
    analysis, crashed = None, False
    if analyze is not None:
        try:
            analysis = as_contract(analyze(rec))
        except InputError as err:
            console.print(f"[red]analysis refused this recording:[/] {err}", highlight=False)
        except Exception as err:  # a bug in the analysis: say so, show the other files
            console.print(f"[bold red]analysis failed (a bug):[/] {type(err).__name__}: {err}",
                          highlight=False)
            crashed = True
    if truth is None and analysis is None:
        console.print("no truth file and no analysis yet")
        return truth, FAILED if crashed else analysis
    console.print(rep_table(truth, analysis))
    if truth is not None:
        console.print(test_line("truth   ", truth["test"]), highlight=False)
    if analysis is not None:
        console.print(test_line("analysis", analysis["test"]), highlight=False)
        missing = not_assessed(analysis)
        if missing:
            console.print(f"not assessed by the sensors worn: {', '.join(missing)}",
                          highlight=False)
    return truth, FAILED if crashed else analysis


def not_assessed(analysis: dict[str, Any]) -> list[str]:
    """Items the analysis left unassessed in every rep (no sensor, no classifier)."""
    reps = analysis.get("reps", [])
    return [k for k in ITEMS
            if reps and all(r.get("sources", {}).get(k) == "not_assessed" for r in reps)]


def agreement_line(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """How often the analysis agrees with the truth: test categories, test items."""
    cat = sum(t["test"]["category"] == a["test"]["category"] for t, a in pairs)
    same = sum((a["test"]["items"].get(k) or 0) == t["test"]["items"][k]
               for t, a in pairs for k in ITEMS)
    return (f"analysis vs truth: category agrees in {cat} of {len(pairs)} tests; "
            f"test-level items agree in {same} of {len(ITEMS) * len(pairs)}")


def main(argv: list[str] | None = None) -> int:
    """Show every sample recording in FOLDER (default data/).

    Returns 0, or 1 when there is no recording or the analysis crashed on a file
    (the other files are still shown)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DATA_DIR
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
    if analyze is None:
        console.print("[yellow]The analysis (analysis.pipeline) is not there yet: showing the "
                      "recordings and their truth only.[/]")
    pairs, failed = [], 0
    for path in files:
        truth, analysis = show_recording(console, path, analyze)
        if analysis is FAILED:
            failed += 1
        elif truth is not None and analysis is not None:
            pairs.append((truth, analysis))
    if pairs:
        console.print("\n" + agreement_line(pairs), highlight=False)
    console.print("\nTry: [bold]stepdown info data/<file>[/], "
                  "[bold]stepdown simulate my.parquet --profile poor --plot my.png[/]",
                  highlight=False)
    if failed:
        console.print(f"[bold red]the analysis failed on {failed} file(s)[/]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
