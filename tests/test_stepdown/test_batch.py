"""`stepdown batch`: outputs equal the single-process analysis, reruns skip what is done,
bad files are listed without stopping the batch, sources on a local folder and on an
S3-compatible server (moto, in process), work on a real distributed.LocalCluster."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.pipeline import analyze
from analysis.rules import RuleConfig
from sensor_io.recording_io import read_recording, write_recording
from simulator.single_test import SimConfig, simulate
from stepdown.batch.runner import run_batch
from stepdown.batch.source import Source, checksum, redact, safe_url
from stepdown.batch.version import analysis_version, config_id
from stepdown.cli import main
from stepdown.commands.batch import _summary

# (relative path, seed, athlete, started_at): two athletes, two days, one CSV twin
ARCHIVE = [("a-1/day1.parquet", 11, "a-1", "2026-03-02T09:00:00Z"),
           ("a-1/day2.parquet", 12, "a-1", "2026-03-09T23:30:00-02:00"),  # 01:30 UTC next day
           ("a-2/day1.csv", 13, "a/2", "2026-03-02T10:00:00Z"),  # '/' in an id: escaped
           ("nobody.parquet", 14, None, None)]


def _recording(seed: int, athlete: str | None, started_at: str | None):
    rec = simulate(SimConfig(seed=seed, n_reps=3, sensors=("pelvis", "thigh", "shank"))).recording
    return dataclasses.replace(rec, athlete=dataclasses.replace(rec.athlete, id=athlete),
                               started_at=started_at)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("season")
    for rel, seed, athlete, started in ARCHIVE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_recording(_recording(seed, athlete, started), root / rel)
    return root


def copy_of(archive: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(archive, tmp_path / "src"))


def single_process(path: Path, config: RuleConfig | None = None) -> dict:
    return analyze(read_recording(path), config=config).to_json()


def read_table(dest: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(dest / name).sort_values(
        ["recording", "rep"] if name == "reps" else ["recording"]).reset_index(drop=True)


def check_outputs_equal_single_process(src: Path, dest: Path) -> None:
    """Every JSON, rep row and test row equals the one-process analysis of the same file."""
    reps, tests = read_table(dest, "reps"), read_table(dest, "tests")
    assert sorted(tests["recording"]) == sorted(rel for rel, *_ in ARCHIVE)
    for rel, _, athlete, _ in ARCHIVE:
        expected = single_process(src / rel)
        doc = json.loads((dest / "json" / f"{rel}.json").read_text())
        batch = doc.pop("batch")
        assert doc == expected
        files = {p.name: p.read_bytes() for p in [src / rel, (src / rel).with_suffix(".json")]
                 if p.suffix != ".json" or rel.endswith(".csv")}
        assert batch["checksum"] == checksum(files)
        assert batch["analysis_version"] == analysis_version()
        mine = reps[reps["recording"] == rel]
        assert list(mine["rep"]) == [r["index"] for r in expected["reps"]]
        assert list(mine["total"]) == [r["total"] for r in expected["reps"]]
        assert list(mine["knee_medial_cm"]) == [r["measures"]["knee_medial_cm"]
                                                for r in expected["reps"]]
        assert list(mine["item_pelvis"]) == [r["items"]["pelvis"] for r in expected["reps"]]
        assert set(mine["athlete"].astype(str)) == {athlete or "unknown"}
        test = tests[tests["recording"] == rel].iloc[0]
        assert test["total"] == expected["test"]["total"]
        assert test["category"] == expected["test"]["category"]
        assert test["analysis_version"] == analysis_version()
        assert test["config_id"] == config_id(RuleConfig())
        assert json.loads(test["config"])["pelvis_deg"] == 5.0


def test_outputs_equal_the_single_process_analysis_partitioned_by_athlete_and_date(
        archive, tmp_path):
    dest = tmp_path / "out"
    report = run_batch(Source(str(archive)), str(dest))
    assert (report.total, report.analysed, report.skipped, report.failed) == (4, 4, 0, 0)
    check_outputs_equal_single_process(archive, dest)
    parts = sorted(str(p.relative_to(dest / "tests").parent) for p in (dest / "tests").rglob("*.parquet"))
    assert parts == ["athlete=a%2F2/date=2026-03-02", "athlete=a-1/date=2026-03-02",
                     "athlete=a-1/date=2026-03-10", "athlete=unknown/date=unknown"]
    assert pd.read_parquet(dest / "failures.parquet").empty


def test_a_rerun_skips_what_is_done_and_redoes_only_what_changed(archive, tmp_path):
    src, dest = copy_of(archive, tmp_path), tmp_path / "out"
    run_batch(Source(str(src)), str(dest))
    before = read_table(dest, "reps")
    again = run_batch(Source(str(src)), str(dest))
    assert (again.analysed, again.skipped, again.failed) == (0, 4, 0)
    pd.testing.assert_frame_equal(read_table(dest, "reps"), before)
    # a new recording under an old name, for another athlete: redone, its old rows gone
    write_recording(_recording(21, "a-3", "2026-04-01T08:00:00Z"), src / "a-1/day2.parquet")
    third = run_batch(Source(str(src)), str(dest))
    assert (third.analysed, third.skipped) == (1, 3)
    reps, tests = read_table(dest, "reps"), read_table(dest, "tests")
    assert len(tests) == 4 and tests["recording"].is_unique
    moved = tests[tests["recording"] == "a-1/day2.parquet"].iloc[0]
    assert (str(moved["athlete"]), str(moved["date"])) == ("a-3", "2026-04-01")
    assert len(reps[reps["recording"] == "a-1/day2.parquet"]) == len(
        single_process(src / "a-1/day2.parquet")["reps"])
    assert not list((dest / "tests/athlete=a-1/date=2026-03-10").glob("*"))  # old rows removed
    assert not list((dest / "reps/athlete=a-1/date=2026-03-10").glob("*"))
    # other settings: everything redone once, still one row per recording
    strict = RuleConfig(pelvis_deg=2.0)
    fourth = run_batch(Source(str(src)), str(dest), config=strict)
    assert (fourth.analysed, fourth.skipped) == (4, 0)
    tests = read_table(dest, "tests")
    assert len(tests) == 4 and set(tests["config_id"]) == {config_id(strict)}
    assert json.loads(tests["config"][0])["pelvis_deg"] == 2.0
    doc = json.loads((dest / "json/nobody.parquet.json").read_text())
    doc.pop("batch")
    assert doc == single_process(src / "nobody.parquet", strict)


def test_bad_files_are_listed_and_the_rest_is_written(archive, tmp_path):
    src, dest = copy_of(archive, tmp_path), tmp_path / "out"
    good = (src / "nobody.parquet").read_bytes()
    (src / "nobody.parquet").write_bytes(good[: len(good) // 2])  # truncated
    (src / "a-1/empty.csv").write_text("sensor,t,ax,ay,az,gx,gy,gz\n")  # no sidecar
    report = run_batch(Source(str(src)), str(dest))
    assert (report.total, report.analysed, report.failed) == (5, 3, 2)
    failures = pd.read_parquet(dest / "failures.parquet").sort_values("recording")
    assert list(failures["recording"]) == ["a-1/empty.csv", "nobody.parquet"]
    assert all("\n" not in e and str(tmp_path) not in e.replace(str(src), "")
               for e in failures["error"])
    assert "Parquet" in failures["error"].iloc[1]
    assert "stepdown-batch-" not in " ".join(failures["error"])  # no temporary paths
    assert len(read_table(dest, "tests")) == 3
    # mended: analysed on the next run, the failures table empties
    (src / "nobody.parquet").write_bytes(good)
    (src / "a-1/empty.csv").unlink()
    mended = run_batch(Source(str(src)), str(dest))
    assert (mended.analysed, mended.skipped, mended.failed) == (1, 3, 0)
    assert pd.read_parquet(dest / "failures.parquet").empty
    check_outputs_equal_single_process(src, dest)


def _without_a_rep(seed: int, athlete: str, started_at: str):
    """A test stopped halfway down its first rep: standing and half a rep, none complete."""
    sim = simulate(SimConfig(seed=seed, n_reps=3, sensors=("pelvis", "thigh", "shank")))
    first = sim.truth["reps"][0]
    end = first["start_s"] + 0.5 * (first["end_s"] - first["start_s"])
    rec = sim.recording
    return dataclasses.replace(
        rec, streams={k: s.slice_time(s.t[0], end) for k, s in rec.streams.items()},
        athlete=dataclasses.replace(rec.athlete, id=athlete), started_at=started_at)


def test_a_test_without_a_rep_has_no_category_in_the_tables(archive, tmp_path):
    # every item of a test without reps is unscored and its total 0, which the category
    # called "good" (audit); analyze withholds it and the catalog refuses such a test
    src, dest = copy_of(archive, tmp_path), tmp_path / "out"
    empty = "a-1/day3.parquet"
    write_recording(_without_a_rep(11, "a-1", "2026-03-16T09:00:00Z"), src / empty)
    assert single_process(src / empty)["reps"] == []
    report = run_batch(Source(str(src)), str(dest))
    assert (report.analysed, report.no_rep, report.failed) == (5, 1, 0)
    assert "5 analysed (1 without a complete rep: no category), 0 already" in _summary(report, "x")
    tests = read_table(dest, "tests")
    row = tests[tests["recording"] == empty].iloc[0]
    assert row["n_reps"] == 0 and pd.isna(row["category"])  # null, as a missing value is
    # and no score either: a total of 0 beside null items is "good" to whoever sums them
    assert all(pd.isna(row[c]) for c in ("total", "piva_total", "total_min", "total_max"))
    assert all(pd.isna(row[c]) for c in tests.columns if c.startswith("item_"))
    others = tests[tests["recording"] != empty]
    assert len(others) == 4 and set(others["category"]) <= {"good", "medium", "poor"}
    assert empty not in set(read_table(dest, "reps")["recording"])
    # the table reads back for the next run: the test is done, not redone
    again = run_batch(Source(str(src)), str(dest))
    assert (again.analysed, again.skipped, again.no_rep) == (0, 5, 0)
    assert "(1 without" not in _summary(again, "x")


def test_a_password_never_shows_in_a_url():
    assert safe_url("s3://key:secret@bucket/x") == "s3://key@bucket/x"
    assert safe_url("tcp://u:pw@host:8786") == "tcp://u@host:8786"
    assert safe_url("/plain/folder") == "/plain/folder"
    assert "pw" not in redact("invalid address 'u:pw@host:8786'", "tcp://u:pw@host:8786")


def test_cli_refuses_a_missing_source_and_an_unreachable_scheduler(archive, tmp_path, capsys):
    rc = main(["batch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "nowhere: no such folder" in err and "Traceback" not in err
    rc = main(["batch", str(archive), "--out", str(tmp_path / "out"),
               "--scheduler", "tcp://coach:s3cret@127.0.0.1:9", "--timeout", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://coach@127.0.0.1:9" in err
    assert "s3cret" not in err
    assert not (tmp_path / "out").exists()  # the run never started: no empty folder left
    rc = main(["batch", str(archive), "--out", str(tmp_path / "out"), "--scheduler", "127.0.0.1:9"])
    assert rc == 2 and "tcp://HOST:PORT" in capsys.readouterr().err
    (tmp_path / "kept").mkdir()  # a folder that was there before stays
    rc = main(["batch", str(archive), "--out", str(tmp_path / "kept"), "--scheduler", "127.0.0.1:9"])
    assert rc == 2 and (tmp_path / "kept").is_dir()


def test_cli_refuses_a_dest_that_cannot_be_written_before_it_starts(archive, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    rc = main(["batch", str(archive), "--out", str(tmp_path / "a-file" / "out"), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot write to" in err and "a-file" in err
    assert err.count("\n") == 1 and "analysing" not in err  # no progress bar before it


def test_cli_refuses_a_read_only_dest_before_it_starts(archive, tmp_path, capsys, monkeypatch):
    # an existing folder passes makedirs: every recording then failed on its write
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access  # as root a chmod does not stop writes; a read-only mount does
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != ro and real_access(p, mode))
    rc = main(["batch", str(archive), "--out", str(ro), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and f"cannot write to {ro}: the folder is read-only" in err
    assert err.count("\n") == 1 and "analysing" not in err
    assert not any(ro.iterdir())


# -- an S3-compatible server in this process (moto) --------------------------------------------

@pytest.fixture(scope="module")
def s3(archive):
    """A moto S3 server on 127.0.0.1 with the archive uploaded to s3://season/2026."""
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {"key": "test-key", "secret": "test-secret",
               "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1"}}
    boto3 = pytest.importorskip("boto3")
    boto3.client("s3", aws_access_key_id="test-key", aws_secret_access_key="test-secret",
                 **options["client_kwargs"]).create_bucket(Bucket="season")
    fs = s3fs.S3FileSystem(**options)
    fs.put(str(archive) + "/", "season/2026/", recursive=True)
    yield options
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_recordings_on_an_s3_server_give_the_same_outputs(archive, s3, tmp_path):
    source = Source("s3://season/2026", storage_options=tuple(s3.items()))
    assert source.list_recordings() == sorted(rel for rel, *_ in ARCHIVE)
    report = run_batch(source, str(tmp_path / "out"))
    assert (report.analysed, report.failed) == (4, 0)
    check_outputs_equal_single_process(archive, tmp_path / "out")
    # the endpoint and keys from the environment, as `stepdown batch s3://...` takes them
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", s3["client_kwargs"]["endpoint_url"])
        mp.setenv("AWS_ACCESS_KEY_ID", s3["key"])
        mp.setenv("AWS_SECRET_ACCESS_KEY", s3["secret"])
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        assert Source("s3://season/2026").list_recordings() == source.list_recordings()
        s3fs.S3FileSystem.clear_instance_cache()
    # results written back to the bucket, and skipped there on a rerun
    run_batch(source, "s3://season/results", dest_options=s3)
    again = run_batch(source, "s3://season/results", dest_options=s3)
    assert (again.analysed, again.skipped) == (0, 4)


