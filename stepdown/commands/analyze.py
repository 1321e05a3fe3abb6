"""`stepdown analyze RECORDING`: the per-rep measures and checklist of one test.

Reads the recording (or another tool's export), checks the options and analyses it;
prints, for a person, the report of :mod:`stepdown.analysis_report`.

``--json`` prints exactly :meth:`analysis.pipeline.Analysis.to_json` (the
analysis contract of DESIGN.md plus its documented extras) and nothing else on
stdout. ``--plot out.png`` draws every available measure series over time with
the reps shaded and the thresholds drawn (:mod:`stepdown.analysis_plot`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.rules import TEST_RULES, load_rule_config
from sensor_io.errors import InputError
from sensor_io.json_doc import JSONDoc
from stepdown.cli import app
from stepdown.commands.options import parse_pain

if TYPE_CHECKING:  # rich loads when a report is printed (`--json` and --help need none of it)
    from rich.console import Console

# -- options -----------------------------------------------------------------------------------

def check_rule(rule: str | None) -> str | None:
    """The --rule value, lower case, if it is one of majority, any, worst.

    Parameters
    ----------
    rule : str or None
        The value given to ``--rule`` (any case), or None when the option was left out.

    Returns
    -------
    str or None
        The rule in lower case; None when none was given.

    Raises
    ------
    InputError
        When the rule is not one of :data:`analysis.rules.TEST_RULES`.
    """
    if rule is None:
        return None
    if rule.lower() not in TEST_RULES:
        raise InputError(f"--rule must be one of {', '.join(TEST_RULES)}, got {rule!r}")
    return rule.lower()


# -- the command -------------------------------------------------------------------------------

def read_input(path: Path, placement: str | None = None, test_leg: str | None = None) -> Any:
    """A recording file, or another tool's export (Xsens/Movella CSV: a file or a folder of
    per-rep files) with its sensors' placements and the test leg given by the user.

    Parameters
    ----------
    path : Path
        A recording (.parquet, or .csv + .json), an Xsens CSV export (file or folder) or an
        MT Manager text export.
    placement : str or None
        For exports only: where each sensor was worn, ``Pelvis=pelvis,RightThigh=thigh_right``.
    test_leg : str or None
        For exports only: the stance (test) leg, ``"left"`` or ``"right"``.

    Returns
    -------
    Recording
        The recording (:class:`sensor_io.recording.Recording`), checked as a recording file is.

    Raises
    ------
    InputError
        A path that does not exist, a folder that is not of Xsens exports, an export without
        its placements or test leg, or ``placement`` given for a file that is not an export.
    """
    from sensor_io.recording_io import check_recording, read_recording
    from sensor_io.xsens_csv import (
        looks_like_mt_export,
        looks_like_xsens_csv,
        parse_placement_map,
        read_mt_export,
        read_xsens,
    )

    if not path.exists():  # else a mistyped --standing name read as "not an Xsens export"
        raise InputError(f"{path}: no such file or folder")
    mt_export = looks_like_mt_export(path)
    if placement is None and not (mt_export or looks_like_xsens_csv(path)):
        if path.is_dir():
            raise InputError(f"{path}: a folder, and not of Xsens CSV exports; give a recording "
                             "file (.parquet or .csv + .json) or a folder of Xsens CSV files")
        return read_recording(path, compact=True)  # analysed, never written back
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
    """Read, check the options, analyse; every refusal is an InputError naming what is wrong.

    Parameters
    ----------
    recording : Path
        The recording or export to analyse (see :func:`read_input`).
    rules : Path or None
        TOML file of rule thresholds; None for the defaults.
    rule : str or None
        Test-level rule: majority (default), any or worst.
    pain : str or None
        Pain NRS 0-10: one number for the test or one per rep, comma-separated.
    quality : bool
        Also the classifier's rep-quality probability (loads scikit-learn).
    standing : Path or None
        A standing recording to calibrate from instead of the recording's own start.
    placement : str or None
        Where each sensor of an export was worn (exports only).
    test_leg : str or None
        The stance (test) leg of an export, left or right (exports only).
    calibration_from : Path or None
        Another set of the same session whose sensor-to-segment calibration is reused.

    Returns
    -------
    Analysis or HoldSet or HeelTapSet
        The test's :class:`analysis.pipeline.Analysis`, or, for a programme set (a hold or
        heel taps, issue 15), its set result through
        :func:`stepdown.programme.sets.analyze_programme_set`.
    """
    from analysis.pipeline import StepDownPipeline, analysis_config

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
    pipeline = StepDownPipeline(analysis_config(config, test_rule, quality=quality))
    session = None
    if calibration_from is not None:  # its frames made with the settings this set is analysed with
        other = read_input(calibration_from, placement, test_leg or rec.test_leg)
        try:
            session = pipeline.session_calibration(other, standing_rec)
        except InputError as err:
            raise InputError(f"--calibration-from {calibration_from}: {err}") from None
    try:
        result = pipeline.analyze(rec, pain_nrs=pain_nrs, standing=standing_rec, session=session)
    except InputError as err:
        raise InputError(f"{recording}: {str(err).removeprefix(f'{recording}: ')}") from None
    return result


def json_text(doc: JSONDoc) -> str:
    """The analysis document as strict JSON (a NaN would be a bug: refused, not printed).

    Parameters
    ----------
    doc : dict
        The analysis document (:meth:`analysis.pipeline.Analysis.to_json`).

    Returns
    -------
    str
        The JSON text, indented by one space, non-ASCII characters kept.
    """
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
    """Score a step-down recording rep by rep: measures, checklist, result and why.\f

    Parameters
    ----------
    recording : Path
        Recording (.parquet or .csv + .json), or an Xsens CSV export (file or folder).
    as_json : bool
        ``--json``: print the analysis JSON document only.
    plot : Path or None
        PNG to write: the angle curves with the reps and thresholds.
    rules : Path or None
        TOML file of rule thresholds (e.g. ``pelvis_deg = 6.0``).
    rule : str or None
        Test-level rule: majority (default), any or worst.
    pain : str or None
        Pain NRS 0-10: one number for the test, or one per rep (``0,0,2,1,0``).
    quality : bool
        Also the classifier's rep-quality probability (loads scikit-learn).
    standing : Path or None
        Calibrate from this standing recording (a static trial or an earlier set of the
        session, same sensors) instead of the recording's own start.
    placement : str or None
        Other tools' exports (Xsens CSV): where each sensor was worn.
    test_leg : str or None
        With ``placement``: the stance (test) leg, left or right.
    calibration_from : Path or None
        Reuse the sensor-to-segment calibration of another set of the same session (same
        sensors, not re-strapped).
    """
    from stepdown.analysis_plot import check_plot_path, plot_analysis  # numpy, matplotlib: when run
    from stepdown.analysis_report import print_report

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

