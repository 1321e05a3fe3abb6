"""The recording format: Parquet and CSV twins round-trip exactly, bad input is refused clearly.

Recordings are built here with numpy: a sensor that sways slowly about its x axis
reads |a| = 9.81 m/s² (gravity only) and |ω| up to about 1.9 rad/s.
Rows in error messages are 1-based data rows of the file (sensor_io.validation).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sensor_io import recording_io
from sensor_io.errors import InputError, RecordingError
from sensor_io.recording import Athlete, Recording, SensorStream, pain_per_rep
from sensor_io.recording_io import (
    check_recording,
    metadata_to_dict,
    read_recording,
    recording_from_frame,
    recording_to_frame,
    sidecar_path,
    write_recording,
)
from stepdown.cli import main

G = 9.81
SWAY_AMP_RAD = 0.3
SWAY_HZ = 1.0


def make_stream(rate_hz: float, duration_s: float, *, t0: float = 0.0, mag: bool = False,
                seed: int = 0) -> SensorStream:
    """A sensor tilting ±0.3 rad about its x axis at 1 Hz: |a| = g, gyro x = dθ/dt."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(int(round(duration_s * rate_hz))) / rate_hz
    w = 2 * np.pi * SWAY_HZ
    theta = SWAY_AMP_RAD * np.sin(w * t)
    acc = G * np.column_stack([np.zeros_like(t), np.sin(theta), np.cos(theta)])
    acc += rng.normal(0.0, 0.02, acc.shape)
    gyr = np.column_stack([SWAY_AMP_RAD * w * np.cos(w * t), np.zeros_like(t), np.zeros_like(t)])
    gyr += rng.normal(0.0, 0.01, gyr.shape)
    m = (np.array([20.0, 0.0, -40.0]) + rng.normal(0.0, 0.5, (len(t), 3))) if mag else None
    return SensorStream(t, acc, gyr, m)


def make_recording(**overrides) -> Recording:
    """Pelvis 100 Hz, left thigh 52 Hz with magnetometer on its own clock, right shank 200 Hz."""
    fields = dict(
        streams={
            "thigh_left": make_stream(52.0, 6.0, t0=0.0037, mag=True, seed=1),
            "pelvis": make_stream(100.0, 6.0, seed=2),
            "shank_right": make_stream(200.0, 5.5, t0=0.25, seed=3),
        },
        test_leg="left", step_height_m=0.2,
        athlete=Athlete(id="a-017", height_m=1.78, thigh_length_m=0.43),
        sensors_meta={"pelvis": {"model": "MetaMotionS", "rate_hz": 100},
                      "thigh_left": {"model": "Movesense", "rate_hz": 52}},
        pain_nrs=[0, 0, 2, 1, 0], started_at="2026-11-24T17:03:00Z",
        extra={"site": {"clinic": "north", "room": 3}, "athlete": {"shoe_size_eu": 44}},
    )
    fields.update(overrides)
    return Recording(**fields)


def assert_same(a: Recording, b: Recording) -> None:
    """Bit-identical samples and equal metadata."""
    assert a.placements == b.placements
    for p in a.placements:
        sa, sb = a.streams[p], b.streams[p]
        np.testing.assert_array_equal(sa.t, sb.t)
        np.testing.assert_array_equal(sa.acc, sb.acc)
        np.testing.assert_array_equal(sa.gyr, sb.gyr)
        assert (sa.mag is None) == (sb.mag is None), p
        if sa.mag is not None:
            np.testing.assert_array_equal(sa.mag, sb.mag)
    assert metadata_to_dict(a) == metadata_to_dict(b)


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_round_trip_is_exact(tmp_path: Path, suffix: str) -> None:
    rec = make_recording()
    path = tmp_path / f"rec{suffix}"
    write_recording(rec, path)
    back = read_recording(path)
    assert_same(rec, back)
    assert back.athlete == rec.athlete
    assert back.extra == rec.extra
    assert back.pain_nrs == [0, 0, 2, 1, 0]
    assert back.streams["thigh_left"].rate_hz == pytest.approx(52.0)
    assert back.streams["pelvis"].mag is None


def test_csv_twin_holds_the_same_table_and_metadata(tmp_path: Path) -> None:
    rec = make_recording()
    write_recording(rec, tmp_path / "r.parquet")
    write_recording(rec, tmp_path / "r.csv")
    from_parquet = read_recording(tmp_path / "r.parquet")
    from_csv = read_recording(tmp_path / "r.csv")
    assert_same(from_parquet, from_csv)
    pd.testing.assert_frame_equal(recording_to_frame(from_parquet), recording_to_frame(from_csv))
    sidecar = json.loads((tmp_path / "r.json").read_text())
    parquet_meta = json.loads(pq.read_schema(tmp_path / "r.parquet").metadata[b"stepdown"])
    assert sidecar == parquet_meta


