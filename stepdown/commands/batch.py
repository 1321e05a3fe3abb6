"""`stepdown batch SOURCE --out DEST`: re-analyse every recording of an archive on Dask.

SOURCE and DEST are local folders or fsspec URLs (``s3://bucket/season``; S3 needs
``s3fs`` and takes its credentials and endpoint from the usual ``AWS_*`` variables).
``--scheduler local`` (default) starts a cluster of one single-threaded worker process
per core on this machine; ``--scheduler tcp://HOST:PORT`` uses a running cluster, whose
workers must have stepdown installed and be able to read SOURCE. See docs/scale.md.

Exit codes: 0 every recording analysed or already done, 1 some failed (listed on
stderr and in DEST/failures.parquet; the rest is written), 2 refused input
(unreadable SOURCE or DEST, unreachable scheduler, bad options).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.text import Text

from stepdown.cli import app

SHOW_FAILURES = 10


class RateColumn(ProgressColumn):
    """'12.3 rec/s, ETA 0:01:05': recordings per second so far and the time left at that rate.

    Parameters
    ----------
    table_column : rich.table.Column or None
        The column of the progress table (rich's :class:`~rich.progress.ProgressColumn`).
    """

    def render(self, task: Any) -> Text:
        """The column's text for the task now.

        Parameters
        ----------
        task : rich.progress.Task
            The batch's progress task: ``completed`` and ``total`` recordings, ``elapsed`` s.

        Returns
        -------
        Text
            Recordings per second and the time left as H:MM:SS; dashes before the first
            recording is done.
        """
        rate = task.completed / task.elapsed if task.elapsed and task.completed else None
        if rate is None:
            return Text("– rec/s, ETA –")
        left = int(round((task.total - task.completed) / rate)) if task.total else 0
        return Text(f"{rate:.1f} rec/s, ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}")


def _summary(report: Any, dest: str) -> str:
    no_rep = (f" ({report.no_rep} without a complete rep: no category)" if report.no_rep else "")
    return (f"{report.total} recordings in {report.seconds:.1f} s: {report.analysed} analysed"
            f"{no_rep}, "
            f"{report.skipped} already done (same checksum, analysis version and settings), "
            f"{report.failed} failed" + (f" (listed in {dest}/failures.parquet)"
                                         if report.failed else ""))


@app.command("batch")
def batch(
    source: Annotated[str, typer.Argument(help="Folder or fsspec URL of the recordings.")],
    out: Annotated[str, typer.Option("--out", help="Folder or fsspec URL for the results.")],
    scheduler: Annotated[str, typer.Option(
        help="'local' (a cluster on this machine) or the address tcp://HOST:PORT of one.")
    ] = "local",
    workers: Annotated[int | None, typer.Option(
        help="Worker processes of the local cluster (default: one per core).", min=1)] = None,
    rules: Annotated[Path | None, typer.Option(
        help="TOML file of rule thresholds (e.g. pelvis_deg = 6.0).")] = None,
    rule: Annotated[str | None, typer.Option(
        help="Test-level rule: majority (default), any or worst.")] = None,
    timeout: Annotated[float, typer.Option(
        help="Seconds to wait for a remote scheduler to answer.", min=0.1)] = 10.0,
) -> None:
    """Re-analyse every recording under SOURCE into Parquet tables and JSON under --out.\f

    Parameters
    ----------
    source : str
        Folder or fsspec URL of the recordings.
    out : str
        Folder or fsspec URL for the results.
    scheduler : str
        ``"local"`` (a cluster on this machine) or the address ``tcp://HOST:PORT`` of one.
    workers : int or None
        Worker processes of the local cluster (default: one per core).
    rules : Path or None
        TOML file of rule thresholds (e.g. ``pelvis_deg = 6.0``).
    rule : str or None
        Test-level rule: majority (default), any or worst.
    timeout : float
        Seconds to wait for a remote scheduler to answer.
    """
    from analysis.rules import RuleConfig, load_rule_config
    from sensor_io.errors import InputError
    from stepdown.batch.runner import close, connect, run_batch
    from stepdown.batch.source import Source, safe_url
    from stepdown.batch.tables import Dest
    from stepdown.commands.analyze import check_rule

    test_rule = check_rule(rule)
    config = load_rule_config(rules) if rules is not None else RuleConfig()
    if test_rule is not None:
        config = config.override({"test_rule": test_rule}, origin="--rule")
    err = Console(stderr=True)
    Source(source).check()  # a missing folder or bucket is refused before a cluster starts
    dest = Dest(out)
    made = dest.create()  # and a DEST that cannot be written, before the progress bar shows
    try:
        client = connect(scheduler, workers, timeout)
    except InputError:
        if made:  # the run never started: leave no empty results folder behind
            dest.remove_if_empty()
        raise
    try:
        with Progress(TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                      console=err, transient=False) as bar:
            task = bar.add_task("batch", total=None)
            report = run_batch(Source(source), out, config=config, client=client,
                               on_start=lambda n: bar.update(task, total=n),
                               on_outcome=lambda _: bar.advance(task))
    finally:
        close(client)
    err.print(_summary(report, safe_url(out)), highlight=False, soft_wrap=True)
    for failed in report.failures[:SHOW_FAILURES]:
        err.print(f"failed: {failed.recording}: {failed.error}", highlight=False, soft_wrap=True,
                  markup=False)
    if report.failed > SHOW_FAILURES:
        err.print(f"... and {report.failed - SHOW_FAILURES} more", highlight=False)
    if report.failed:
        raise typer.Exit(1)
