"""`stepdown train`: rebuild the rep classifier from labelled recordings (or the simulator).

``stepdown train FOLDER`` analyses every recording in FOLDER that has a
``<name>.truth.json`` beside it (the format ``stepdown simulate`` writes: per
rep ``bottom_s`` and ``items``), validates the classifier with GroupKFold by
athlete, fits it on all reps and writes it as a skops file (default: the
shipped ``data/rep_classifier.skops``). So real labelled data can replace the
simulation.

``stepdown train --simulate N --seed S`` does the same on N simulated tests
(:func:`simulator.single_test.simulate_batch`); this is how the shipped model is
made (data/MODEL_CARD.md gives the exact command).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from analysis.model_info import SHIPPED_MODEL
from sensor_io.errors import InputError
from stepdown.cli import app
from stepdown.paths import check_output_folder

if TYPE_CHECKING:  # scikit-learn, pandas and the analysis load when the command runs
    import pandas as pd
    from rich.table import Table

HELD_OUT_SEEDS = (2026, 2027, 2028, 2031, 2032)  # tests/conftest.py's accuracy batches: never train on them


def simulated_training_set(n_tests: int, seed: int,
                           progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Labelled reps of ``n_tests`` varied simulated tests, each its own athlete.

    Labels: the truth items under the default rules (:func:`truth_document`).

    Parameters
    ----------
    n_tests : int
        Number of simulated tests (:func:`simulator.single_test.simulate_batch`).
    seed : int
        Seed of the batch; the held-out accuracy seeds are refused.
    progress : callable or None
        Called with the number of tests analysed so far, after each.

    Returns
    -------
    pandas.DataFrame
        One row per rep: features, labels and group (athlete id)
        (:func:`analysis.classifier.labelled_reps`).
    """
    import pandas as pd

    from analysis.classifier import labelled_reps
    from analysis.features import rep_features
    from analysis.pipeline import analyze
    from simulator.single_test import simulate_batch
    from stepdown.truth_files import truth_document

    if seed in HELD_OUT_SEEDS:
        raise InputError(f"--seed {seed} is a held-out accuracy batch; choose another")
    tables = []
    for i, sim in enumerate(simulate_batch(n_tests, seed=seed)):
        analysis = analyze(sim.recording, classify=False)
        tables.append(labelled_reps(rep_features(analysis), truth_document(sim),
                                    sim.recording.athlete.id))
        if progress:
            progress(i + 1)
    return pd.concat(tables, ignore_index=True)


def folder_training_set(folder: str | os.PathLike[str],
                        progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Labelled reps of every recording in ``folder`` with a ``<name>.truth.json``.

    Recordings: ``*.parquet`` or ``*.csv`` (+ ``.json`` sidecar). The group
    (athlete) is the recording's athlete id, else its file name.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder of recordings and truth files.
    progress : callable or None
        Called with each recording's file name once it is analysed.

    Returns
    -------
    pandas.DataFrame
        One row per rep: features, labels and group (:func:`analysis.classifier.labelled_reps`).

    Raises
    ------
    InputError
        Not a folder, no recording with a truth file, or one that cannot be read (named).
    """
    import pandas as pd

    from analysis.classifier import labelled_reps
    from analysis.features import rep_features
    from analysis.pipeline import analyze
    from sensor_io.recording_io import read_recording
    from stepdown.truth_files import TRUTH_SUFFIX, read_truth

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    tables = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".parquet", ".csv")):
        truth_file = path.with_name(path.stem + TRUTH_SUFFIX)
        if not truth_file.exists():
            continue
        try:
            truth = read_truth(truth_file)
            rec = read_recording(path)
            analysis = analyze(rec, classify=False)
        except InputError as err:  # name the file once, however the error was worded
            raise InputError(err if path.name in str(err) else f"{path.name}: {err}") from None
        tables.append(labelled_reps(rep_features(analysis), truth, rec.athlete.id or path.stem))
        if progress:
            progress(path.name)
    if not tables:
        raise InputError(f"{folder}: no recording with a <name>{TRUTH_SUFFIX} beside it")
    return pd.concat(tables, ignore_index=True)


def _cv_table(cv: dict[str, dict]) -> Table:
    from rich.table import Table

    from analysis.classifier import TARGETS

    table = Table(title="grouped cross-validation (GroupKFold by athlete)")
    for col in ("item", "reps", "athletes", "positive", "sensitivity", "specificity", "kappa"):
        table.add_column(col, justify="left" if col == "item" else "right")
    for target in TARGETS:
        r = cv[target]
        table.add_row(target, str(r["n_reps"]), str(r["n_athletes"]), str(r["n_positive"]),
                      f"{r['sensitivity']:.2f}", f"{r['specificity']:.2f}", f"{r['kappa']:.2f}")
    return table


@app.command("train")
def train_cmd(
    folder: Annotated[Path | None, typer.Argument(
        help="Folder of recordings with <name>.truth.json beside each.")] = None,
    out: Annotated[Path, typer.Option(help="Model file to write (.skops).")] = SHIPPED_MODEL,
    simulate: Annotated[int | None, typer.Option(
        help="Train on this many simulated tests instead of a folder.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated batch (with --simulate).")] = 11,
    folds: Annotated[int, typer.Option(help="GroupKFold splits for validation.")] = 5,
) -> None:
    """Rebuild the rep classifier (arm, trunk, rep quality) and report its grouped CV.\f

    Parameters
    ----------
    folder : Path or None
        Folder of recordings with <name>.truth.json beside each.
    out : Path
        Model file to write (.skops); default: the shipped model.
    simulate : int or None
        Train on this many simulated tests instead of a folder.
    seed : int
        Seed of the simulated batch (with ``simulate``).
    folds : int
        GroupKFold splits for validation.
    """
    from rich.console import Console

    from analysis.classifier import save_model, train

    if (folder is None) == (simulate is None):
        raise InputError("give a FOLDER of labelled recordings or --simulate N, not both or neither")
    if out.suffix != ".skops":
        raise InputError(f"--out {out}: the model file must end in .skops")
    check_output_folder(out, f"--out {out}")
    if folds < 2:
        raise InputError(f"--folds must be at least 2, not {folds}")
    console = Console()
    if folder is not None:
        table = folder_training_set(folder, lambda name: console.print(f"analysed {name}",
                                                                       highlight=False))
        source = f"folder {folder}"
    else:
        if simulate < 2:
            raise InputError(f"--simulate needs at least 2 tests, not {simulate}")
        table = simulated_training_set(simulate, seed)
        source = f"simulate_batch({simulate}, seed={seed})"
    console.print(f"{len(table)} labelled reps of {table['group'].nunique()} athletes",
                  highlight=False)
    model = train(table, n_splits=folds, source=source)
    save_model(model, out)
    console.print(_cv_table(model.cv))
    console.print(f"wrote [bold]{out}[/] ({out.stat().st_size / 1e3:.0f} kB)", highlight=False,
                  soft_wrap=True)