def test_file_layout_follows_the_contract(tmp_path: Path) -> None:
    rec = make_recording()
    write_recording(rec, tmp_path / "r.parquet")
    arrow = pq.read_table(tmp_path / "r.parquet")
    assert arrow.column_names == ["sensor", "t", "ax", "ay", "az", "gx", "gy", "gz",
                                  "mx", "my", "mz"]
    assert arrow.schema.field("sensor").type == pa.string()
    assert all(arrow.schema.field(c).type == pa.float64() for c in arrow.column_names[1:])
    sensors = arrow.column("sensor").to_pylist()
    # PLACEMENTS order, each sensor's rows contiguous and in time order
    assert list(dict.fromkeys(sensors)) == ["pelvis", "thigh_left", "shank_right"]
    assert arrow.column("mx").null_count == len(rec.streams["pelvis"]) + len(
        rec.streams["shank_right"])
    meta = json.loads(arrow.schema.metadata[b"stepdown"])
    assert list(meta)[:3] == ["format", "version", "test_leg"]
    assert meta["format"] == "stepdown-recording" and meta["version"] == 1
    assert meta["athlete"] == {"id": "a-017", "height_m": 1.78, "thigh_length_m": 0.43,
                               "shoe_size_eu": 44}
    header = (tmp_path / "r.parquet").with_suffix(".csv")
    write_recording(rec, header)
    first_lines = header.read_text().splitlines()[:2]
    assert first_lines[0] == "sensor,t,ax,ay,az,gx,gy,gz,mx,my,mz"
    assert first_lines[1].startswith("pelvis,0.0,") and first_lines[1].endswith(",,,")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_without_magnetometer_there_are_no_mag_columns(tmp_path: Path, suffix: str) -> None:
    streams = {"pelvis": make_stream(100.0, 4.0), "thigh_left": make_stream(60.0, 4.0, seed=5)}
    rec = make_recording(streams=streams, sensors_meta={})
    path = tmp_path / f"r{suffix}"
    write_recording(rec, path)
    assert "mx" not in recording_to_frame(rec).columns
    assert "mx" not in path.read_bytes().decode("latin-1").split("\n")[0] or suffix == ".parquet"
    if suffix == ".parquet":
        assert "mx" not in pq.read_schema(path).names
    back = read_recording(path)
    assert_same(rec, back)
    assert all(back.streams[p].mag is None for p in back.placements)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_pain_as_one_number_and_minimal_metadata(tmp_path: Path, suffix: str) -> None:
    rec = Recording(streams={"pelvis": make_stream(100.0, 3.0),
                             "thigh_right": make_stream(100.0, 3.0, seed=9)},
                    test_leg="right", pain_nrs=3)
    path = tmp_path / f"r{suffix}"
    write_recording(rec, path)
    back = read_recording(path)
    assert back.pain_nrs == 3 and back.test_leg == "right"
    assert back.step_height_m is None and back.athlete == Athlete() and back.extra == {}
    assert metadata_to_dict(back) == {"format": "stepdown-recording", "version": 1,
                                      "test_leg": "right", "pain_nrs": 3}
    assert pain_per_rep(back.pain_nrs, 5) == [3.0] * 5


def test_pain_per_rep_needs_one_value_per_rep() -> None:
    assert pain_per_rep([0, 1, 2], 3) == [0.0, 1.0, 2.0]
    assert pain_per_rep(None, 2) == [None, None]
    with pytest.raises(InputError, match="3 values but the test has 5 reps"):
        pain_per_rep([0, 1, 2], 5)


def test_segment_names_resolve_to_the_test_leg_and_either_wrist() -> None:
    s = {p: make_stream(100.0, 1.0, seed=k) for k, p in enumerate(
        ("pelvis", "thigh_left", "thigh_right", "shank_right", "wrist_left"))}
    rec = Recording(streams=s, test_leg="right")
    assert rec.stream("thigh") is s["thigh_right"] and rec.stream("shank") is s["shank_right"]
    assert rec.stream("pelvis") is s["pelvis"] and rec.stream("trunk") is None
    assert rec.stream("wrist") is s["wrist_left"]  # the other side when the test side is absent
    s["wrist_right"] = make_stream(100.0, 1.0, seed=9)
    assert rec.stream("wrist") is s["wrist_right"]  # the test side first
    assert Recording(streams=s, test_leg="left").stream("thigh") is s["thigh_left"]


