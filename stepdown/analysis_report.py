"""The text report of one analysis: what `stepdown analyze` prints for a person.

A table of each rep's measures (peaks over the rep, relative to standing; units in the
headers, "—" where the sensors worn cannot give a measure, with a footnote saying why), a
table of each rep's checklist items and totals in colour, the test result with its rule,
category and the 0-6 Piva subtotal, where each item came from (rule, classifier, reported,
not assessed), one plain-language line per fault, the body dimensions used and where they
came from, the calibration quality, and the thresholds with the note that they are
heuristics. rich is imported only when a report is printed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import registry
from analysis.checklist import category, compress_reps, piva_total
from analysis.result import AnalysisResult
from analysis.rules import RuleConfig
from analysis.uncertainty import describe_uncertainty
from sensor_io.recording import PLACEMENTS

if TYPE_CHECKING:  # rich loads when a report is printed (`--json` and --help need none of it)
    from collections.abc import Mapping

    import numpy as np
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from analysis.pipeline import Analysis

NULL = "—"

COLUMN_ORDER = ("knee_medial_cm", "pelvic_drop_deg", "trunk_lean_deg", "hip_adduction_deg",
                "hip_internal_rotation_deg", "hip_flexion_deg", "wrist_motion_deg",
                "descent_drop_ratio", "impact_ms2")
"""The measure columns of the table first, in this order; any other measure of the registry
follows in its order."""


def measure_columns() -> tuple[tuple[str, str, str, str, int], ...]:
    """The measure columns of the table and the panels of the plot.

    (key, short header, label, unit, digits) from :mod:`analysis.registry`,
    :data:`COLUMN_ORDER` first.

    Returns
    -------
    tuple of tuple of (str, str, str, str, int)
        One per measure of the registry.
    """
    names = registry.measure_names()
    order = [k for k in COLUMN_ORDER if k in names] + [k for k in names if k not in COLUMN_ORDER]
    return tuple((m.name, m.short, m.label, m.unit, m.digits) for m in map(registry.measure, order))


def how_to_assess(item: str) -> str | None:
    """What scores an item the analysis could not assess (registry).

    Wearing its own sensor, or for a reported item (pain) the athlete's word; None when
    neither helps.

    Parameters
    ----------
    item : str
        An item name of the registry.

    Returns
    -------
    str or None
        E.g. ``wear a wrist sensor``.
    """
    declared = registry.item(item)
    if declared.reported_how:
        return declared.reported_how
    return f"wear a {declared.sensor} sensor" if declared.sensor else None


def placement_of(segment: str, test_leg: str) -> str:
    """A segment's sensor placement: the test leg's side for a sided one ("wrist_left").

    Parameters
    ----------
    segment : str
        Segment name, e.g. ``wrist`` or ``pelvis``.
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    str
        The placement name (DESIGN.md).
    """
    sided = f"{segment}_{test_leg}"
    return sided if sided in PLACEMENTS else segment

ITEM_STYLE = {0: "green", 1: "yellow", 2: "bold red"}
CATEGORY_STYLE = {"good": "bold green", "medium": "bold yellow", "poor": "bold red"}
RULE_TEXT = {
    "majority": "an item counts when present in more than half of the reps",
    "any": "an item counts when present in any rep",
    "worst": "the items of the worst rep",
}


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NULL
    return f"{round(float(value), digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.0"


def missing_reason(key: str, series: Mapping[str, np.ndarray | None], test_leg: str) -> str:
    """Why ``key`` is null: the sensor it needs was not worn, or the rep was too short.

    Parameters
    ----------
    key : str
        A measure key of the registry.
    series : Mapping of str to numpy.ndarray or None
        Measure key -> its (N,) series in the key's unit (None: not available).
    test_leg : str
        ``left`` or ``right``: names the sided sensor.

    Returns
    -------
    str
        The reason, for a footnote.
    """
    need = registry.sensor_for_measure().get(key)
    if need and series.get(key) is None:
        return f"needs a {placement_of(need, test_leg)} sensor (not worn)"
    if key == "descent_drop_ratio":
        return "descent too short to measure its speed profile"
    return "no samples of the sensors it needs in the rep"


def measures_table(result: AnalysisResult, series: Mapping[str, np.ndarray | None]
                   ) -> tuple[Table, list[str]]:
    """Per rep: times (s) and each measure's peak; returns the table and its footnotes.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result (peaks in deg / cm relative to standing, times in s).
    series : Mapping of str to numpy.ndarray or None
        Measure key -> its (N,) series (None: not available), to say why a column is empty.

    Returns
    -------
    table : rich.table.Table
        One row per rep, units in the headers.
    notes : list of str
        The footnotes the table's marks point to.
    """
    from rich import box
    from rich.table import Table

    leg = result.recording.test_leg
    table = Table(title="measures per rep (peak over the rep, relative to standing)",
                  header_style="bold", title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                  caption_justify="left")
    table.add_column("rep", justify="right")
    table.add_column("start–end\ns", justify="right", no_wrap=True)
    table.add_column("bottom\ns", justify="right")
    notes: dict[str, str] = {}
    marks: dict[str, str] = {}
    unvalidated = (result.uncertainty or {}).get("unvalidated") or {}
    for key, short, label, unit, _ in measure_columns():
        dagger = "†" if key in unvalidated else ""
        table.add_column(f"{short}{dagger}\n{unit}", justify="right")
        if dagger:
            notes[f"{key}†"] = f"† {label}: {unvalidated[key]}"
    gapped: list[str] = []
    for rep in result.reps:
        cells = [str(rep.index), f"{rep.start_s:.1f}–{rep.end_s:.1f}", _fmt(rep.bottom_s, 1)]
        why_not = rep.not_measured or {}
        for key, _, label, _, digits in measure_columns():
            text = _fmt(rep.measures.get(key), 0 if key in unvalidated else digits)
            if key in why_not:
                mark = marks.setdefault(f"{key} {rep.index}", "^" * (len(marks) + 1))
                notes[f"{key} {rep.index}"] = (f"{mark} rep {rep.index} {label}: "
                                               f"not measured: {why_not[key]}")
                text = f"{NULL}{mark}"
            elif text == NULL:
                mark = marks.setdefault(key, "*" * (len(marks) + 1))
                notes[key] = f"{mark} {label}: {missing_reason(key, series, leg)}"
                text = f"{NULL}{mark}"
            cells.append(text)
        if rep.cut_by_gap:
            gapped.append(f"{rep.index} ({' and '.join(rep.cut_by_gap)})")
        table.add_row(*cells)
    if gapped:
        notes["gap"] = ("reps cut by a gap in the data (the movement before/after is missing; "
                        f"times are the data's edge): {', '.join(gapped)}")
    return table, list(notes.values())


def measure_legend() -> str:
    """The columns :func:`measures_table` headers do not explain by themselves.

    Returns
    -------
    str
        One line.
    """
    return ("pelvis: drop of the swing side; IR: internal rotation; wrist: wrist rotation from "
            "its standing pose (hand off the waist); drop: peak descent speed late/early in the "
            "descent (high: a sudden drop); impact: acceleration peak at the bottom")


def uncertainty_legend(result: AnalysisResult) -> str | None:
    """'uncertainty (...): knee ±0.7 cm, pelvis ±0.7°, ...' for the measured columns.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    str or None
        The line (90 % intervals, in each column's unit); None without uncertainties.
    """
    u = (result.uncertainty or {}).get("measures") or {}
    parts = [f"{short} ±{u[key]:g}{'' if unit == '°' else ' '}{unit}"
             for key, short, _, unit, _ in measure_columns() if key in u]
    if not parts:
        return None
    real = set((result.uncertainty or {}).get("model_to_reality") or {})
    shorts = [short for key, short, _, _, _ in measure_columns() if key in real and key in u]
    where = (f"; {', '.join(shorts)} include the error seen on real bodies against a lab "
             "reference, the rest are from simulation only") if shorts else ""
    return f"uncertainty (90 % intervals{where}): " + ", ".join(parts)


def _item_cell(value: int | None, source: str) -> Text:
    from rich.text import Text

    if value is None:
        return Text(NULL, style="dim")
    mark = "ᶜ" if source == "classifier" else ""
    return Text(f"{value}{mark}", style=ITEM_STYLE.get(value, "bold red"))


def _total_cell(total: int) -> Text:
    from rich.text import Text

    return Text(str(total), style=CATEGORY_STYLE[category(total)])


def items_table(result: AnalysisResult) -> Table:
    """Per rep: the six items (0/1, knee 0/1/2), total 0-8 and Piva 0-6; last row the test.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    rich.table.Table
        The coloured table.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    test = result.test
    table = Table(title="checklist per rep (0 = fine; knee 2 = inside the entire foot)",
                  header_style="bold", title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                  caption=f"test: by the {test.rule} rule; {NULL} not assessed (no sensor "
                          "for it); ᶜ decided by the classifier",
                  caption_justify="left")
    table.add_column("rep", justify="right")
    items = registry.item_names()
    for item in items:
        table.add_column(item, justify="center")
    table.add_column("total\n0-8", justify="right")
    table.add_column("Piva\n0-6", justify="right")
    for rep in result.reps:
        table.add_row(str(rep.index),
                      *[_item_cell(rep.items[k].value, rep.items[k].source) for k in items],
                      _total_cell(rep.total), str(piva_total(rep.item_values())))
    table.add_section()
    table.add_row(Text("test", style="bold"),
                  *[_item_cell(test.items[k], "") for k in items],
                  _total_cell(test.total), str(test.piva_total))
    return table


def result_line(result: AnalysisResult, withheld: list[str] | None = None) -> Text:
    """'test result: MEDIUM, total 3 of 8, Piva 3 of 6; rule majority (...)'.

    With ``withheld`` reasons (data lost in the test), the category is not given.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.
    withheld : list of str or None
        Why the category must not be given (:func:`stepdown.completeness.withheld_because`).

    Returns
    -------
    rich.text.Text
        The line, styled (a second line names items not assessed).
    """
    from rich.text import Text

    test = result.test
    line = Text("test result: ", style="bold")
    if withheld:
        line.append(f"CATEGORY NOT DECIDED ({'; '.join(withheld)})", style="yellow")
    else:
        line.append(test.category.upper(), style=CATEGORY_STYLE[test.category])
    line.append(f", total {test.total} of 8 (0–1 good, 2–3 medium, 4+ poor), "
                f"Piva {test.piva_total} of 6; rule {test.rule}: {RULE_TEXT.get(test.rule, '')}")
    completeness = result.completeness or {}
    missing = completeness.get("not_assessed") or []
    if missing:
        how = "; ".join(f"{item}: {hint}" for item in missing if (hint := how_to_assess(item)))
        line.append(f"\n  {' and '.join(missing)} not assessed: the total is a lower bound, at most "
                    f"{completeness['total_upper_bound']}" + (f" (to score {how})" if how else ""),
                    style="yellow")
    return line


def sources_line(result: AnalysisResult) -> str:
    """Where each item came from, e.g. 'arm: rule; trunk: not assessed (reps 1–5)'.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    str
        One line.
    """
    parts = []
    for item in registry.item_names():
        by_source: dict[str, list[int]] = {}
        for rep in result.reps:
            by_source.setdefault(rep.items[item].source, []).append(rep.index)
        if len(by_source) == 1:
            parts.append(f"{item}: {next(iter(by_source)).replace('_', ' ')}")
        else:
            parts.append(f"{item}: " + ", ".join(
                f"{s.replace('_', ' ')} ({compress_reps(idx)})" for s, idx in by_source.items()))
    return "sources: " + "; ".join(parts)


def classifier_line(result: AnalysisResult) -> str | None:
    """Whether the classifier judged the items the sensors cannot measure, and with what.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    str or None
        One line; None when the result says nothing about a classifier.
    """
    info = result.classifier or {}
    status = info.get("status")
    if not status:
        return None
    if status != "used":
        return f"classifier: {status}"
    quality = info.get("quality_proba") or []
    q = (f"; rep quality ({info.get('quality', 'probability')}): "
         + ", ".join(f"{p:.2f}" for p in quality)) if quality else ""
    trained = f", trained on {info['trained_on']}" if info.get("trained_on") else ""
    return f"classifier: {info.get('model', 'model')}{trained}{q}"


def body_line(result: AnalysisResult) -> str:
    """Body dimensions used and where each came from.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    str
        Thigh and shank lengths (m), foot medial offset (cm), each with its source.
    """
    body = result.recording.body or {}
    src = body["source"]
    return (f"body: thigh {body['thigh_length_m']:.3f} m ({src['thigh_length_m']}), "
            f"shank {body['shank_length_m']:.3f} m ({src['shank_length_m']}), "
            f"foot medial offset {100 * body['foot_medial_offset_m']:.1f} cm "
            f"({src['foot_medial_offset_m']}); knee medial displacement from "
            f"{body['knee_medial_from']}")


def calibration_lines(result: AnalysisResult) -> list[str]:
    """Standing window, stillness, and per sensor how its frame was found.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result.

    Returns
    -------
    list of str
        The window (s), gyro sd (°/s) and acc sd (m/s²), then one line per sensor.
    """
    cal = result.recording.calibration or {}
    t0, t1 = cal["window_s"]
    still = cal.get("stillness", {})
    lines = [f"calibration: standing still {t0:.1f}–{t1:.1f} s ({t1 - t0:.1f} s); gyro sd "
             f"{still.get('gyr_std_deg_s', float('nan')):.2f} °/s, acc sd "
             f"{still.get('acc_std_ms2', float('nan')):.3f} m/s²"]
    for name, s in cal.get("sensors", {}).items():
        extra = ""
        if s.get("flexion_axis_share") is not None:
            extra = (f", flexion axis {100 * s['flexion_axis_share']:.0f}% of the rotation, "
                     f"{s['flexion_axis_to_vertical_deg']:.0f}° from vertical")
        lines.append(f"  {name}: {s['method']}, gravity {s['gravity_ms2']:.2f} m/s²{extra}")
    return lines


def thresholds_line(config: RuleConfig, note: str) -> str:
    """The thresholds in force and whether they are the default heuristics.

    Each item's rules, from the registry: 'thresholds: knee: knee medial displacement >
    1 cm (2: > 3.5 cm), ...'.

    Parameters
    ----------
    config : RuleConfig
        The thresholds the analysis used.
    note : str
        Where they come from, e.g. that they are default heuristics.

    Returns
    -------
    str
        One line.
    """
    def rule_text(rule: registry.Rule) -> str:
        unit = registry.unit_after_number(rule.measure)
        first, *higher = rule.levels
        more = "".join(f" ({lv.points}: > {config.threshold(lv.setting):g}{unit})" for lv in higher)
        return (f"{registry.measure(rule.measure).label} > "
                f"{config.threshold(first.setting):g}{unit}{more}")

    parts = [f"{i.name}: " + " or ".join(map(rule_text, i.rules)) for i in registry.ITEMS if i.rules]
    return (f"thresholds: {', '.join(parts)}, pain: NRS ≥ {config.pain_nrs_min:g}. "
            f"Note: {note}.")


MAX_SKIPPED_LINES = 5


def print_report(console: Console, path: Path, analysis: Analysis) -> None:
    """Everything a person needs to read one analysis (see module docstring).

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    path : pathlib.Path
        The recording analysed (named in the first line).
    analysis : Analysis
        The analysis: result, measure series, checklist flags and rule config.
    """
    from rich.markup import escape  # a file named "[/x].parquet" is no style tag

    result = analysis.result()
    console.print(f"[bold]{escape(str(path))}[/]: {result.recording.test_leg} test leg, "
                  f"{len(result.reps)} reps; sensors: {', '.join(result.recording.sensors_used)}",
                  highlight=False)
    if result.reps:
        table, notes = measures_table(result, analysis.series.series)
        console.print(table)
        for note in filter(None, [measure_legend(), uncertainty_legend(result), *notes]):
            console.print(f"  {note}", highlight=False)
        console.print(items_table(result))
    else:
        console.print("[yellow]no complete rep found[/]")
    skipped = result.skipped or ()
    for s in skipped[:MAX_SKIPPED_LINES]:
        console.print(f"skipped {s.start_s:.1f}–{s.end_s:.1f} s: {s.reason}", highlight=False)
    if len(skipped) > MAX_SKIPPED_LINES:
        console.print(f"... and {len(skipped) - MAX_SKIPPED_LINES} more skipped movements")
    for warning in result.warnings or ():
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    from stepdown.completeness import withheld_because

    console.print(result_line(result, withheld_because(analysis.recording, result)))
    for line in describe_uncertainty(result):
        console.print(line, highlight=False)
    if result.reps:
        console.print(sources_line(result), highlight=False)
    explanations = result.explanations or ()
    console.print("[bold]why:[/]" if explanations else "[bold]why:[/] no fault found")
    for line in explanations:
        console.print(f"  • {line}", highlight=False)
    for flag in analysis.checklist.flags:
        console.print(f"  [yellow]flag:[/] {flag.text()}", highlight=False)
    if (line := classifier_line(result)) is not None:
        console.print(line, highlight=False)
    console.print(body_line(result), highlight=False)
    for line in calibration_lines(result):
        console.print(line, highlight=False)
    console.print(thresholds_line(analysis.config, (result.rules or {})["note"]), highlight=False)
