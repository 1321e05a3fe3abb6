"""Batch outputs under DEST: Parquet tables partitioned by athlete and date, JSON per recording.

Layout (DEST is a local folder or an fsspec URL)::

    DEST/reps/athlete=<id>/date=<YYYY-MM-DD>/part-0.parquet   one row per rep
    DEST/tests/athlete=<id>/date=<YYYY-MM-DD>/part-0.parquet  one row per test (recording)
    DEST/json/<recording>.json          the full analysis document, with a "batch" key
    DEST/failures.parquet               the recordings that failed in the last run

Partition values are URI-escaped (pyarrow's hive partitioning reads them back),
``unknown`` where the recording names no athlete or start time. Every row carries the
recording's key (its path in the source), its checksum, ``analysis_version``,
``config_id`` (the batch's rule settings) and ``config`` (the settings that scored
this recording as JSON: the batch's, with knee_cm_2 from the athlete's foot where given).
Each partition is one file, rewritten whole when any of its recordings is redone,
so a redone recording never leaves a second copy of its rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.measures import EXTRA, MEASURES
from analysis.rules import ITEMS
from sensor_io.errors import InputError, first_line
from stepdown.batch.source import safe_url
from stepdown.batch.task import Outcome
from stepdown.batch.version import config_json

UNKNOWN = "unknown"
PART_FILE = "part-0.parquet"

_PROVENANCE = [("recording", pa.string()), ("checksum", pa.string()),
               ("analysis_version", pa.string()), ("config_id", pa.string()),
               ("config", pa.string()), ("analysed_at", pa.string())]
REP_SCHEMA = pa.schema(
    _PROVENANCE[:2]
    + [("test_leg", pa.string()), ("rep", pa.int32()), ("start_s", pa.float64()),
       ("bottom_s", pa.float64()), ("end_s", pa.float64())]
    + [(m, pa.float64()) for m in (*MEASURES, *EXTRA)]
    + [(f"item_{k}", pa.int8()) for k in ITEMS]
    + [(f"source_{k}", pa.string()) for k in ITEMS]
    + [("total", pa.int8())] + _PROVENANCE[2:])
TEST_SCHEMA = pa.schema(
    _PROVENANCE[:2]
    + [("test_leg", pa.string()), ("started_at", pa.string()), ("sensors_used", pa.string()),
       ("n_reps", pa.int32()), ("rule", pa.string())]
    + [(f"item_{k}", pa.int8()) for k in ITEMS]
    + [("total", pa.int8()), ("piva_total", pa.int8()), ("category", pa.string()),
       ("total_min", pa.int8()), ("total_max", pa.int8()), ("warnings", pa.int32())]
    + _PROVENANCE[2:])
FAILURE_SCHEMA = pa.schema([("recording", pa.string()), ("checksum", pa.string()),
                            ("error", pa.string()), ("analysis_version", pa.string()),
                            ("config_id", pa.string()), ("failed_at", pa.string())])
TABLES = {"reps": REP_SCHEMA, "tests": TEST_SCHEMA}


def partition_of(meta: dict[str, Any]) -> tuple[str, str]:
    """(athlete id, UTC date YYYY-MM-DD) of a recording; ``unknown`` for what it lacks."""
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


def provenance(out: Outcome, config_id: str, analysed_at: str) -> dict[str, Any]:
    """The columns every row of one recording shares."""
    return {"recording": out.recording, "checksum": out.checksum,
            "analysis_version": out.analysis_version, "config_id": config_id,
            "config": config_json(out.effective_config) if out.effective_config else None,
            "analysed_at": analysed_at}


def rep_rows(out: Outcome, config_id: str, analysed_at: str) -> list[dict[str, Any]]:
    """One row per rep of an analysed recording (measures in the units of their names)."""
    doc = out.doc or {}
    base = provenance(out, config_id, analysed_at)
    rows = []
    for rep in doc.get("reps", []):
        row = dict(base, test_leg=doc["test_leg"], rep=rep["index"], start_s=rep["start_s"],
                   bottom_s=rep["bottom_s"], end_s=rep["end_s"], total=rep["total"])
        row.update({m: rep["measures"].get(m) for m in (*MEASURES, *EXTRA)})
        row.update({f"item_{k}": rep["items"].get(k) for k in ITEMS})
        row.update({f"source_{k}": rep["sources"].get(k) for k in ITEMS})
        rows.append(row)
    return rows


def test_row(out: Outcome, config_id: str, analysed_at: str) -> dict[str, Any]:
    """The test-level row of an analysed recording."""
    doc = out.doc or {}
    test = doc["test"]
    low, high = (doc.get("uncertainty") or {}).get("total_range") or (None, None)
    row = dict(provenance(out, config_id, analysed_at), test_leg=doc["test_leg"],
               started_at=out.meta.get("started_at"), sensors_used=",".join(doc["sensors_used"]),
               n_reps=len(doc["reps"]), rule=test["rule"], total=test["total"],
               piva_total=test["piva_total"], category=test["category"],
               total_min=low, total_max=high,
               warnings=len(doc.get("warnings", [])))
    row.update({f"item_{k}": test["items"].get(k) for k in ITEMS})
    return row


@dataclass
class Output:
    """The DEST of a batch: an fsspec filesystem and the root folder inside it."""

    fs: Any
    root: str
    url: str

    @classmethod
    def open(cls, url: str, storage_options: dict[str, Any] | None = None) -> Output:
        from fsspec.core import url_to_fs

        try:
            fs, root = url_to_fs(url, **(storage_options or {}))
            fs.makedirs(root, exist_ok=True)
        except Exception as err:  # fsspec backends raise their own types
            raise InputError(f"cannot write to {safe_url(url)}: {first_line(err)}") from None
        return cls(fs, root.rstrip("/"), safe_url(url))

    def partition_file(self, table: str, athlete: str, day: str) -> str:
        return (f"{self.root}/{table}/athlete={quote(athlete, safe='')}/"
                f"date={quote(day, safe='')}/{PART_FILE}")

    def read_tests(self) -> pa.Table | None:
        """Every test row written so far, with its athlete and date; None before the first."""
        folder = f"{self.root}/tests"
        if not self.fs.exists(folder):
            return None
        import pyarrow.dataset as ds

        return ds.dataset(folder, filesystem=self.fs, format="parquet",
                          partitioning="hive").to_table()

    def rewrite_partition(self, table: str, athlete: str, day: str, rows: list[dict[str, Any]],
                          drop: set[str]) -> None:
        """The partition's rows without the recordings in ``drop``, plus ``rows``, written
        to a temporary file then moved over the old one (a partition left empty is removed)."""
        schema = TABLES[table]
        path = self.partition_file(table, athlete, day)
        parts = [pa.Table.from_pylist(rows, schema=schema)]
        if self.fs.exists(path):
            with self.fs.open(path, "rb") as f:
                old = pq.read_table(f).select(schema.names).cast(schema)
            keep = pc.invert(pc.is_in(old["recording"], value_set=pa.array(sorted(drop), pa.string())))
            parts.insert(0, old.filter(keep))
        merged = pa.concat_tables(parts)
        if merged.num_rows == 0:  # its only recordings moved to another athlete or date
            if self.fs.exists(path):
                self.fs.rm(path.rpartition("/")[0], recursive=True)
            return
        order = [("recording", "ascending")] + ([("rep", "ascending")] if table == "reps" else [])
        self._write_parquet(merged.sort_by(order), path)

    def write_json(self, out: Outcome, batch: dict[str, Any]) -> None:
        """The analysis document of one recording with its provenance under ``"batch"``."""
        doc = dict(out.doc or {}, batch=batch)
        path = f"{self.root}/json/{out.recording}.json"
        self.fs.makedirs(path.rpartition("/")[0], exist_ok=True)
        with self.fs.open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, allow_nan=False, indent=1)

    def write_failures(self, rows: list[dict[str, Any]]) -> None:
        """The failures of this run (an empty table when none failed)."""
        self._write_parquet(pa.Table.from_pylist(rows, schema=FAILURE_SCHEMA),
                            f"{self.root}/failures.parquet")

    def _write_parquet(self, table: pa.Table, path: str) -> None:
        folder = path.rpartition("/")[0]
        self.fs.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.{path.rpartition('/')[2]}.tmp"
        with self.fs.open(tmp, "wb") as f:
            pq.write_table(table, f, compression="zstd")
        self.fs.mv(tmp, path)