def test_gaps_are_the_long_sample_intervals() -> None:
    t = np.r_[np.arange(100), np.arange(130, 200), np.arange(203, 260)] / 100.0
    s = SensorStream(t, np.zeros((len(t), 3)), np.zeros((len(t), 3)))
    np.testing.assert_allclose(s.gaps(), [0.31, 0.04])  # 2.5 × the 10 ms median is the bar
    np.testing.assert_allclose(s.gaps(factor=5.0), [0.31])


def test_unknown_metadata_keys_survive_a_round_trip(tmp_path: Path) -> None:
    meta = {"format": "stepdown-recording", "version": 1, "test_leg": "left",
            "athlete": {"id": "x", "dominant_leg": "right"},
            "operator": "coach-4", "firmware": {"pelvis": "1.2.3"}, "notes": [1, "two", None]}
    df = recording_to_frame(make_recording())
    rec = recording_from_frame(df, meta)
    assert rec.extra == {"operator": "coach-4", "firmware": {"pelvis": "1.2.3"},
                         "notes": [1, "two", None], "athlete": {"dominant_leg": "right"}}
    write_recording(rec, tmp_path / "r.csv")
    assert json.loads((tmp_path / "r.json").read_text()) == meta


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_rewrites_are_byte_identical(tmp_path: Path, suffix: str) -> None:
    rec = make_recording()
    a, b, c, d = (tmp_path / f"{n}{suffix}" for n in "abcd")
    write_recording(rec, a)
    write_recording(rec, b)
    # the same recording with its streams in another order
    write_recording(make_recording(streams=dict(reversed(list(rec.streams.items())))), c)
    write_recording(read_recording(a), d)  # read back, written again
    assert a.read_bytes() == b.read_bytes() == c.read_bytes() == d.read_bytes()
    if suffix == ".csv":
        assert sidecar_path(a).read_bytes() == sidecar_path(d).read_bytes()


