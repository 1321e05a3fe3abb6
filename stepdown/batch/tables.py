"""Batch outputs under DEST: Parquet tables partitioned by athlete and date, JSON per recording.

Layout (DEST is a local folder or an fsspec URL)::

    DEST/reps/athlete=<id>/date=<YYYY-MM-DD>/<recording>.parquet   one row per rep
    DEST/tests/athlete=<id>/date=<YYYY-MM-DD>/<recording>.parquet  one row per test
    DEST/json/<recording path>.json     the full analysis document, with a "batch" key
    DEST/failures.parquet               the recordings that failed in the last run

Partition values and ``<recording>`` (the recording's path in the source) are
URI-escaped (pyarrow's hive partitioning reads the values back), ``unknown`` where
the recording names no athlete or start time. Read a table whole with
``pandas.read_parquet("DEST/reps")`` (athlete and date come back as columns).
Every row carries the recording's key (its path in the source), its checksum, ``analysis_version``,
``config_id`` (the batch's rule settings) and ``config`` (the settings that scored
this recording as JSON: the batch's, with knee_cm_2 from the athlete's foot where given).
Each recording's rows are one file per table, written by the worker that analysed it
and replaced when it is redone (the old file removed when its athlete or date
changed), so a redone recording never leaves a second copy of its rows, and no two
workers ever write the same file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from analysis import registry
from analysis.result import AnalysisResult
from sensor_io.errors import InputError, first_line
from sensor_io.json_doc import JSONDoc
from stepdown.batch.source import safe_url

UNKNOWN = "unknown"

_PROVENANCE = [("recording", pa.string()), ("checksum", pa.string()),
               ("analysis_version", pa.string()), ("config_id", pa.string()),
               ("config", pa.string()), ("analysed_at", pa.string())]


def rep_schema() -> pa.Schema:
    """The reps table's columns: every measure and item of the registry as it is now (an
    item registered at run time gets its ``item_`` and ``source_`` columns).

    Returns
    -------
    pyarrow.Schema
        Provenance, test leg, rep index and times (s), the measures (units in their names),
        the items' scores and sources, the rep total.
    """
    items = registry.item_names()
    return pa.schema(
        _PROVENANCE[:2]
        + [("test_leg", pa.string()), ("rep", pa.int32()), ("start_s", pa.float64()),
           ("bottom_s", pa.float64()), ("end_s", pa.float64())]
        + [(m, pa.float64()) for m in registry.measure_names()]
        + [(f"item_{k}", pa.int8()) for k in items]
        + [(f"source_{k}", pa.string()) for k in items]
        + [("total", pa.int8())] + _PROVENANCE[2:])


def test_schema() -> pa.Schema:
    """The tests table's columns, with every item of the registry as it is now.

    Returns
    -------
    pyarrow.Schema
        Provenance, test leg, start time, sensors, reps, rule, the items, totals, category,
        total range (these null when the test has no rep) and warning count.
    """
    return pa.schema(
        _PROVENANCE[:2]
        + [("test_leg", pa.string()), ("started_at", pa.string()), ("sensors_used", pa.string()),
           ("n_reps", pa.int32()), ("rule", pa.string())]
        + [(f"item_{k}", pa.int8()) for k in registry.item_names()]
        + [("total", pa.int8()), ("piva_total", pa.int8()), ("category", pa.string()),
           ("total_min", pa.int8()), ("total_max", pa.int8()), ("warnings", pa.int32())]
        + _PROVENANCE[2:])


FAILURE_SCHEMA = pa.schema([("recording", pa.string()), ("checksum", pa.string()),
                            ("error", pa.string()), ("analysis_version", pa.string()),
                            ("config_id", pa.string()), ("failed_at", pa.string())])
TABLES = {"reps": rep_schema, "tests": test_schema}
"""Table name -> its schema, read from the registry when a table is written."""


def partition_of(meta: JSONDoc) -> tuple[str, str]:
    """(athlete id, UTC date YYYY-MM-DD) of a recording; ``unknown`` for what it lacks.

    Parameters
    ----------
    meta : dict
        The recording's ``athlete`` id and ``started_at`` (ISO 8601; a time without a zone
        is taken as it is).

    Returns
    -------
    tuple of (str, str)
        The partition the recording's rows go to.
    """
    athlete = str(meta.get("athlete") or UNKNOWN)
    day = UNKNOWN
    started = meta.get("started_at")
    if isinstance(started, str):
        try:
            when = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC)
            day = when.date().isoformat()
    return athlete, day


def rep_rows(result: AnalysisResult, base: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per rep of an analysis (measures in the units of their names);
    ``base``: the provenance columns every row of the recording shares.

    Parameters
    ----------
    result : AnalysisResult
        The recording's analysis.
    base : dict
        The provenance columns (recording, checksum, versions, settings, time).

    Returns
    -------
    list of dict
        One row per rep, with the columns of :func:`rep_schema`.
    """
    rows = []
    for rep in result.reps:
        row = dict(base, test_leg=result.recording.test_leg, rep=rep.index,
                   start_s=rep.start_s, bottom_s=rep.bottom_s, end_s=rep.end_s, total=rep.total)
        row.update({m: rep.measures.get(m) for m in registry.measure_names()})
        row.update({f"item_{k}": s.value for k, s in rep.items.items()})
        row.update({f"source_{k}": s.source for k, s in rep.items.items()})
        rows.append(row)
    return rows


