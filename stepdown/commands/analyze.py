"""`stepdown analyze RECORDING`: the per-rep measures and checklist of one test.

Prints, for a person: a table of each rep's measures (peaks over the rep,
relative to standing; units in the headers, "—" where the sensors worn cannot
give a measure, with a footnote saying why), a table of each rep's checklist
items and totals in colour, the test result with its rule, category and the
0-6 Piva subtotal, where each item came from (rule, classifier, reported,
not assessed), one plain-language line per fault, the body dimensions used and
where they came from, the calibration quality, and the thresholds with the note
that they are heuristics.

``--json`` prints exactly :meth:`analysis.pipeline.Analysis.to_json` (the
analysis contract of DESIGN.md plus its documented extras) and nothing else on
stdout. ``--plot out.png`` draws every available measure series over time with
the reps shaded and the thresholds drawn (:func:`plot_analysis`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.checklist import category, compress_reps, piva_total
from analysis.rules import ITEMS, TEST_RULES, RuleConfig, load_rule_config
from analysis.uncertainty import describe_uncertainty
from sensor_io.errors import InputError
from stepdown.cli import app

if TYPE_CHECKING:  # rich loads when a report is printed (`--json` and --help need none of it)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

NULL = "—"
PAIN_RANGE = (0.0, 10.0)

# Measure columns of the table and panels of the plot: (key, short header, label, unit, digits).
MEASURE_COLUMNS: tuple[tuple[str, str, str, str, int], ...] = (
    ("knee_medial_cm", "knee", "knee medial displacement", "cm", 1),
    ("pelvic_drop_deg", "pelvis", "pelvic drop (swing side lower)", "°", 1),
    ("trunk_lean_deg", "trunk", "lateral trunk lean", "°", 1),
    ("hip_adduction_deg", "hip add", "hip adduction", "°", 1),
    ("hip_internal_rotation_deg", "hip IR", "hip internal rotation", "°", 1),
    ("hip_flexion_deg", "hip flex", "hip flexion", "°", 0),
    ("wrist_motion_deg", "wrist", "wrist motion from the waist", "°", 0),
    ("descent_drop_ratio", "drop", "descent speed ratio (late/early)", "ratio", 2),
    ("impact_ms2", "impact", "impact at the bottom", "m/s²", 1),
)

# What scores an item the analysis could not assess.
TO_ASSESS = {"arm": "wear a wrist sensor", "trunk": "wear a trunk sensor",
             "pain": "give --pain, the athlete's 0-10 pain per rep"}

# Why a measure can be missing: the sensor it needs ("{leg}" = the test leg).
NEEDS_SENSOR = {"trunk_lean_deg": "trunk", "wrist_motion_deg": "wrist_{leg}"}

ITEM_STYLE = {0: "green", 1: "yellow", 2: "bold red"}
CATEGORY_STYLE = {"good": "bold green", "medium": "bold yellow", "poor": "bold red"}
RULE_TEXT = {
    "majority": "an item counts when present in more than half of the reps",
    "any": "an item counts when present in any rep",
    "worst": "the items of the worst rep",
}


# -- options -----------------------------------------------------------------------------------

def parse_pain(text: str | None) -> float | list[float] | None:
    """``"2"`` -> 2.0 (whole test); ``"0,0,2,1,0"`` -> one 0-10 NRS per rep; None -> None."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    values = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            raise InputError(f"--pain must be a 0-10 number or a comma-separated list of them "
                             f"(one per rep), got {text!r}") from None
        if not (math.isfinite(v) and PAIN_RANGE[0] <= v <= PAIN_RANGE[1]):
            raise InputError(f"--pain values are pain NRS from 0 to 10, got {p!r}")
        values.append(v)
    return values[0] if len(values) == 1 else values


def check_rule(rule: str | None) -> str | None:
    """The --rule value, lower case, if it is one of majority, any, worst."""
    if rule is None:
        return None
    if rule.lower() not in TEST_RULES:
        raise InputError(f"--rule must be one of {', '.join(TEST_RULES)}, got {rule!r}")
    return rule.lower()


# -- text output -------------------------------------------------------------------------------

def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NULL
    return f"{round(float(value), digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.0"


