"""Live commands: `stepdown devices`, `stepdown record`, `stepdown recover`.

`record` streams BLE IMUs into a crash-safe journal (:mod:`sensor_io.recorder`) and writes
the Parquet recording when it ends (Ctrl-C included); `recover` rebuilds the recording
from a journal left behind by a crash or power loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sensor_io.recorder import recover as recover_journal
from stepdown.cli import app

console = Console()


@app.command()
def recover(
    journal: Annotated[Path, typer.Argument(help="Journal (.sdj) left by `stepdown record`.")],
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="Recording to write (.parquet or .csv); "
                                                  "default: the journal's name, .parquet")] = None,
) -> None:
    """Rebuild the recording from a journal after a crash or power loss."""
    if not journal.exists():
        raise FileNotFoundError(2, "no such file", str(journal))
    out = out or journal.with_suffix(".parquet")
    rec, report = recover_journal(journal, out)
    for name, n in report.samples.items():
        s = rec.streams[name]
        console.print(f"{name}: {n} samples, {s.duration_s:.2f} s")
    if report.torn_bytes:
        console.print(f"dropped a torn record at the end ({report.torn_bytes} bytes)")
    gaps = rec.extra.get("gaps", [])
    if gaps:
        console.print(f"{len(gaps)} gap(s) marked")
    if report.problem:
        console.print(f"[yellow]warning:[/] written although it breaks the format: "
                      f"{report.problem}", highlight=False)
    console.print(f"wrote {out}")