def test_row(result: AnalysisResult, base: dict[str, Any], started_at: str | None
             ) -> dict[str, Any]:
    """The test-level row of an analysis (``base`` as for :func:`rep_rows`).

    Parameters
    ----------
    result : AnalysisResult
        The recording's analysis.
    base : dict
        The provenance columns.
    started_at : str or None
        When the recording started (ISO 8601), as its metadata says.

    Returns
    -------
    dict
        The row, with the columns of :func:`test_schema`; ``total``, ``piva_total``,
        ``category`` and the total range are null for a test without a rep (as ``analyze``
        withholds its category: :func:`stepdown.completeness.withheld_because`).
    """
    test = result.test
    low, high = (result.uncertainty or {}).get("total_range") or (None, None)
    scores = dict(total=test.total, piva_total=test.piva_total, category=test.category,
                  total_min=low, total_max=high)
    if not result.reps:  # nothing was scored: a total of 0 (and its category) says "good"
        scores = dict.fromkeys(scores)
    row = dict(base, test_leg=result.recording.test_leg, started_at=started_at,
               sensors_used=",".join(result.recording.sensors_used), n_reps=len(result.reps),
               rule=test.rule, **scores, warnings=len(result.warnings or ()))
    row.update({f"item_{k}": test.items.get(k) for k in registry.item_names()})
    return row