def missing_reason(key: str, series: dict[str, Any], test_leg: str) -> str:
    """Why ``key`` is null: the sensor it needs was not worn, or the rep was too short."""
    need = NEEDS_SENSOR.get(key)
    if need and series.get(key) is None:
        return f"needs a {need.format(leg=test_leg)} sensor (not worn)"
    if key == "descent_drop_ratio":
        return "descent too short to measure its speed profile"
    return "no samples of the sensors it needs in the rep"


def measures_table(doc: dict[str, Any], series: dict[str, Any]) -> tuple[Table, list[str]]:
    """Per rep: times (s) and each measure's peak; returns the table and its footnotes."""
    from rich import box
    from rich.table import Table

    leg = doc["test_leg"]
    table = Table(title="measures per rep (peak over the rep, relative to standing)",
                  header_style="bold", title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                  caption_justify="left")
    table.add_column("rep", justify="right")
    table.add_column("start–end\ns", justify="right", no_wrap=True)
    table.add_column("bottom\ns", justify="right")
    notes: dict[str, str] = {}
    marks: dict[str, str] = {}
    unvalidated = (doc.get("uncertainty") or {}).get("unvalidated") or {}
    for key, short, label, unit, _ in MEASURE_COLUMNS:
        dagger = "†" if key in unvalidated else ""
        table.add_column(f"{short}{dagger}\n{unit}", justify="right")
        if dagger:
            notes[f"{key}†"] = f"† {label}: {unvalidated[key]}"
    gapped: list[str] = []
    for rep in doc["reps"]:
        cells = [str(rep["index"]), f"{rep['start_s']:.1f}–{rep['end_s']:.1f}",
                 f"{rep['bottom_s']:.1f}"]
        why_not = rep.get("not_measured") or {}
        for key, _, label, _, digits in MEASURE_COLUMNS:
            value = rep["measures"].get(key)
            text = _fmt(value, 0 if key in unvalidated else digits)
            if key in why_not:
                mark = marks.setdefault(f"{key} {rep['index']}", "^" * (len(marks) + 1))
                notes[f"{key} {rep['index']}"] = (f"{mark} rep {rep['index']} {label}: "
                                                  f"not measured: {why_not[key]}")
                text = f"{NULL}{mark}"
            elif text == NULL:
                mark = marks.setdefault(key, "*" * (len(marks) + 1))
                notes[key] = f"{mark} {label}: {missing_reason(key, series, leg)}"
                text = f"{NULL}{mark}"
            cells.append(text)
        if rep.get("cut_by_gap"):
            gapped.append(f"{rep['index']} ({' and '.join(rep['cut_by_gap'])})")
        table.add_row(*cells)
    if gapped:
        notes["gap"] = ("reps cut by a gap in the data (the movement before/after is missing; "
                        f"times are the data's edge): {', '.join(gapped)}")
    return table, list(notes.values())


def measure_legend() -> str:
    """The columns :func:`measures_table` headers do not explain by themselves."""
    return ("pelvis: drop of the swing side; IR: internal rotation; wrist: wrist rotation from "
            "its standing pose (hand off the waist); drop: peak descent speed late/early in the "
            "descent (high: a sudden drop); impact: acceleration peak at the bottom")


def uncertainty_legend(doc: dict[str, Any]) -> str | None:
    """'uncertainty (...): knee ±0.7 cm, pelvis ±0.7°, ...' for the measured columns."""
    u = (doc.get("uncertainty") or {}).get("measures") or {}
    parts = [f"{short} ±{u[key]:g}{'' if unit == '°' else ' '}{unit}"
             for key, short, _, unit, _ in MEASURE_COLUMNS if key in u]
    if not parts:
        return None
    real = set((doc.get("uncertainty") or {}).get("model_to_reality") or {})
    shorts = [short for key, short, _, _, _ in MEASURE_COLUMNS if key in real and key in u]
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


