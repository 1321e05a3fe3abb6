"""The programme part of `make demo`: a programme session end to end on the samples in
data/programme/ (a hold set and a heel-tap set) and a practice-then-retest (the poor
left-leg test sample and its simulated retest in the same session), imported into the demo
catalog with the next session's suggestions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.result import AnalysisResult
from sensor_io.errors import InputError

DEMO_ATHLETE = "demo-programme"


RETEST_OF = "poor_left_pelvis_thigh.parquet"
RETEST_PROFILE = "good"


def _retest_pair(analysed: list[tuple[Path, Any, AnalysisResult]]
                 ) -> tuple[AnalysisResult, AnalysisResult] | None:
    """The poor left-leg sample as a first test, and its retest after practice: the same
    simulated athlete and straps in the same session (:attr:`SimConfig.movement_seed`), a
    new standing calibration and movement, the good profile."""
    from analysis.pipeline import analyze
    from simulator.retest import MOVEMENT_SEED_OFFSET
    from simulator.single_test import SimConfig, simulate

    found = [(rec, result) for p, rec, result in analysed if p.name == RETEST_OF]
    if not found:
        return None
    rec, first = found[0]
    seed = int(rec.extra["simulated"]["seed"])
    retest = simulate(SimConfig(seed=seed, movement_seed=seed + MOVEMENT_SEED_OFFSET,
                                test_leg=rec.test_leg, sensors=("pelvis", "thigh"),
                                profile=RETEST_PROFILE, n_reps=5,
                                step_height_m=rec.step_height_m))
    return first, analyze(retest.recording).result()


def show_programme(console: Any, folder: Path, analysed: list[tuple[Path, Any, AnalysisResult]],
                   home: Path) -> int:
    """Print the programme session and import its sets into the demo catalog.

    Parameters
    ----------
    console : rich.console.Console
        Where the session is printed.
    folder : Path
        The folder of set recordings (data/programme/).
    analysed : list of (Path, Recording, AnalysisResult)
        The test samples already analysed by the demo (the poor left-leg one is retested).
    home : Path
        The demo's data home (its catalog).

    Returns
    -------
    int
        The number of files that failed (0: all analysed and imported).
    """
    from analysis.exercises.dispatch import analyze_set
    from analysis.exercises.progression import Session, load_programme, suggest
    from analysis.exercises.retest import compare_tests
    from sensor_io.recording_io import read_recording
    from stepdown.programme.sessions import practice_label
    from stepdown.programme.sets import set_lines
    from stepdown.programme.views import plan_lines

    files = sorted(folder.glob("*.parquet"))
    if not files:
        return 0
    console.rule("[bold]programme session")
    console.print("The rehab programme around the test (simulated sets in "
                  f"{folder}): a glute hold set and a heel-tap set, analysed.", highlight=False)
    docs, failed = [], 0
    for path in files:
        try:
            rec = read_recording(path)
            set_result = analyze_set(rec).result()
        except InputError as err:
            console.print(f"[red]{path.name}: {err}[/]", highlight=False)
            failed += 1
            continue
        docs.append((path, rec, set_result))
        console.print(f"\n[bold]{path.name}[/]", highlight=False)
        for line in set_lines(set_result):
            console.print(f"  {line}", highlight=False)
    pair = _retest_pair(analysed)
    if pair:
        result = compare_tests(*pair, [practice_label(d) for _, _, d in docs])
        console.print(f"\n[bold]practice then retest[/] ({RETEST_OF} and its simulated retest "
                      "in the same session: same athlete and straps, a new standing "
                      f"calibration, a {RETEST_PROFILE} movement after practice):", highlight=False)
        for c in result.changes:
            console.print(f"  {c.text()}", highlight=False)
        console.print(f"  {result.verdict()}", highlight=False)
    if docs:
        plan = suggest(load_programme(), [Session("today", tuple(d for _, _, d in docs))])
        console.print("\n[bold]next session[/] (stepdown programme next):", highlight=False)
        for line in plan_lines(plan):
            console.print(f"  {line}", highlight=False)
        failed += _import(console, docs, home)
    return failed


def _import(console: Any, docs: list[tuple[Path, Any, Any]], home: Path) -> int:
    from stepdown.catalog.db import connect
    from stepdown.catalog.importer import import_recording
    from stepdown.paths import data_home_env, recordings_dir

    failed = 0
    with data_home_env(home):
        conn = connect()
        try:
            for path, rec, _ in docs:
                try:
                    import_recording(conn, path, DEMO_ATHLETE, recordings_dir(),
                                     read=lambda _, rec=rec: rec)
                except InputError as err:
                    console.print(f"[red]not imported:[/] {path.name}: {err}", highlight=False)
                    failed += 1
        finally:
            conn.close()
    console.print(f"programme sets imported for athlete {DEMO_ATHLETE}: see "
                  f"/athletes/{DEMO_ATHLETE}/programme in the review web app", highlight=False)
    return failed