@dataclass(frozen=True)
class Dest:
    """The DEST of a batch: a folder or fsspec URL and its storage options. Small and
    picklable: each worker opens the filesystem itself (fsspec caches it per process)."""

    url: str
    """Local folder or fsspec URL of the outputs."""
    storage_options: tuple[tuple[str, Any], ...] = ()
    """fsspec storage options as (name, value) pairs."""

    def filesystem(self) -> tuple[Any, str]:
        """(fsspec filesystem, root folder inside it without a trailing '/').

        Returns
        -------
        fs : fsspec.AbstractFileSystem
            The filesystem of the URL.
        root : str
            The outputs' folder inside it.
        """
        from fsspec.core import url_to_fs

        fs, root = url_to_fs(self.url, **dict(self.storage_options))
        return fs, root.rstrip("/")

    def create(self) -> bool:
        """Make the root folder; refuse a DEST that cannot be written with one line.

        Returns
        -------
        bool
            Whether the folder was made now (it did not exist).
        """
        from fsspec.implementations.local import LocalFileSystem

        try:
            fs, root = self.filesystem()
            made = not fs.exists(root)
            fs.makedirs(root, exist_ok=True)
        except Exception as err:  # fsspec backends raise their own types
            raise InputError(f"cannot write to {safe_url(self.url)}: {first_line(err)}") from None
        # a folder that exists but is read-only passes makedirs; every recording would then
        # fail on its write, after the whole batch ran
        if isinstance(fs, LocalFileSystem) and not os.access(root, os.W_OK | os.X_OK):
            raise InputError(f"cannot write to {safe_url(self.url)}: the folder is read-only "
                             "or not ours to write in")
        return made

    def remove_if_empty(self) -> None:
        """Remove the root folder if nothing was written in it (a run that never started)."""
        fs, root = self.filesystem()
        try:
            if not fs.ls(root):
                fs.rmdir(root)
        except OSError:  # gone, or not ours to remove: leave it
            pass

    def rows_file(self, table: str, partition: tuple[str, str], recording: str) -> str:
        """Where one recording's rows of a table go (hive partitions, names URL-quoted).

        Parameters
        ----------
        table : str
            ``"reps"`` or ``"tests"``.
        partition : tuple of (str, str)
            The (athlete, date) partition.
        recording : str
            The recording's path relative to the source.

        Returns
        -------
        str
            ``ROOT/TABLE/athlete=A/date=D/RECORDING.parquet``.
        """
        athlete, day = partition
        return (f"{self.filesystem()[1]}/{table}/athlete={quote(athlete, safe='')}/"
                f"date={quote(day, safe='')}/{quote(recording, safe='')}.parquet")

    def write_rows(self, table: str, partition: tuple[str, str], recording: str,
                   rows: list[dict[str, Any]]) -> None:
        """One recording's rows of ``table`` ("reps" or "tests"), replacing earlier ones.

        Parameters
        ----------
        table : str
            ``"reps"`` or ``"tests"``.
        partition : tuple of (str, str)
            The (athlete, date) partition.
        recording : str
            The recording's path relative to the source.
        rows : list of dict
            The rows, with the columns of the table's schema.
        """
        self._write_parquet(pa.Table.from_pylist(rows, schema=TABLES[table]()),
                            self.rows_file(table, partition, recording))

    def remove_rows(self, partition: tuple[str, str], recording: str) -> None:
        """Remove a recording's rows from a partition it no longer belongs to.

        Parameters
        ----------
        partition : tuple of (str, str)
            The (athlete, date) partition of the old rows.
        recording : str
            The recording's path relative to the source.
        """
        fs = self.filesystem()[0]
        for table in TABLES:
            path = self.rows_file(table, partition, recording)
            if fs.exists(path):
                fs.rm(path)

    def write_json(self, recording: str, doc: JSONDoc) -> None:
        """The analysis document of one recording (with its provenance under ``"batch"``).

        Parameters
        ----------
        recording : str
            The recording's path relative to the source (``json/RECORDING.json`` is written).
        doc : dict
            The analysis JSON document.
        """
        fs, root = self.filesystem()
        path = f"{root}/json/{recording}.json"
        fs.makedirs(path.rpartition("/")[0], exist_ok=True)
        with fs.open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, allow_nan=False, indent=1)

    def read_tests(self) -> pa.Table | None:
        """Every test row written so far, with its athlete and date; None before the first.

        Returns
        -------
        pyarrow.Table or None
            The tests table with its partition columns; None when none was written.
        """
        fs, root = self.filesystem()
        if not fs.exists(f"{root}/tests"):
            return None
        import pyarrow.dataset as ds

        return ds.dataset(f"{root}/tests", filesystem=fs, format="parquet",
                          partitioning="hive").to_table()

    def write_failures(self, rows: list[dict[str, Any]]) -> None:
        """The failures of this run (an empty table when none failed).

        Parameters
        ----------
        rows : list of dict
            One row per failed recording, with the columns of ``FAILURE_SCHEMA``.
        """
        self._write_parquet(pa.Table.from_pylist(rows, schema=FAILURE_SCHEMA),
                            f"{self.filesystem()[1]}/failures.parquet")

    def _write_parquet(self, table: pa.Table, path: str) -> None:
        """Written to a temporary name beside ``path``, then moved over it."""
        fs = self.filesystem()[0]
        folder, _, name = path.rpartition("/")
        fs.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.{name}.tmp"
        with fs.open(tmp, "wb") as f:
            pq.write_table(table, f, compression="zstd")
        fs.mv(tmp, path)