def items_table(doc: dict[str, Any]) -> Table:
    """Per rep: the six items (0/1, knee 0/1/2), total 0-8 and Piva 0-6; last row the test."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    test = doc["test"]
    table = Table(title="checklist per rep (0 = fine; knee 2 = inside the entire foot)",
                  header_style="bold", title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                  caption=f"test: by the {test['rule']} rule; {NULL} not assessed (no sensor "
                          "for it); ᶜ decided by the classifier",
                  caption_justify="left")
    table.add_column("rep", justify="right")
    for item in ITEMS:
        table.add_column(item, justify="center")
    table.add_column("total\n0-8", justify="right")
    table.add_column("Piva\n0-6", justify="right")
    for rep in doc["reps"]:
        table.add_row(str(rep["index"]),
                      *[_item_cell(rep["items"][k], rep["sources"][k]) for k in ITEMS],
                      _total_cell(rep["total"]), str(piva_total(rep["items"])))
    table.add_section()
    table.add_row(Text("test", style="bold"),
                  *[_item_cell(test["items"][k], "") for k in ITEMS],
                  _total_cell(test["total"]), str(test["piva_total"]))
    return table


def result_line(doc: dict[str, Any], withheld: list[str] | None = None) -> Text:
    """'test result: MEDIUM, total 3 of 8, Piva 3 of 6; rule majority (...)'; with
    ``withheld`` reasons (data lost in the test), the category is not given."""
    from rich.text import Text

    test = doc["test"]
    line = Text("test result: ", style="bold")
    if withheld:
        line.append(f"CATEGORY NOT DECIDED ({'; '.join(withheld)})", style="yellow")
    else:
        line.append(test["category"].upper(), style=CATEGORY_STYLE[test["category"]])
    line.append(f", total {test['total']} of 8 (0–1 good, 2–3 medium, 4+ poor), "
                f"Piva {test['piva_total']} of 6; rule {test['rule']}: "
                f"{RULE_TEXT.get(test['rule'], '')}")
    missing = (doc.get("completeness") or {}).get("not_assessed") or []
    if missing:
        how = "; ".join(f"{item}: {TO_ASSESS[item]}" for item in missing if item in TO_ASSESS)
        line.append(f"\n  {' and '.join(missing)} not assessed: the total is a lower bound, at most "
                    f"{doc['completeness']['total_upper_bound']}" + (f" (to score {how})" if how else ""),
                    style="yellow")
    return line


def sources_line(doc: dict[str, Any]) -> str:
    """Where each item came from, e.g. 'arm: rule; trunk: not assessed (reps 1–5)'."""
    parts = []
    for item in ITEMS:
        by_source: dict[str, list[int]] = {}
        for rep in doc["reps"]:
            by_source.setdefault(rep["sources"][item], []).append(rep["index"])
        if len(by_source) == 1:
            parts.append(f"{item}: {next(iter(by_source)).replace('_', ' ')}")
        else:
            parts.append(f"{item}: " + ", ".join(
                f"{s.replace('_', ' ')} ({compress_reps(idx)})" for s, idx in by_source.items()))
    return "sources: " + "; ".join(parts)


def classifier_line(doc: dict[str, Any]) -> str | None:
    """Whether the classifier judged the items the sensors cannot measure, and with what."""
    info = doc.get("classifier") or {}
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


def body_line(doc: dict[str, Any]) -> str:
    """Body dimensions used and where each came from."""
    body = doc["body"]
    src = body["source"]
    return (f"body: thigh {body['thigh_length_m']:.3f} m ({src['thigh_length_m']}), "
            f"shank {body['shank_length_m']:.3f} m ({src['shank_length_m']}), "
            f"foot medial offset {100 * body['foot_medial_offset_m']:.1f} cm "
            f"({src['foot_medial_offset_m']}); knee medial displacement from "
            f"{body['knee_medial_from']}")


def calibration_lines(doc: dict[str, Any]) -> list[str]:
    """Standing window, stillness, and per sensor how its frame was found."""
    cal = doc["calibration"]
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
    """The thresholds in force and whether they are the default heuristics."""
    return (f"thresholds: knee > {config.knee_cm_1:g} cm (2: > {config.knee_cm_2:g} cm), "
            f"pelvic drop > {config.pelvis_deg:g}°, trunk lean > {config.trunk_deg:g}°, "
            f"wrist motion > {config.wrist_motion_deg:g}°, descent speed ratio > "
            f"{config.descent_drop_ratio:g} or impact > {config.impact_ms2:g} m/s², "
            f"pain NRS ≥ {config.pain_nrs_min:g}. Note: {note}.")


MAX_SKIPPED_LINES = 5


def print_report(console: Console, path: Path, result: Any) -> None:
    """Everything a person needs to read one analysis (see module docstring)."""
    doc = result.to_json()
    series = result.series.series
    console.print(f"[bold]{path}[/]: {doc['test_leg']} test leg, {len(doc['reps'])} reps; "
                  f"sensors: {', '.join(doc['sensors_used'])}", highlight=False)
    if doc["reps"]:
        table, notes = measures_table(doc, series)
        console.print(table)
        for note in filter(None, [measure_legend(), uncertainty_legend(doc), *notes]):
            console.print(f"  {note}", highlight=False)
        console.print(items_table(doc))
    else:
        console.print("[yellow]no complete rep found[/]")
    skipped = doc.get("skipped", [])
    for s in skipped[:MAX_SKIPPED_LINES]:
        console.print(f"skipped {s['start_s']:.1f}–{s['end_s']:.1f} s: {s['reason']}", highlight=False)
    if len(skipped) > MAX_SKIPPED_LINES:
        console.print(f"... and {len(skipped) - MAX_SKIPPED_LINES} more skipped movements")
    for warning in doc.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    from stepdown.completeness import withheld_because

    console.print(result_line(doc, withheld_because(result.recording, doc)))
    for line in describe_uncertainty(doc):
        console.print(line, highlight=False)
    if doc["reps"]:
        console.print(sources_line(doc), highlight=False)
    console.print("[bold]why:[/]" if doc["explanations"] else "[bold]why:[/] no fault found")
    for line in doc["explanations"]:
        console.print(f"  • {line}", highlight=False)
    for flag in result.checklist.flags:
        console.print(f"  [yellow]flag:[/] {flag.text()}", highlight=False)
    if (line := classifier_line(doc)) is not None:
        console.print(line, highlight=False)
    console.print(body_line(doc), highlight=False)
    for line in calibration_lines(doc):
        console.print(line, highlight=False)
    console.print(thresholds_line(result.config, doc["rules"]["note"]), highlight=False)


# -- plot --------------------------------------------------------------------------------------

def _thresholds(key: str, config: RuleConfig) -> list[tuple[float, str]]:
    """Threshold lines for a measure panel: (value in the panel's unit, label)."""
    return {
        "knee_medial_cm": [(config.knee_cm_1, "knee 1: inside the 2nd toe"),
                           (config.knee_cm_2, "knee 2: inside the foot")],
        "pelvic_drop_deg": [(config.pelvis_deg, "pelvis")],
        "trunk_lean_deg": [(config.trunk_deg, "trunk"), (-config.trunk_deg, "trunk")],
        "wrist_motion_deg": [(config.wrist_motion_deg, "arm: hand off the waist")],
    }.get(key, [])


def plot_panels(series: dict[str, Any]) -> list[list[str]]:
    """Which series go on which panel: hip adduction and rotation share one; None dropped."""
    groups = [["knee_medial_cm"], ["pelvic_drop_deg"], ["trunk_lean_deg"],
              ["hip_adduction_deg", "hip_internal_rotation_deg"], ["hip_flexion_deg"],
              ["wrist_motion_deg"]]
    panels = [[k for k in g if series.get(k) is not None] for g in groups]
    return [p for p in panels if p]


def plot_analysis(result: Any, path: Path, title: str = "") -> Path:
    """PNG of every available measure series over time (s) with the reps shaded.

    One panel per measure (hip adduction and internal rotation together), deg or
    cm relative to standing; dashed red lines are the rule thresholds, dots each
    rep's peak (the value in the table), yellow spans the reps with their index and
    total (dotted: bottom), grey the calibration window, purple skipped partial reps.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms, doc = result.series, result.to_json()
    panels = plot_panels(ms.series)
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 1.9 * len(panels) + 1.2),
                             sharex=True, squeeze=False)
    for ax, keys in zip(axes[:, 0], panels, strict=True):
        _draw_panel(ax, ms, keys, doc, result.config)
    for rep in doc["reps"]:
        axes[0, 0].annotate(f"rep {rep['index']}: {rep['total']}",
                            ((rep["start_s"] + rep["end_s"]) / 2, 0.97),
                            xycoords=("data", "axes fraction"), ha="center", va="top",
                            fontsize=8, fontweight="bold")
    axes[-1, 0].set_xlabel("time (s)", fontsize=8)
    test = doc["test"]
    fig.suptitle(f"{title}{doc['test_leg']} test leg, {test['category']}: total {test['total']} "
                 f"of 8, Piva {test['piva_total']} of 6 (rule {test['rule']})\n"
                 "grey: standing calibration; yellow: reps 'rep: total' (dotted: bottom); "
                 "dots: each rep's peak; dashed red: thresholds (default heuristics unless "
                 "configured)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _draw_panel(ax: Any, ms: Any, keys: list[str], doc: dict[str, Any],
                config: RuleConfig) -> None:
    """One measure panel: series, each rep's peak, thresholds, shading, title with units."""
    units = {k: u for k, _, _, u, _ in MEASURE_COLUMNS}
    labels = {k: lab for k, _, lab, _, _ in MEASURE_COLUMNS}
    _shade(ax, doc)
    for key, color in zip(keys, ("tab:blue", "tab:orange"), strict=False):
        y = ms.series[key]
        ax.plot(ms.t, y, lw=1.0, color=color, label=labels[key])
        for rep in doc["reps"]:
            m = (ms.t >= rep["start_s"]) & (ms.t <= rep["end_s"])
            if m.any():
                k = int(abs(y[m]).argmax() if key == "trunk_lean_deg" else y[m].argmax())
                ax.plot(ms.t[m][k], y[m][k], "o", ms=3.5, color=color)
    thresholds = _thresholds(keys[0], config)
    for value, label in thresholds:
        ax.axhline(value, color="tab:red", lw=0.8, ls="--")
        ax.annotate(label, (0.002, value), xycoords=("axes fraction", "data"), fontsize=7,
                    color="tab:red", va="bottom")
    unit = units[keys[0]]
    shown = ", ".join(f"{v:g}" for v, _ in thresholds if v > 0)
    ax.set_title(" / ".join(labels[k] for k in keys) + f" ({unit})"
                 + (f"; threshold {shown} {unit}" if shown else ""), fontsize=9, loc="left")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.22 * (hi - lo))  # headroom for the labels
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25, lw=0.5)
    if len(keys) > 1:
        ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=2)