def test_csv_from_a_spreadsheet_with_bom_and_crlf(tmp_path: Path) -> None:
    rec = make_recording()
    path = tmp_path / "r.csv"
    write_recording(rec, path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert_same(rec, read_recording(path))


def test_rows_may_interleave_sensors(tmp_path: Path) -> None:
    """A file sorted by time across sensors (as a logger writes it) reads the same."""
    rec = make_recording()
    df = recording_to_frame(rec).sort_values("t", kind="stable", ignore_index=True)
    assert df["sensor"].iloc[:3].nunique() > 1
    assert_same(rec, recording_from_frame(df, metadata_to_dict(rec)))


def test_writing_sorts_each_sensor_by_time() -> None:
    s = make_stream(100.0, 3.0)
    order = np.random.default_rng(0).permutation(len(s))
    shuffled = SensorStream(s.t[order], s.acc[order], s.gyr[order])
    rec = make_recording(streams={"pelvis": shuffled, "thigh_left": make_stream(100.0, 3.0)},
                         sensors_meta={})
    df = recording_to_frame(rec)
    np.testing.assert_array_equal(df.loc[df.sensor == "pelvis", "t"].to_numpy(), s.t)
    np.testing.assert_array_equal(df.loc[df.sensor == "pelvis", "ax"].to_numpy(), s.acc[:, 0])


def test_frame_helpers_round_trip() -> None:
    rec = make_recording()
    df = recording_to_frame(rec)
    assert len(df) == sum(len(s) for s in rec.streams.values())
    assert df.loc[df.sensor == "pelvis", "mx"].isna().all()
    assert_same(rec, recording_from_frame(df, metadata_to_dict(rec)))


def test_failed_write_keeps_the_existing_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "r.parquet"
    write_recording(make_recording(), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("sensor_io.recording_io.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_recording(make_recording(pain_nrs=7), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["r.parquet"]  # no temporary file left behind


def test_invalid_recording_is_not_written_unless_asked(tmp_path: Path) -> None:
    rec = make_recording(streams={"pelvis": make_stream(100.0, 3.0)}, sensors_meta={})
    path = tmp_path / "raw.parquet"
    with pytest.raises(RecordingError, match="thigh_left sensor is missing"):
        write_recording(rec, path)
    assert not path.exists()
    write_recording(rec, path, validate=False)  # raw data is never lost
    assert pq.read_table(path).num_rows == len(rec.streams["pelvis"])


@pytest.mark.parametrize("extra, expected", [
    ({"gain": float("nan")}, "Out of range float values are not JSON compliant"),
    ({"when": object()}, "is not JSON"),
])
def test_metadata_that_is_not_json_is_refused_on_write(tmp_path: Path, extra: dict,
                                                       expected: str) -> None:
    path = tmp_path / "r.parquet"
    with pytest.raises(RecordingError, match=expected):
        write_recording(make_recording(extra=extra), path)
    assert not path.exists()


def test_numpy_numbers_in_metadata_are_written_as_json(tmp_path: Path) -> None:
    rec = make_recording(sensors_meta={"pelvis": {"rate_hz": np.float64(100.0)}},
                         pain_nrs=np.int64(2))
    write_recording(rec, tmp_path / "r.csv")
    back = read_recording(tmp_path / "r.csv")
    assert back.sensors_meta == {"pelvis": {"rate_hz": 100.0}} and back.pain_nrs == 2


QMT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "qmt_full_body" \
    / "full_body_example_data.mat"


@pytest.mark.skipif(not QMT.exists(), reason=f"real data not present at {QMT}")
def test_real_imu_data_passes_validation_and_round_trips(tmp_path: Path) -> None:
    """qmt full-body example (real human, 100 Hz, vigorous movement): plausibility
    checks must accept real pelvis and thigh signals."""
    from scipy.io import loadmat

    d = loadmat(QMT, simplify_cells=True)
    streams = {p: SensorStream(np.asarray(d["t"], float), d[seg]["acc"], d[seg]["gyr"])
               for p, seg in (("pelvis", "hip"), ("thigh_left", "upper_leg_left"),
                              ("thigh_right", "upper_leg_right"))}
    rec = Recording(streams=streams, test_leg="left", extra={"source": "qmt example (MIT)"})
    check_recording(rec)
    write_recording(rec, tmp_path / "qmt.parquet")
    assert_same(rec, read_recording(tmp_path / "qmt.parquet"))


# --- bad input ----------------------------------------------------------------------------


def write_raw(df: pd.DataFrame, meta: dict | None, path: Path) -> Path:
    """Write a table and metadata with pyarrow/pandas directly (not through our writer)."""
    if path.suffix == ".parquet":
        # NaN stays NaN, except in mx my mz where it is null (no magnetometer value)
        table = pa.table({c: pa.array(df[c].to_numpy(), from_pandas=c in ("sensor", "t", *MAG))
                          for c in df.columns})
        table = table.replace_schema_metadata(
            None if meta is None else {"stepdown": json.dumps(meta)})
        pq.write_table(table, path)
    else:
        df.to_csv(path, index=False)
        if meta is not None:
            sidecar_path(path).write_text(json.dumps(meta))
    return path


def base() -> tuple[pd.DataFrame, dict, int]:
    """Long table, metadata and the number of pelvis rows (pelvis rows come first)."""
    rec = make_recording()
    return recording_to_frame(rec), metadata_to_dict(rec), len(rec.streams["pelvis"])


def refused(path: Path, *parts: str) -> str:
    """Loading must raise one RecordingError whose one-line message holds every part."""
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    msg = str(info.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    return msg


MAG = ("mx", "my", "mz")
BOTH = pytest.mark.parametrize("suffix", [".parquet", ".csv"])


@BOTH
def test_unknown_placement_suggests_the_valid_ones(tmp_path: Path, suffix: str) -> None:
    df, meta, n_pelvis = base()
    df.loc[df.sensor == "thigh_left", "sensor"] = "thigh_lft"
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    msg = refused(path, path.name, "'thigh_lft'", "did you mean 'thigh_left'",
                  f"row {n_pelvis + 1}")
    assert "pelvis, thigh_left, thigh_right, shank_left" in msg


def test_unknown_placement_without_close_match_lists_all(tmp_path: Path) -> None:
    df, meta, _ = base()
    df.loc[len(df) - 1, "sensor"] = "knee"
    path = write_raw(df, meta, tmp_path / "r.parquet")
    msg = refused(path, "'knee'", f"row {len(df)}", "valid: pelvis")
    assert "did you mean" not in msg


@BOTH
@pytest.mark.parametrize("change, expected", [
    (lambda df: df.drop(columns=["gz"]), "missing required column(s): gz"),
    (lambda df: df.assign(temp_c=1.0), "unexpected column(s): temp_c"),
    (lambda df: df.drop(columns=["mz"]), "magnetometer columns must come as a set"),
])
def test_column_set(tmp_path: Path, suffix: str, change, expected: str) -> None:
    df, meta, _ = base()
    path = write_raw(change(df), meta, tmp_path / f"r{suffix}")
    refused(path, path.name, expected)


@pytest.mark.parametrize("change, expected", [
    (lambda df: df.assign(gx=df.gx.astype("float32")), "column gx has type float, expected float64"),
    (lambda df: df.assign(t=(df.t * 1000).astype("int64")), "column t has type int64"),
    (lambda df: df.assign(sensor=7), "column sensor has type int64, expected string"),
])
def test_parquet_column_types(tmp_path: Path, change, expected: str) -> None:
    df, meta, _ = base()
    path = write_raw(change(df), meta, tmp_path / "r.parquet")
    refused(path, "r.parquet", expected)


def test_csv_cell_that_is_not_a_number(tmp_path: Path) -> None:
    df, meta, n_pelvis = base()
    df["az"] = df["az"].astype(object)
    df.loc[n_pelvis + 9, "az"] = "9.81 m/s2"
    path = write_raw(df, meta, tmp_path / "r.csv")
    refused(path, "r.csv", f"sensor thigh_left, row {n_pelvis + 10}",
            "column az: '9.81 m/s2' is not a number")


def test_csv_empty_cell(tmp_path: Path) -> None:
    df, meta, _ = base()
    df.loc[2, "gy"] = np.nan  # pandas writes an empty cell
    path = write_raw(df, meta, tmp_path / "r.csv")
    refused(path, "r.csv", "sensor pelvis, row 3", "empty cell in column gy")


def test_frame_column_types() -> None:
    df, meta, _ = base()
    df["t"] = np.arange(len(df))
    with pytest.raises(RecordingError, match="column t has type int64, expected float64"):
        recording_from_frame(df, meta, path="frame")


def test_parquet_null_in_required_column(tmp_path: Path) -> None:
    df, meta, _ = base()
    df.loc[4, "t"] = None
    path = write_raw(df, meta, tmp_path / "r.parquet")
    refused(path, "r.parquet", "sensor pelvis, row 5", "missing value in column t")


@BOTH
@pytest.mark.parametrize("column, value, shown", [
    ("ax", np.nan, "non-finite value nan in column ax"),
    ("gy", np.inf, "non-finite value inf in column gy"),
    ("my", -np.inf, "non-finite value -inf in column my"),
])
def test_non_finite_values(tmp_path: Path, suffix: str, column: str, value: float,
                           shown: str) -> None:
    df, meta, n_pelvis = base()
    row = n_pelvis + 20  # 0-based index of the 21st thigh_left row
    if suffix == ".csv":  # the cell as text: pandas would write NaN as an empty cell
        df[column] = df[column].astype(object)
        value = repr(value)
    df.loc[row, column] = value
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    refused(path, path.name, "sensor thigh_left", f"row {row + 1}", shown)


@BOTH
@pytest.mark.parametrize("column, value, shown", [
    ("ay", -4.965e59, "ay = -4.965e+59 m/s², beyond any IMU's range"),  # bytes flipped
    ("gz", 1.2e5, "gz = 1.2e+05 rad/s, beyond any IMU's range"),
    ("mx", 3e300, "mx = 3e+300 µT, beyond any IMU's range"),
])
@pytest.mark.parametrize("compact", [False, True])
def test_a_value_beyond_any_imus_range_is_a_corrupt_file(
        tmp_path: Path, suffix: str, column: str, value: float, shown: str, compact: bool,
        recwarn) -> None:
    df, meta, n_pelvis = base()
    row = n_pelvis + 20
    df.loc[row, column] = value
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    with pytest.raises(RecordingError) as info:
        read_recording(path, compact=compact)
    msg = str(info.value)
    for part in (path.name, "sensor thigh_left", f"row {row + 1}", shown, "corrupt file"):
        assert part in msg, msg
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no overflow


def test_a_null_magnetometer_slot_is_not_range_checked(tmp_path: Path, monkeypatch) -> None:
    # Arrow leaves a null's slot undefined; the compact read's range check looked at it, so
    # whatever a writer left there could refuse a sound file as corrupt
    path = tmp_path / "r.parquet"
    write_recording(make_recording(), path)  # pelvis and shank without magnetometer: nulls
    real = recording_io._arrow_values

    def garbage_in_null_slots(col):
        values, valid = real(col)
        if valid is not None:
            values = np.where(valid, values, 3e300)
        return values, valid

    monkeypatch.setattr(recording_io, "_arrow_values", garbage_in_null_slots)
    back = read_recording(path, compact=True)
    assert back.streams["pelvis"].mag is None and back.streams["thigh_left"].mag is not None


@BOTH
def test_magnetometer_missing_in_some_rows(tmp_path: Path, suffix: str) -> None:
    df, meta, n_pelvis = base()
    df.loc[n_pelvis + 3, ["mx", "my", "mz"]] = np.nan  # empty / null cells
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    refused(path, "sensor thigh_left", f"row {n_pelvis + 4}", "magnetometer values missing")


@BOTH
def test_time_unsorted(tmp_path: Path, suffix: str) -> None:
    df, meta, _ = base()
    df.loc[[10, 11], "t"] = df.loc[[11, 10], "t"].to_numpy()
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    msg = refused(path, path.name, "sensor pelvis", "row 12", "time not strictly increasing",
                  "unsorted")
    assert "np.float64" not in msg  # the times as numbers, not numpy's repr


@BOTH
def test_time_duplicated(tmp_path: Path, suffix: str) -> None:
    df, meta, n_pelvis = base()
    df.loc[n_pelvis + 7, "t"] = df.loc[n_pelvis + 6, "t"]
    path = write_raw(df, meta, tmp_path / f"r{suffix}")
    refused(path, "sensor thigh_left", f"row {n_pelvis + 8}", "duplicated")


def test_sensor_listed_in_metadata_without_samples(tmp_path: Path) -> None:
    df, meta, _ = base()
    meta["sensors"]["shank_left"] = {"model": "Movesense"}
    path = write_raw(df, meta, tmp_path / "r.parquet")
    refused(path, "r.parquet", "sensor shank_left", "has no samples")


def test_sensor_with_one_sample(tmp_path: Path) -> None:
    df, meta, _ = base()
    df = pd.concat([df, df.iloc[[0]].assign(sensor="trunk")], ignore_index=True)
    path = write_raw(df, meta, tmp_path / "r.parquet")
    refused(path, "sensor trunk", "has 1 sample(s)")


def test_no_samples_at_all(tmp_path: Path) -> None:
    df, meta, _ = base()
    path = write_raw(df.iloc[:0], meta, tmp_path / "r.csv")
    refused(path, "r.csv", "no samples")


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.pop("format"), "metadata has no 'format'"),
    (lambda m: m.update(format="vendor-x"), "unknown format 'vendor-x'"),
    (lambda m: m.pop("version"), "metadata has no 'version'"),
    (lambda m: m.update(version=2), "unsupported version 2 (this software reads version 1)"),
    (lambda m: m.update(version="1"), "unsupported version '1'"),
    (lambda m: m.pop("test_leg"), "metadata has no 'test_leg'"),
    (lambda m: m.update(test_leg="L"), "invalid test_leg 'L'"),
    (lambda m: m.update(pain_nrs=11), "pain_nrs = 11 is outside 0-10"),
    (lambda m: m.update(pain_nrs=[0, 1, -1]), "pain_nrs[2] = -1 is outside 0-10"),
    (lambda m: m.update(pain_nrs=[]), "pain_nrs is an empty list"),
    (lambda m: m.update(pain_nrs="high"), "pain_nrs must be a number, got 'high'"),
    (lambda m: m.update(pain_nrs=[0, [1]]), "pain_nrs[1] must be a number"),
    (lambda m: m.update(step_height_m=20), "step_height_m = 20 is outside 0.05-0.6 m"),
    (lambda m: m["athlete"].update(height_m=178), "athlete.height_m = 178 is outside"),
    (lambda m: m.update(started_at="yesterday"), "started_at 'yesterday' is not an ISO 8601"),
    (lambda m: m.update(sensors={"hip": {}}), "unknown sensor placement 'hip'"),
])
def test_bad_metadata(tmp_path: Path, change, expected: str) -> None:
    df, meta, _ = base()
    change(meta)
    path = write_raw(df, meta, tmp_path / "r.parquet")
    refused(path, "r.parquet", expected)


def test_bad_metadata_in_csv_sidecar_names_the_csv(tmp_path: Path) -> None:
    df, meta, _ = base()
    meta["version"] = 3
    path = write_raw(df, meta, tmp_path / "r.csv")
    refused(path, "r.csv:", "unsupported version 3")


@BOTH
@pytest.mark.parametrize("drop, expected", [
    ("pelvis", "the pelvis sensor is missing"),
    ("thigh_left", "the thigh_left sensor is missing (minimum set for test_leg left: "
                   "pelvis + thigh_left; present: pelvis, shank_right)"),
])
def test_minimum_sensor_set(tmp_path: Path, suffix: str, drop: str, expected: str) -> None:
    df, meta, _ = base()
    meta["sensors"].pop(drop)
    path = write_raw(df[df.sensor != drop], meta, tmp_path / f"r{suffix}")
    refused(path, path.name, expected)


@BOTH
@pytest.mark.parametrize("change, expected", [
    (lambda df, m: df.assign(ax=df.ax / G, ay=df.ay / G, az=df.az / G),
     "median |a| = 1, looks like g; expected m/s²"),
    (lambda df, m: df.assign(ax=df.ax * 1000 / G, ay=df.ay * 1000 / G, az=df.az * 1000 / G),
     "is implausible; expected m/s²"),
    (lambda df, m: df.assign(gx=np.degrees(df.gx), gy=np.degrees(df.gy), gz=np.degrees(df.gz)),
     "looks like °/s, expected rad/s"),
    (lambda df, m: df.assign(t=df.t * 1000), "time looks like ms, expected s"),
    (lambda df, m: df.assign(t=df.t * 10), "sampling rate 10 Hz is outside 20-2000 Hz"),
])
def test_implausible_units(tmp_path: Path, suffix: str, change, expected: str) -> None:
    df, meta, _ = base()
    path = write_raw(change(df, meta), meta, tmp_path / f"r{suffix}")
    refused(path, path.name, "sensor pelvis", expected)


def test_units_are_checked_per_sensor(tmp_path: Path) -> None:
    df, meta, _ = base()
    thigh = df.sensor == "thigh_left"
    df.loc[thigh, ["gx", "gy", "gz"]] = np.degrees(df.loc[thigh, ["gx", "gy", "gz"]])
    path = write_raw(df, meta, tmp_path / "r.parquet")
    refused(path, "sensor thigh_left", "°/s")


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    write_recording(make_recording(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    refused(path, "r.parquet", "not a readable Parquet file (truncated or corrupt?)")


def test_garbage_parquet(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    path.write_bytes(b"sensor,t\npelvis,0.0\n")
    refused(path, "r.parquet", "not a readable Parquet file")


def test_parquet_without_stepdown_metadata(tmp_path: Path) -> None:
    df, _, _ = base()
    path = write_raw(df, None, tmp_path / "r.parquet")
    refused(path, "r.parquet", "no 'stepdown' metadata")


def test_parquet_metadata_not_json(tmp_path: Path) -> None:
    df, _, _ = base()
    path = tmp_path / "r.parquet"
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table.replace_schema_metadata({"stepdown": "{test_leg: left"}), path)
    refused(path, "r.parquet", "Parquet metadata is not valid JSON")


def test_truncated_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(), path)
    text = path.read_text()
    n_rows = text.count("\n") - 1
    last_line_start = text.rstrip("\n").rfind("\n") + 1
    path.write_text(text[: last_line_start + 25])  # the writer died mid-line
    refused(path, "r.csv", f"row {n_rows}", "fields, expected 11 (truncated or corrupt file?)")


def test_csv_not_text(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(), path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary")
    refused(path, "r.csv", "not a readable CSV file")


def test_csv_empty(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(), path)
    path.write_text("")
    refused(path, "r.csv", "empty CSV file")


def test_csv_sidecar_missing(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(), path)
    sidecar_path(path).unlink()
    refused(path, "r.csv", "the metadata sidecar r.json is missing")


@pytest.mark.parametrize("first_lines, shown", [
    ("sep=,\nDeviceTag:,Movella DOT\n\nPacketCounter,SampleTimeFine,Acc_X\n",
     "a Movella DOT app export, not a stepdown recording: join the sensors' exports into one "
     "with `stepdown import-dot`"),
    ("time,foo,bar\n0,1,2\n", "not a stepdown recording (its header is not sensor,t,ax"),
])
def test_a_csv_of_another_layout_is_not_blamed_on_a_missing_sidecar(
        tmp_path: Path, first_lines: str, shown: str) -> None:
    path = tmp_path / "pelvis.csv"
    path.write_text(first_lines)
    msg = refused(path, "pelvis.csv", shown)
    assert "is missing" not in msg


def test_csv_sidecar_not_json(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(), path)
    sidecar_path(path).write_text('{"format": "stepdown-recording",\n "version": 1,,}')
    refused(path, "r.json", "metadata sidecar is not valid JSON", "line 2")


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("hello")
    refused(path, "r.txt", "unsupported file type '.txt' (expected .parquet or .csv)")


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nope.parquet", "nope.parquet", "no such file")


def test_a_missing_path_without_a_suffix_is_missing_not_of_a_wrong_type(tmp_path: Path) -> None:
    msg = refused(tmp_path / "nope", "nope", "no such file")
    assert "file type" not in msg


def test_a_folder_is_not_a_recording_file(tmp_path: Path) -> None:
    refused(tmp_path, tmp_path.name, "a folder, not a recording file")


# --- stepdown info ------------------------------------------------------------------------


def test_info_shows_sensors_gaps_and_metadata(tmp_path: Path, capsys) -> None:
    rec = make_recording()
    pelvis = rec.streams["pelvis"]
    keep = np.r_[0:200, 251:len(pelvis)]  # drop 51 samples: one gap of 0.52 s at 100 Hz
    rec.streams["pelvis"] = SensorStream(pelvis.t[keep], pelvis.acc[keep], pelvis.gyr[keep])
    path = tmp_path / "r.parquet"
    write_recording(rec, path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    lines = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in out.splitlines() if line.startswith("│")}
    assert lines["pelvis"] == ["549", "100.0", "5.99", "1", "0.520", "9.81", "no"]
    assert lines["thigh_left"] == ["312", "52.0", "5.98", "0", "-", "9.81", "yes"]
    assert lines["shank_right"][:3] == ["1100", "200.0", "5.50"]
    assert "test leg: left" in out
    assert "athlete: a-017, height 1.78 m, thigh 0.43 m" in out
    assert "step height: 0.20 m" in out
    assert "pain NRS: per rep 0 0 2 1 0" in out


def test_info_names_a_frame_a_sensor_repeated_while_moving(tmp_path: Path, capsys) -> None:
    rec = make_recording()
    pelvis = rec.streams["pelvis"]
    acc, gyr = pelvis.acc.copy(), pelvis.gyr.copy()
    gyr[100] = [0.0, 0.0, 0.3]            # 17.2 deg/s, then repeated for 1.0 s: a hung sensor
    acc[101:201], gyr[101:201] = acc[100], gyr[100]
    thigh = rec.streams["thigh_left"]
    still_acc, still_gyr = thigh.acc.copy(), thigh.gyr.copy()
    still_gyr[50] = 0.0                    # a still sensor's identical frames: not listed
    still_acc[51:150], still_gyr[51:150] = still_acc[50], still_gyr[50]
    rec.streams["pelvis"] = SensorStream(pelvis.t, acc, gyr)
    rec.streams["thigh_left"] = SensorStream(thigh.t, still_acc, still_gyr, thigh.mag)
    path = tmp_path / "r.parquet"
    write_recording(rec, path)
    assert main(["info", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps at the terminal's width
    assert out.count("frozen:") == 1
    assert ("frozen: pelvis sensor repeated one frame for 1.0 s at 1.0 s (reading 17.2 deg/s"
            in out)
    assert out.endswith("not a still sensor): treated as a gap")


def test_info_reads_the_csv_twin_and_single_pain(tmp_path: Path, capsys) -> None:
    path = tmp_path / "r.csv"
    write_recording(make_recording(pain_nrs=4, step_height_m=None), path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pain NRS: 4 (whole test)" in out and "step height: not given" in out


@pytest.mark.parametrize("make_bad", [
    lambda p: p.write_bytes(b"PAR1 not really"),
    lambda p: None,  # no file at all
])
def test_info_bad_file_is_one_line_and_exit_2(tmp_path: Path, capsys, make_bad) -> None:
    path = tmp_path / "bad.parquet"
    make_bad(path)
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error:") and "bad.parquet" in err


def test_info_names_the_bad_row(tmp_path: Path, capsys) -> None:
    df, meta, n_pelvis = base()
    df.loc[n_pelvis + 2, "gx"] = np.nan
    path = write_raw(df, meta, tmp_path / "r.parquet")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"sensor thigh_left, row {n_pelvis + 3}: non-finite value nan in column gx" in err


def test_written_files_get_the_usual_permissions(tmp_path):
    t = np.arange(0, 1, 0.01)
    z = np.zeros((len(t), 3))
    acc = z + [0, 0, 9.81]
    rec = Recording({"pelvis": SensorStream(t, acc, z), "thigh_left": SensorStream(t, acc, z)},
                    test_leg="left")
    old = os.umask(0o022)
    try:
        write_recording(rec, tmp_path / "r.parquet")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.parquet").stat().st_mode) == 0o644
