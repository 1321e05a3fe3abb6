"""`stepdown programme ...`: the rehab programme around the test (issue 15).

- ``programme rules``: the programme's prescriptions and rules with their rationale;
- ``programme next SESSION...``: the next session's prescription from the last ones,
  each suggestion with the rule that fired and its numbers;
- ``programme band SET...``: band and no-band heel-tap sets compared on the knee;
- ``programme retest FIRST SECOND``: practice then retest, against the uncertainty.

A SESSION is a folder of one day's set recordings, or recording files (grouped into
sessions by the day they were started).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sensor_io.errors import InputError
from stepdown.cli import app

programme_app = typer.Typer(help="The rehab programme: holds, heel taps, band, retest.",
                            no_args_is_help=True)
app.add_typer(programme_app, name="programme")

ProgrammeOption = Annotated[Path | None, typer.Option(
    "--programme", help="Programme TOML (default: the shipped one; see `programme rules`).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the JSON document only.")]


def _echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


@programme_app.command("rules")
def rules_cmd(programme: ProgrammeOption = None) -> None:
    """Print the prescriptions and progression rules, each with its rationale.\f

    Parameters
    ----------
    programme : Path or None
        Programme TOML; None for the shipped one.
    """
    from analysis.exercises.progression import load_programme
    from stepdown.programme.views import programme_lines

    _echo(programme_lines(load_programme(programme)))


@programme_app.command("next")
def next_cmd(
    sessions: Annotated[list[Path] | None, typer.Argument(
        help="Session folders (one day's set recordings each) or set recordings.")] = None,
    athlete: Annotated[str | None, typer.Option(
        help="Instead of files: the athlete's sets and prescription in the catalog.")] = None,
    programme: ProgrammeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The next session's prescription, and which rule fired on which numbers.\f

    Parameters
    ----------
    sessions : list of Path or None
        Session folders (one day's set recordings each) or set recordings.
    athlete : str or None
        Instead of files: the athlete's sets and prescription in the catalog.
    programme : Path or None
        Programme TOML; None for the shipped one.
    as_json : bool
        ``--json``: print the JSON document only.
    """
    from analysis.exercises.progression import load_programme, suggest
    from stepdown.programme.sessions import read_sessions
    from stepdown.programme.views import plan_lines

    prog = load_programme(programme)
    if (athlete is None) == (not sessions):
        raise InputError("give session folders or recordings, or --athlete (one of them)")
    if athlete is not None:
        from stepdown.catalog.db import connect
        from stepdown.catalog.programme import programme_view

        conn = connect()
        try:
            plan = programme_view(conn, athlete, prog).plan
        finally:
            conn.close()
        if plan is None:
            raise InputError(f"athlete {athlete!r} has no programme sets in the catalog "
                             "(stepdown import SET --athlete ...)")
    else:
        plan = suggest(prog, read_sessions(sessions))
    if as_json:
        typer.echo(json.dumps(plan.to_json(), indent=1))
    else:
        _echo(plan_lines(plan))


@programme_app.command("band")
def band_cmd(
    sets: Annotated[list[Path], typer.Argument(help="Heel-tap set recordings, with and "
                                                    "without the band.")],
    as_json: JsonOption = False,
) -> None:
    """Compare knee control in heel-tap sets with and without the band.\f

    Parameters
    ----------
    sets : list of Path
        Heel-tap set recordings, with and without the band.
    as_json : bool
        ``--json``: print the JSON document only.
    """
    from analysis.exercises.band import compare_band
    from stepdown.programme.sessions import analyze_files

    found = analyze_files(sets)
    not_taps = [p for p, f in zip(sets, found, strict=True) if f.kind != "heel_taps"]
    if not_taps:
        raise InputError(f"{not_taps[0]}: not a heel-tap set (the band comparison is of heel taps)")
    cmp = compare_band([f.result for f in found])
    if as_json:
        typer.echo(json.dumps(cmp.to_json(), indent=1))
        return
    lines = [f"{cmp.band_sets} set(s) with the band, {cmp.no_band_sets} without "
             "(change = without - with; positive: the knee goes further in without the band)"]
    lines += [c.text() for c in cmp.changes]
    verdict = {True: "no-band knee control matches band control: the band can be weaned",
               False: "the knee is worse without the band beyond the measurement uncertainty: "
                      "keep the band", None: "no knee measure could be judged"}[cmp.matched]
    _echo(lines + [verdict])