def _shade(ax: Any, doc: dict[str, Any]) -> None:
    t0, t1 = doc["calibration"]["window_s"]
    ax.axvspan(t0, t1, color="0.85", alpha=0.6, lw=0)
    for rep in doc["reps"]:
        ax.axvspan(rep["start_s"], rep["end_s"], color="gold", alpha=0.22, lw=0)
        ax.axvline(rep["bottom_s"], color="0.4", lw=0.6, ls=":")
    for skipped in doc.get("skipped", []):
        ax.axvspan(skipped["start_s"], skipped["end_s"], color="tab:purple", alpha=0.12, lw=0)


def check_plot_path(out: Path | None) -> None:
    """--plot must be a .png in an existing folder (checked before the analysis runs)."""
    if out is None:
        return
    if out.suffix.lower() != ".png":
        raise InputError(f"--plot {out}: the plot is written as PNG; give a name ending in .png")
    if not out.parent.is_dir():
        raise InputError(f"--plot {out}: folder {out.parent} does not exist")


# -- the command -------------------------------------------------------------------------------

def read_input(path: Path, placement: str | None = None, test_leg: str | None = None) -> Any:
    """A recording file, or another tool's export (Xsens/Movella CSV: a file or a folder of
    per-rep files) with its sensors' placements and the test leg given by the user."""
    from sensor_io.recording_io import check_recording, read_recording
    from sensor_io.xsens_csv import (
        looks_like_mt_export,
        looks_like_xsens_csv,
        parse_placement_map,
        read_mt_export,
        read_xsens,
    )

    mt_export = path.exists() and looks_like_mt_export(path)
    if placement is None and not (mt_export or looks_like_xsens_csv(path)):
        if path.is_dir():
            raise InputError(f"{path}: a folder, and not of Xsens CSV exports; give a recording "
                             "file (.parquet or .csv + .json) or a folder of Xsens CSV files")
        return read_recording(path)
    if placement is None or test_leg is None:
        raise InputError(f"{path}: an Xsens export; say where each sensor was worn and the "
                         "test leg: --placement Pelvis=pelvis,RightThigh=thigh_right --test-leg right")
    if test_leg not in ("left", "right"):
        raise InputError(f"--test-leg must be left or right, got {test_leg!r}")
    if not (mt_export or looks_like_xsens_csv(path)):
        raise InputError(f"{path}: --placement is for Xsens exports (per-sensor CSV with three "
                         "header rows, or MT Manager text exports), and this is not one")
    read = read_mt_export if mt_export else read_xsens
    rec = read(path, parse_placement_map(placement), test_leg)
    check_recording(rec, path=str(path))  # as a recording file is checked: units, minimum set
    return rec


