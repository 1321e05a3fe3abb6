"""`stepdown import-dot`: Movella DOT app exports (one CSV per sensor) as one recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sensor_io.errors import InputError
from stepdown.cli import app
from stepdown.paths import check_output_folder

console = Console()


@app.command("import-dot")
def import_dot(
    files: Annotated[list[str], typer.Argument(
        help="PLACEMENT=FILE per sensor, e.g. pelvis=pelvis.csv thigh_left=thigh.csv")],
    leg: Annotated[str, typer.Option("--leg", help="Test leg: left or right.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Recording to write "
                                                         "(.parquet, or .csv + .json).")],
    athlete: Annotated[str | None, typer.Option("--athlete", help="Athlete id.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out.")] = False,
) -> None:
    """Join Movella DOT app CSV exports (Acc and Gyr columns) into one recording.\f

    Parameters
    ----------
    files : list of str
        PLACEMENT=FILE per sensor, e.g. ``pelvis=pelvis.csv thigh_left=thigh.csv``.
    leg : str
        Test leg: left or right.
    out : Path
        Recording to write (.parquet, or .csv + .json).
    athlete : str or None
        Athlete id.
    force : bool
        Overwrite ``out`` if it exists (else it is refused: it may be a recording).
    """
    from sensor_io.recording import Athlete  # here, not at the top: `--help` stays light
    from sensor_io.recording_io import SUFFIXES, write_recording
    from sensor_io.vendors.movella.app_export import recording_from_dot

    if out.suffix.lower() not in SUFFIXES:  # all before the exports are read
        raise InputError(f"--out {out}: the recording must end in {' or '.join(SUFFIXES)}")
    check_output_folder(out, f"--out {out}")
    if out.exists() and not force:
        raise InputError(f"--out {out} already exists; use --force to overwrite it")
    placed: dict[str, str] = {}
    for item in files:
        placement, sep, path = item.partition("=")
        if not sep or not path:
            raise InputError(f"give each file as PLACEMENT=FILE, not {item!r}")
        if placement in placed:
            raise InputError(f"placement {placement!r} given twice")
        same = [p for p, f in placed.items() if Path(f).resolve() == Path(path).resolve()]
        if same:
            raise InputError(f"{path} given for both {same[0]} and {placement}: one file per sensor")
        placed[placement] = path
    rec = recording_from_dot(placed, leg, athlete=Athlete(id=athlete))
    write_recording(rec, out)
    for name, s in rec.streams.items():
        console.print(f"{name}: {len(s)} samples, {s.duration_s:.1f} s, "
                      f"{s.rate_hz:.0f} Hz ({rec.sensors_meta[name]['source']})", highlight=False)
    console.print(f"clock: {rec.extra['clock']}; wrote {out}", highlight=False)