@programme_app.command("retest")
def retest_cmd(
    first: Annotated[Path, typer.Argument(help="The first test's recording.")],
    second: Annotated[Path, typer.Argument(help="The test after practice.")],
    practice: Annotated[list[Path] | None, typer.Option(
        help="A practice set recorded between them (hold or heel taps); repeatable.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Practice then retest: did the test change beyond the measurement uncertainty?\f

    Parameters
    ----------
    first : Path
        The first test's recording.
    second : Path
        The test after practice.
    practice : list of Path or None
        Practice sets recorded between them (hold or heel taps).
    as_json : bool
        ``--json``: print the JSON document only.
    """
    from analysis.exercises.retest import compare_tests
    from stepdown.programme.sessions import analyze_files, analyze_test, practice_label

    tests = [analyze_test(path) for path in (first, second)]
    done = [practice_label(f.result) for f in analyze_files(practice or [])]
    result = compare_tests(tests[0], tests[1], done)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=1))
        return
    _echo([f"practice: {', '.join(done) or 'not recorded'}", *(c.text() for c in result.changes),
           result.verdict()])



@programme_app.command("prescribe")
def prescribe_cmd(
    athlete: Annotated[str, typer.Option(help="Athlete id.")],
    exercise: Annotated[str, typer.Option(help="hold or heel_taps.")],
    values: Annotated[list[str], typer.Argument(
        help="FIELD=VALUE ...: heel_taps sets reps step_cm load_kg band; hold sets holds "
             "hold_s (min-max), e.g. step_cm=15 band=yes, or hold_s=30-45.")],
    author: Annotated[str, typer.Option(help="Who prescribes (kept with the history).")] = "coach",
) -> None:
    """Record the coach's prescription for an athlete in the catalog (newest is current).\f

    Parameters
    ----------
    athlete : str
        Athlete id.
    exercise : str
        hold or heel_taps.
    values : list of str
        FIELD=VALUE each: heel_taps sets reps step_cm load_kg band; hold sets holds hold_s
        (min-max), e.g. ``step_cm=15 band=yes`` or ``hold_s=30-45``.
    author : str
        Who prescribes (kept with the history).
    """
    from stepdown.catalog.db import connect
    from stepdown.catalog.programme import set_prescription
    from stepdown.programme.views import parse_prescription

    rx = parse_prescription(exercise, values)
    conn = connect()
    try:
        set_prescription(conn, athlete, exercise, rx, author)
    finally:
        conn.close()
    typer.echo(f"{athlete}: {exercise.replace('_', ' ')} prescribed: "
               + ", ".join(f"{k} {v}" for k, v in rx.items()))


@programme_app.command("mark")
def mark_cmd(
    recording: Annotated[Path, typer.Argument(help="A set recording (.parquet or .csv).")],
    exercise: Annotated[str | None, typer.Option(help="test, hold or heel_taps.")] = None,
    band: Annotated[bool | None, typer.Option("--band/--no-band",
                                              help="Done with / without the knee band.")] = None,
    load_kg: Annotated[float | None, typer.Option(help="Added load, kg.")] = None,
    step_cm: Annotated[float | None, typer.Option(help="Step height, cm.")] = None,
) -> None:
    """Say afterwards what a recording was (exercise, band, load, step): its metadata is
    rewritten in place (atomically; the samples are not touched). Mark before importing.\f

    Parameters
    ----------
    recording : Path
        A set recording (.parquet or .csv).
    exercise : str or None
        test, hold or heel_taps; None keeps the recording's.
    band : bool or None
        Done with / without the knee band; None keeps the recording's.
    load_kg : float or None
        Added load, kg; None keeps the recording's.
    step_cm : float or None
        Step height, cm; None keeps the recording's.
    """
    from sensor_io.exercise import (
        exercise_from_json,
        exercise_of,
        set_from_options,
        with_exercise,
    )
    from sensor_io.recording_io import read_recording, write_recording

    rec = read_recording(recording)
    ex = exercise_of(rec)
    kind = exercise or ex.kind
    meta, step_m = set_from_options(kind, ex.band if band is None else band,
                                    ex.load_kg if load_kg is None else load_kg, step_cm,
                                    ex.prescription if kind == ex.kind else {})
    if meta is not None:
        rec = with_exercise(rec, exercise_from_json(meta))
    else:
        rec.extra.pop("exercise", None)
    if step_m is not None:
        rec.step_height_m = step_m
    write_recording(rec, recording)
    done = exercise_of(rec)
    typer.echo(f"{recording}: {done.kind.replace('_', ' ')}, band {'yes' if done.band else 'no'}, "
               f"load {done.load_kg:g} kg, step "
               + ("not given" if rec.step_height_m is None else f"{100 * rec.step_height_m:g} cm"))