def run_analysis(recording: Path, rules: Path | None = None, rule: str | None = None,
                 pain: str | None = None, quality: bool = False, standing: Path | None = None,
                 placement: str | None = None, test_leg: str | None = None,
                 calibration_from: Path | None = None) -> Any:
    """Read, check the options, analyse; every refusal is an InputError naming what is wrong."""
    from analysis.pipeline import analyze as analyze_recording
    from analysis.pipeline import session_calibration

    test_rule = check_rule(rule)
    pain_nrs = parse_pain(pain)
    config = load_rule_config(rules) if rules is not None else None
    rec = read_input(recording, placement, test_leg)
    if "exercise" in rec.extra:  # a programme set (issue 15): hold or heel taps
        from stepdown.programme.sets import analyze_programme_set

        result = analyze_programme_set(rec, recording, rules=rules, rule=rule, pain=pain,
                                       standing=standing, calibration_from=calibration_from)
        if result is not None:
            return result
    standing_rec = None
    if standing is not None:
        standing_rec = read_input(standing, placement, test_leg or rec.test_leg)
    session = None
    if calibration_from is not None:
        other = read_input(calibration_from, placement, test_leg or rec.test_leg)
        try:
            session = session_calibration(other, standing_rec)
        except InputError as err:
            raise InputError(f"--calibration-from {calibration_from}: {err}") from None
    try:
        result = analyze_recording(rec, config=config, rule=test_rule, pain_nrs=pain_nrs,
                                   quality=quality, standing=standing_rec, session=session)
    except InputError as err:
        raise InputError(f"{recording}: {str(err).removeprefix(f'{recording}: ')}") from None
    return result