def test_an_unreachable_s3_source_is_one_line_naming_it(tmp_path):
    pytest.importorskip("s3fs")
    options = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"},
               "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    with pytest.raises(Exception) as info:
        run_batch(Source("s3://season/2026", storage_options=tuple(options.items())),
                  str(tmp_path / "out"))
    assert type(info.value).__name__ == "InputError"
    assert str(info.value).startswith("cannot list s3://season/2026:")


# -- a real distributed.LocalCluster -----------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as lc:
        yield lc


@pytest.mark.slow
def test_a_local_cluster_gives_the_single_process_outputs(archive, cluster, s3, tmp_path):
    from distributed import Client

    with Client(cluster) as client:
        dest = tmp_path / "out"
        report = run_batch(Source(str(archive)), str(dest), client=client)
        assert (report.analysed, report.failed) == (4, 0)
        check_outputs_equal_single_process(archive, dest)
        ran_on = client.run(lambda: 1)  # two worker processes did the work
        assert len(ran_on) == 2
        s3_dest = tmp_path / "from-s3"
        report = run_batch(Source("s3://season/2026", storage_options=tuple(s3.items())),
                           str(s3_dest), client=client)
        assert (report.analysed, report.failed) == (4, 0)
        check_outputs_equal_single_process(archive, s3_dest)


@pytest.mark.slow
def test_cli_on_a_cluster_by_address_reports_progress_and_failures(archive, cluster, tmp_path,
                                                                  capsys):
    src = copy_of(archive, tmp_path)
    (src / "broken.parquet").write_bytes(b"not parquet")
    argv = ["batch", str(src), "--out", str(tmp_path / "out"), "--scheduler",
            cluster.scheduler_address]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 1
    assert "5/5" in err and "rec/s, ETA" in err
    assert "5 recordings" in err and "4 analysed" in err and "1 failed" in err
    assert "failed: broken.parquet: " in err and "Traceback" not in err
    (src / "broken.parquet").unlink()
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0 and "4 already done" in err


def test_the_scale_dependencies_stay_out_of_other_commands_start_up():
    """Loading every command (as `stepdown --help` does) and the catalog modules imports
    neither Dask, fsspec nor SQLAlchemy: only the commands that use them pay for them."""
    import subprocess
    import sys

    code = ("import sys\nfrom stepdown.cli import _register_commands\n_register_commands([])\n"
            "import stepdown.catalog.repo, stepdown.catalog.accounts, stepdown.batch.tables\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'dask', 'distributed', 'fsspec', 'sqlalchemy', 'psycopg', 's3fs'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
