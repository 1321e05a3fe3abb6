"""The suite's simulated batches (tests/conftest.py) are built once in a run, however many
pytest-xdist workers need them: ``make test`` runs on every core."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conftest import _once_per_run


@dataclass
class _WorkerTemp:
    """A worker's TempPathFactory as far as ``_once_per_run`` uses it: xdist gives each
    worker ``<run folder>/popen-gwN``."""
    base: Path

    def getbasetemp(self) -> Path:
        return self.base


def _counting_build(calls: list[int]):
    def build() -> list[dict]:
        calls.append(1)
        return [{"rep": 1, "error_deg": 0.25}, {"rep": 2, "error_deg": -1.5}]
    return build


def test_the_second_worker_loads_the_batch_the_first_built(tmp_path, monkeypatch):
    calls: list[int] = []
    build = _counting_build(calls)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    first = _once_per_run(_WorkerTemp(tmp_path / "popen-gw0"), "a_batch", build)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    second = _once_per_run(_WorkerTemp(tmp_path / "popen-gw1"), "a_batch", build)
    assert calls == [1]
    assert second == first and second is not first  # a copy read back from the run folder
    names = {p.name for p in tmp_path.iterdir()}
    assert "a_batch.pickle" in names and "a_batch.part" not in names  # written whole, then renamed


def test_alone_a_batch_is_built_in_the_process_and_nothing_is_written(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    got = _once_per_run(_WorkerTemp(tmp_path / "popen-gw0"), "a_batch", _counting_build(calls))
    assert calls == [1] and got[1]["error_deg"] == -1.5
    assert not any(tmp_path.iterdir())