def json_text(doc: dict[str, Any]) -> str:
    """The analysis document as strict JSON (a NaN would be a bug: refused, not printed)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1)


@app.command()
def analyze(
    recording: Annotated[Path, typer.Argument(
        help="Recording (.parquet or .csv + .json), or an Xsens CSV export (file or folder).")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the analysis JSON document only.")] = False,
    plot: Annotated[Path | None, typer.Option(
        help="Write a PNG of the angle curves with the reps and thresholds.")] = None,
    rules: Annotated[Path | None, typer.Option(
        help="TOML file of rule thresholds (e.g. pelvis_deg = 6.0).")] = None,
    rule: Annotated[str | None, typer.Option(
        help="Test-level rule: majority (default), any or worst.")] = None,
    pain: Annotated[str | None, typer.Option(
        help="Pain NRS 0-10: one number for the test, or one per rep: 0,0,2,1,0.")] = None,
    quality: Annotated[bool, typer.Option(
        "--quality", help="Also the classifier's rep-quality probability (loads scikit-learn).")] = False,
    standing: Annotated[Path | None, typer.Option(
        help="Calibrate from this standing recording (a static trial or an earlier set of the "
             "session, same sensors) instead of the recording's own start.")] = None,
    placement: Annotated[str | None, typer.Option(
        help="Other tools' exports (Xsens CSV): where each sensor was worn, "
             "e.g. Pelvis=pelvis,RightThigh=thigh_right.")] = None,
    test_leg: Annotated[str | None, typer.Option(
        help="With --placement: the stance (test) leg, left or right.")] = None,
    calibration_from: Annotated[Path | None, typer.Option(
        help="Reuse the sensor-to-segment calibration of another set of the same session "
             "(same sensors, not re-strapped), e.g. for a set with too little movement.")] = None,
) -> None:
    """Score a step-down recording rep by rep: measures, checklist, result and why."""
    check_plot_path(plot)
    result = run_analysis(recording, rules, rule, pain, quality, standing, placement, test_leg,
                          calibration_from)
    if plot is not None and hasattr(result, "exercise"):
        raise InputError(f"--plot draws a test's angle curves; {recording} is a "
                         f"{result.exercise.kind} set (leave --plot out)")
    if as_json:
        print(json_text(result.to_json()))
    elif hasattr(result, "exercise"):  # a programme set
        from stepdown.programme.sets import print_set

        print_set(_console(), recording, result)
    else:
        print_report(_console(), recording, result)
    if plot is not None:
        plot_analysis(result, plot, title=f"{recording.name}: ")
        _console(stderr=as_json).print(f"plot written to {plot}", highlight=False)


def _console(stderr: bool = False) -> Console:
    """A rich console, imported when something is printed through it (not for `--json`)."""
    from rich.console import Console

    return Console(stderr=stderr)

