"""A seeded fuzz of the file commands against the bad-input contract (README, DESIGN.md).

Each mutation of a shipped sample (its Parquet file, the same file as write_recording writes
it now, its CSV twin written by the project's own writer, the CSV's metadata sidecar, its
truth JSON, an Xsens CSV export of it, a rules TOML) is given to ``stepdown info``,
``analyze``, ``analyze --json`` and ``import`` (a truth file to ``train FOLDER``, an export
to ``analyze --placement``, a rules file to ``analyze --rules``), in process through
:func:`stepdown.cli.main`. The contract: exit code 2 with one ``error:`` line on stderr and
no traceback, or a success whose output is sane (the mutations named harmless must succeed,
the lossless ones with the shipped file's analysis); the input file is never changed, and a
refused import leaves the catalog's rows and stored files as they were. Byte-level
mutations (truncation, flips, zeroed blocks, other formats) and value-level ones (read with
pyarrow/pandas, mutated, written back) are drawn from one seed: every run tries the same files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sensor_io.recording_io import read_recording, write_recording
from stepdown.cli import main
from stepdown.sample_data import DATA_DIR

SAMPLE = DATA_DIR / "good_left_pelvis_thigh.parquet"  # the smallest sample: pelvis + thigh
TRUTH = DATA_DIR / "good_left_pelvis_thigh.truth.json"
SEED = 20261207

pytestmark = pytest.mark.skipif(not (SAMPLE.exists() and TRUTH.exists()),
                                reason="sample recordings missing from data/ "
                                       "(python -m stepdown.sample_data)")


@dataclass(frozen=True)
class Base:
    """The unmutated inputs: the sample's bytes, its CSV twin and sidecar, its table."""

    parquet: bytes
    written: bytes
    """The sample as write_recording writes it now (data pages with checksums)."""
    csv: bytes
    sidecar: bytes
    truth: bytes
    frame: pd.DataFrame
    meta: dict


Builder = Callable[[Path, Base], Path]
"""Writes one mutated input into a folder; returns the path given to the command."""


# --- byte level -------------------------------------------------------------------------------

def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def truncated(kind: str, fraction: float) -> Builder:
    def build(d: Path, b: Base) -> Path:
        data = getattr(b, kind)
        cut = data[: int(len(data) * fraction)]
        if kind == "parquet":
            return _write(d, "rec.parquet", cut)
        _write(d, "rec.json", cut if kind == "sidecar" else b.sidecar)
        return _write(d, "rec.csv", cut if kind == "csv" else b.csv)
    return build


TEXT_BYTES = np.frombuffer(b'0123456789.,-+eE "{}[]:\nnaif', np.uint8)
"""What a text file's flipped bytes become, so the parser, not the UTF-8 decoder, meets them."""


def flipped(kind: str, seed: int, n: int = 8) -> Builder:
    """``n`` random bytes changed: any value in a Parquet file (the shipped one, or as
    written now), a text byte in the others."""
    def build(d: Path, b: Base) -> Path:
        rng = np.random.default_rng(seed)
        data = np.frombuffer(getattr(b, kind), np.uint8).copy()
        at = rng.integers(0, len(data), n)
        if kind in ("parquet", "written"):
            data[at] ^= rng.integers(1, 256, n).astype(np.uint8)
        else:
            data[at] = rng.choice(TEXT_BYTES, n)
        mutated = data.tobytes()
        if kind in ("parquet", "written"):
            return _write(d, "rec.parquet", mutated)
        path = _write(d, "rec.csv", mutated if kind == "csv" else b.csv)
        _write(d, "rec.json", mutated if kind == "sidecar" else b.sidecar)
        return path
    return build


def zeroed(seed: int, size: int = 4096) -> Builder:
    def build(d: Path, b: Base) -> Path:
        rng = np.random.default_rng(seed)
        data = np.frombuffer(b.written, np.uint8).copy()
        start = int(rng.integers(0, len(data) - size))
        data[start:start + size] = 0
        return _write(d, "rec.parquet", data.tobytes())
    return build


def raw(name: str, data: bytes | Callable[[Base], bytes], sidecar: bytes | None = None
        ) -> Builder:
    def build(d: Path, b: Base) -> Path:
        if sidecar is not None:
            _write(d, Path(name).with_suffix(".json").name, sidecar)
        return _write(d, name, data(b) if callable(data) else data)
    return build


def a_folder(name: str) -> Builder:
    def build(d: Path, b: Base) -> Path:
        (d / name).mkdir()
        return d / name
    return build


def missing(d: Path, b: Base) -> Path:
    return d / "nothing_here.parquet"


def csv_without_sidecar(d: Path, b: Base) -> Path:
    return _write(d, "rec.csv", b.csv)


# --- value level: read, mutate with pandas, write back ------------------------------------

def _write_parquet(path: Path, df: pd.DataFrame, meta: dict | bytes | None) -> Path:
    table = pa.Table.from_pandas(df, preserve_index=False)
    if meta is not None:
        raw_meta = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        table = table.replace_schema_metadata({b"stepdown": raw_meta})
    else:
        table = table.replace_schema_metadata(None)
    pq.write_table(table, path)
    return path


def valued(change: Callable[[pd.DataFrame, dict, np.random.Generator], object],
           seed: int, fmt: str = "parquet") -> Builder:
    """The sample's table and metadata through ``change`` (in place, or returning new ones)."""
    def build(d: Path, b: Base) -> Path:
        df, meta = b.frame.copy(), json.loads(json.dumps(b.meta))
        out = change(df, meta, np.random.default_rng(seed))
        if isinstance(out, tuple):
            df, meta = out
        if fmt == "parquet":
            return _write_parquet(d / "rec.parquet", df, meta)
        df.to_csv(d / "rec.csv", index=False)
        (d / "rec.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
        return d / "rec.csv"
    return build


def _rows(df: pd.DataFrame, rng: np.random.Generator, n: int = 5) -> np.ndarray:
    return rng.choice(len(df), n, replace=False)


def nan_in(col: str, value: float = np.nan):
    def change(df, meta, rng):
        df.loc[_rows(df, rng), col] = value
    return change


def drop(col: str):
    return lambda df, meta, rng: (df.drop(columns=col), meta)


def rename(old: str, new: str):
    return lambda df, meta, rng: (df.rename(columns={old: new}), meta)


def scaled(cols: tuple[str, ...], factor: float):
    def change(df, meta, rng):
        df[list(cols)] *= factor
    return change


def shuffled_time(df, meta, rng):
    return df.sample(frac=1.0, random_state=int(rng.integers(1 << 31))), meta


def reversed_time(df, meta, rng):
    return df.iloc[::-1].reset_index(drop=True), meta


def duplicated_time(df, meta, rng):
    i = np.sort(_rows(df, rng))
    return pd.concat([df, df.iloc[i]]).sort_index(kind="stable").reset_index(drop=True), meta


def one_time_repeated(df, meta, rng):
    i = int(rng.integers(1, len(df)))
    if df.loc[i, "sensor"] == df.loc[i - 1, "sensor"]:
        df.loc[i, "t"] = df.loc[i - 1, "t"]


def renamed_sensor(old: str, new: str, in_meta: bool = True):
    def change(df, meta, rng):
        df["sensor"] = df["sensor"].replace(old, new)
        if in_meta:
            meta["sensors"][new] = meta["sensors"].pop(old)
    return change


def without_sensor(name: str):
    return lambda df, meta, rng: (df[df["sensor"] != name].reset_index(drop=True), meta)


def no_rows(df, meta, rng):
    return df.iloc[:0], meta


def one_row_per_sensor(df, meta, rng):
    return df.groupby("sensor", sort=False).head(1).reset_index(drop=True), meta


def meta_set(*path: str, value: object = None, delete: bool = False):
    def change(df, meta, rng):
        node = meta
        for k in path[:-1]:
            node = node[k]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


def meta_replaced(value: object):
    return lambda df, meta, rng: (df, value)


def typed(col: str, dtype: str):
    def change(df, meta, rng):
        df[col] = df[col].astype(dtype)
    return change


def sensor_as_number(df, meta, rng):
    df["sensor"] = df["sensor"].astype("category").cat.codes.astype("int64")


def missing_sensor_name(df, meta, rng):
    df["sensor"] = df["sensor"].astype(object)
    df.loc[_rows(df, rng, 1), "sensor"] = None


def extra_column(df, meta, rng):
    df["temperature_c"] = 31.5


def interleaved(df, meta, rng):
    return df.sort_values("t", kind="stable").reset_index(drop=True), meta


def sensors_reversed(df, meta, rng):
    order = {name: -i for i, name in enumerate(df["sensor"].unique())}
    return df.sort_values("sensor", key=lambda c: c.map(order), kind="stable"), meta


def columns_reversed(df, meta, rng):
    return df[df.columns[::-1]], meta


def optional_metadata_removed(df, meta, rng):
    return df, {k: meta[k] for k in ("format", "version", "test_leg")}


def csv_crlf(d: Path, b: Base) -> Path:
    _write(d, "rec.json", b.sidecar)
    return _write(d, "rec.csv", b.csv.replace(b"\n", b"\r\n"))


# --- the mutation list ----------------------------------------------------------------------

def _mutations() -> dict[str, Builder]:
    rng = np.random.default_rng(SEED)
    m: dict[str, Builder] = {}
    for f in sorted(rng.uniform(0.0, 1.0, 5)) + [0.999]:  # the footer's end too
        m[f"parquet truncated at {f:.3f}"] = truncated("parquet", f)
    for f in sorted(rng.uniform(0.0, 1.0, 3)):
        m[f"csv truncated at {f:.3f}"] = truncated("csv", f)
    for f in sorted(rng.uniform(0.0, 1.0, 2)):
        m[f"sidecar truncated at {f:.3f}"] = truncated("sidecar", f)
    for kind, n in (("parquet", 2), ("written", 3), ("csv", 3), ("sidecar", 3)):
        for s in rng.integers(0, 1 << 31, n):
            what = "parquet as written now" if kind == "written" else kind
            m[f"{what} bytes flipped (seed {s})"] = flipped(kind, int(s))
    for s in rng.integers(0, 1 << 31, 2):
        m[f"parquet as written now 4 KiB zeroed (seed {s})"] = zeroed(int(s))
    m["empty parquet"] = raw("rec.parquet", b"")
    m["empty csv"] = raw("rec.csv", b"", sidecar=b"{}")
    m["empty sidecar"] = lambda d, b: raw("rec.csv", b.csv, sidecar=b"")(d, b)
    m["csv without its sidecar"] = csv_without_sidecar
    m["a folder named .parquet"] = a_folder("rec.parquet")
    m["a folder"] = a_folder("recs")
    m["missing path"] = missing
    m["json named .parquet"] = raw("rec.parquet", lambda b: b.sidecar)
    m["csv named .parquet"] = raw("rec.parquet", lambda b: b.csv)
    m["png named .parquet"] = raw("rec.parquet", b"\x89PNG\r\n\x1a\n" + bytes(200))
    m["parquet named .csv"] = lambda d, b: raw("rec.csv", b.parquet, sidecar=b.sidecar)(d, b)
    m["unknown suffix .txt"] = raw("rec.txt", lambda b: b.csv)
    m["sidecar a number of 5000 digits"] = lambda d, b: raw(
        "rec.csv", b.csv, sidecar=b.sidecar.replace(b'"version": 1', b'"version": 1' + b"0" * 4999))(d, b)
    m["sidecar nested 100000 deep"] = lambda d, b: raw(
        "rec.csv", b.csv, sidecar=b.sidecar[:-2] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000
        + b"}")(d, b)
    m["sidecar not utf-8"] = lambda d, b: raw("rec.csv", b.csv,
                                              sidecar=b"\xff\xfe" + b.sidecar)(d, b)

    seeds = iter(rng.integers(0, 1 << 31, 128))
    values: dict[str, Callable] = {
        "NaN in ax": nan_in("ax"), "inf in gy": nan_in("gy", np.inf),
        "-inf in az": nan_in("az", -np.inf), "NaN in t": nan_in("t"), "inf in t": nan_in("t", np.inf),
        "huge value in gx": nan_in("gx", 1e300), "huge t": nan_in("t", 1e300),
        "column gz dropped": drop("gz"), "column t dropped": drop("t"),
        "column sensor dropped": drop("sensor"), "column ax renamed acc_x": rename("ax", "acc_x"),
        "an extra column": extra_column,
        "time unsorted": shuffled_time, "time reversed": reversed_time,
        "time duplicated rows": duplicated_time, "one time repeated": one_time_repeated,
        "time in ms": scaled(("t",), 1000.0), "time in minutes": scaled(("t",), 1 / 60),
        "acc in g": scaled(("ax", "ay", "az"), 1 / 9.80665),
        "gyro in deg/s": scaled(("gx", "gy", "gz"), 180 / np.pi),
        "unknown sensor name": renamed_sensor("thigh_left", "thigh_lft"),
        "sensor name a rich closing tag": renamed_sensor("thigh_left", "[/bold]"),
        "sensor name a rich tag": renamed_sensor("thigh_left", "[red]thigh_left"),
        "sensor name in capitals": renamed_sensor("pelvis", "Pelvis", in_meta=False),
        "sensor of the other leg": renamed_sensor("thigh_left", "thigh_right"),
        "empty sensor (listed, no rows)": without_sensor("thigh_left"),
        "no rows": no_rows, "one row per sensor": one_row_per_sensor,
        "missing sensor name": missing_sensor_name, "sensor column numeric": sensor_as_number,
        "t as float32": typed("t", "float32"), "ax as string": typed("ax", "str"),
        "metadata missing test_leg": meta_set("test_leg", delete=True),
        "metadata missing format": meta_set("format", delete=True),
        "metadata test_leg 'middle'": meta_set("test_leg", value="middle"),
        "metadata version 99": meta_set("version", value=99),
        "metadata step height a string": meta_set("step_height_m", value="high"),
        "metadata huge step height": meta_set("step_height_m", value=1e308),
        "metadata athlete a string": meta_set("athlete", value="sim-9"),
        "metadata athlete height negative": meta_set("athlete", "height_m", value=-1.8),
        "metadata athlete height NaN-like": meta_set("athlete", "height_m", value="nan"),
        "metadata sensors a list": meta_set("sensors", value=["pelvis"]),
        "metadata sensor entry a number": meta_set("sensors", "pelvis", value=3),
        "metadata pain 11": meta_set("pain_nrs", value=11),
        "metadata pain a string": meta_set("pain_nrs", value="none"),
        "metadata started_at a number": meta_set("started_at", value=17),
        "metadata an exercise key": meta_set("exercise", value={"kind": "?"}),
        "metadata gaps malformed": meta_set("gaps", value=[{"sensor": "pelvis"}]),
        "metadata gaps not a list": meta_set("gaps", value="none"),
        "metadata sensor quality malformed": meta_set("sensors", "pelvis", "quality",
                                                      value={"samples": 3}),
        "metadata a list": meta_replaced([1, 2]),
        "metadata absent": meta_replaced(None),
        "metadata not JSON": meta_replaced(b"{\"format\": \"stepdown-rec"),
        "metadata a number of 5000 digits": meta_replaced(b'{"version": 1' + b"0" * 4999 + b"}"),
        "metadata nested 100000 deep": meta_replaced(b"[" * 100_000 + b"]" * 100_000),
    }
    for name, change in values.items():
        m[f"parquet: {name}"] = valued(change, int(next(seeds)))
    for name in ("NaN in ax", "time unsorted", "time in ms", "gyro in deg/s",
                 "unknown sensor name", "column gz dropped", "metadata missing test_leg",
                 "metadata sensors a list", "huge value in gx", "ax as string"):
        m[f"csv: {name}"] = valued(values[name], int(next(seeds)), fmt="csv")
    for name, change in HARMLESS_VALUES.items():
        m[f"harmless parquet: {name}"] = valued(change, int(next(seeds)))
    m["harmless csv: columns reversed"] = valued(columns_reversed, int(next(seeds)), fmt="csv")
    m["harmless csv: CRLF line ends"] = csv_crlf
    # a folder "[" holding "bold].parquet": the path reads [/bold].parquet
    m["harmless parquet: file name a rich closing tag"] = raw("[/bold].parquet",
                                                              lambda b: b.parquet)
    m["file name a rich closing tag, empty"] = raw("[/bold].parquet", b"")
    m["csv: sidecar a list"] = valued(meta_replaced("[]"), int(next(seeds)), fmt="csv")
    m["csv: sidecar not JSON"] = valued(meta_replaced("{'format': 1}"), int(next(seeds)),
                                        fmt="csv")
    return m


MARKUP = {"a rich closing tag": "[/bold]", "a rich tag": "[red]thigh_left"}
"""The console markup a file's text holds in the mutations named for it, and must show."""

HARMLESS_VALUES: dict[str, Callable] = {
    "unchanged": lambda df, meta, rng: None,
    "sensors interleaved by time": interleaved,
    "sensors in reverse order": sensors_reversed,
    "columns reversed": columns_reversed,
    "an unknown metadata key": meta_set("clinic_note", value="left knee taped"),
    "optional metadata removed": optional_metadata_removed,
    "pain per rep too short": meta_set("pain_nrs", value=[0, 1]),  # a warning, documented
    "athlete id a rich closing tag": meta_set("athlete", "id", value="[/bold]"),
    "a metadata key a rich closing tag": meta_set("[/bold]", value=1),
}
"""Mutations a reader must accept; all but the last two give the shipped file's analysis."""

SAME_ANALYSIS = ("unchanged", "sensors interleaved by time", "sensors in reverse order",
                 "columns reversed", "an unknown metadata key", "CRLF line ends",
                 "file name a rich closing tag")

MUTATIONS = _mutations()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    d = tmp_path_factory.mktemp("fuzz_base")
    rec = read_recording(SAMPLE)
    write_recording(rec, d / "rec.csv")
    write_recording(rec, d / "rec.parquet")
    table = pq.read_table(SAMPLE)
    return Base(parquet=SAMPLE.read_bytes(), written=(d / "rec.parquet").read_bytes(),
                csv=(d / "rec.csv").read_bytes(),
                sidecar=(d / "rec.json").read_bytes(), truth=TRUTH.read_bytes(),
                frame=table.to_pandas(), meta=json.loads(table.schema.metadata[b"stepdown"]))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    """A catalog holding one good test already, so a refused import can be seen to keep it."""
    home = tmp_path_factory.mktemp("fuzz_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STEPDOWN_HOME", str(home))
        assert main(["import", str(SAMPLE), "--athlete", "fuzz"]) == 0
    return home


@pytest.fixture(scope="module")
def shipped() -> dict:
    """The shipped sample's analysis document, as `stepdown analyze --json` prints it."""
    from analysis.pipeline import analyze

    return json.loads(json.dumps(analyze(read_recording(SAMPLE, compact=True)).to_json()))


def catalog_state(home: Path) -> tuple[dict[str, int], list[str]]:
    with sqlite3.connect(home / "catalog.sqlite3") as c:
        counts = {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("athletes", "tests", "reps")}
    return counts, sorted(p.name for p in (home / "recordings").iterdir())


def _digest(path: Path) -> str | None:
    files = sorted(path.parent.glob(path.stem + ".*")) if path.is_file() else []
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest() if files else None


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)``; an exception escaping it is the defect reported, with its type."""
    try:
        rc = main(argv)
    except BaseException as err:  # noqa: BLE001 - the contract is that nothing escapes
        capsys.readouterr()
        pytest.fail(f"stepdown {' '.join(argv[:1])} raised {type(err).__name__}: {err}")
    out, err = capsys.readouterr()
    return rc, out, err


def assert_contract(rc: int, out: str, err: str, what: str) -> None:
    assert "Traceback" not in out + err, f"{what}: traceback\n{err}"
    if rc != 0:
        assert rc == 2, f"{what}: exit code {rc} for refused input\n{err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), f"{what}: not one line\n{err}"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # an error line is one line, however long


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_file_commands_keep_the_bad_input_contract(name, base, catalog, shipped, tmp_path,
                                                   capsys, monkeypatch):
    path = MUTATIONS[name](tmp_path, base)
    before = _digest(path)
    rc, out, err = run(capsys, ["info", str(path)])
    assert_contract(rc, out, err, "info")
    if rc == 0:
        assert "test leg:" in out and "sensors" in out
    readable = rc == 0
    if "rich" in name:  # text from the file is shown as it is, never read as console markup
        shown = " ".join((out + err).split())
        assert next(tag for what, tag in MARKUP.items() if what in name) in shown, shown

    harmless = name.startswith("harmless")
    assert readable or not harmless, f"info refused a valid file: {err}"

    rc, out, err = run(capsys, ["analyze", str(path), "--json"])
    assert_contract(rc, out, err, "analyze --json")
    assert rc == 0 or not harmless, f"analyze refused a valid file: {err}"
    if rc == 0:
        doc = json.loads(out)
        assert doc["format"] == "stepdown-analysis" and isinstance(doc["reps"], list)
        assert doc["test"]["category"] in ("good", "moderate", "medium", "poor")
        if name.split(": ", 1)[-1] in SAME_ANALYSIS:
            assert (doc["test"], doc["reps"]) == (shipped["test"], shipped["reps"])
    assert rc != 0 or readable, "analyze accepted a file info refused"

    rc, out, err = run(capsys, ["analyze", str(path)])
    assert_contract(rc, out, err, "analyze")
    if rc == 0:
        assert "test result:" in out

    monkeypatch.setenv("STEPDOWN_HOME", str(catalog))
    state = catalog_state(catalog)
    rc, out, err = run(capsys, ["import", str(path), "--athlete", "fuzz"])
    assert_contract(rc, out, err, "import")
    assert rc == 0 or not harmless, f"import refused a valid file: {err}"
    if rc == 0:
        assert "imported" in out or "already in the catalog" in out
        assert catalog_state(catalog)[0]["tests"] >= state[0]["tests"]
    else:
        assert "not imported" in err and err.count(str(path)) == 1, err  # the file named once
        assert catalog_state(catalog) == state, "a refused import changed the catalog"
    assert _digest(path) == before, "a command changed the input file"


def _truth_mutations() -> dict[str, Callable[[dict], object]]:
    def set_(key, value):
        def change(doc):
            doc[key] = value
        return change

    def rep_set(key, value):
        def change(doc):
            doc["reps"][0][key] = value
        return change

    def rep_del(key):
        def change(doc):
            del doc["reps"][0][key]
        return change

    def each_rep(value):
        def change(doc):
            for rep in doc["reps"]:
                rep.update({k: value(k, v) for k, v in rep.items() if isinstance(v, float)})
        return change

    return {
        "truth not JSON": lambda doc: b"{\"format\": ",
        "truth not utf-8": lambda doc: b"\xff\xfe\x00{",
        "truth empty": lambda doc: b"",
        "truth a number of 5000 digits": lambda doc: b'{"version": 1' + b"0" * 4999 + b"}",
        "truth nested 100000 deep": lambda doc: b"[" * 100_000 + b"]" * 100_000,
        "truth a list": lambda doc: [doc],
        "truth format missing": lambda doc: doc.pop("format"),
        "truth reps missing": lambda doc: doc.pop("reps"),
        "truth reps a string": set_("reps", "five"),
        "truth reps empty": set_("reps", []),
        "truth a rep a number": lambda doc: doc["reps"].__setitem__(0, 3),
        "truth rep bottom missing": rep_del("bottom_s"),
        "truth rep items missing": rep_del("items"),
        "truth rep items a string": rep_set("items", "x"),
        "truth rep items empty": rep_set("items", {}),
        "truth rep numbers strings": each_rep(lambda k, v: "x"),
        "truth rep numbers NaN": each_rep(lambda k, v: float("nan")),
        "truth rep numbers huge": each_rep(lambda k, v: 1e308),
    }


TRUTH_MUTATIONS = _truth_mutations()


@pytest.mark.parametrize("name", list(TRUTH_MUTATIONS))
def test_train_from_a_folder_keeps_the_contract_on_a_bad_truth_file(name, base, tmp_path,
                                                                     capsys):
    folder = tmp_path / "labelled"
    folder.mkdir()
    shutil.copyfile(SAMPLE, folder / "rec.parquet")
    doc = json.loads(base.truth)
    out = TRUTH_MUTATIONS[name](doc)
    data = out if isinstance(out, bytes) else json.dumps(
        out if isinstance(out, list) else doc).encode()
    (folder / "rec.truth.json").write_bytes(data)
    model = tmp_path / "model.skops"
    rc, out_text, err = run(capsys, ["train", str(folder), "--out", str(model), "--folds", "2"])
    assert_contract(rc, out_text, err, "train")
    assert rc != 0 and not model.exists()  # one recording, one athlete: never a model


PAGE_FLIP_SEEDS = [int(s) for s in np.random.default_rng(SEED + 1).integers(0, 1 << 31, 12)]


@pytest.mark.parametrize("seed", PAGE_FLIP_SEEDS)
def test_a_damaged_page_is_refused_not_read_as_other_numbers(seed, base, tmp_path, capsys):
    """One byte changed in the data pages (before the footer) of a file as write_recording
    writes it: refused in one line, or (a byte no reader uses) the same samples. Without the
    pages' checksums about half of such flips read silently as other samples."""
    data = np.frombuffer(base.written, np.uint8).copy()
    footer = int.from_bytes(base.written[-8:-4], "little") + 8  # footer, its length, PAR1
    rng = np.random.default_rng(seed)
    data[int(rng.integers(4, len(data) - footer))] ^= np.uint8(rng.integers(1, 256))
    path = _write(tmp_path, "rec.parquet", data.tobytes())
    rc, out, err = run(capsys, ["info", str(path)])
    assert_contract(rc, out, err, "info")
    if rc == 0:
        got, shipped_rec = read_recording(path), read_recording(SAMPLE)
        for name, s in shipped_rec.streams.items():
            g = got.streams[name]
            assert np.array_equal(g.t, s.t) and np.array_equal(g.acc, s.acc)
            assert np.array_equal(g.gyr, s.gyr)


XSENS_NAMES = {"pelvis": "Pelvis", "thigh_left": "LeftThigh"}
XSENS_PLACEMENT = "Pelvis=pelvis,LeftThigh=thigh_left"


def xsens_export(rec) -> bytes:
    """The recording as one Xsens CSV export (three header rows: sensor, quantity, component;
    then an index column and per sensor Time, Accelerometer, Gyroscope), to the shortest stream."""
    n = min(len(s) for s in rec.streams.values())
    names, quantities, components, columns = [""], [""], [""], []
    for placement, s in rec.streams.items():
        for quantity, comps, values in (("Time", ["S"], s.t[:n, None]),
                                        ("Accelerometer", list("XYZ"), s.acc[:n]),
                                        ("Gyroscope", list("XYZ"), s.gyr[:n])):
            names += [XSENS_NAMES[placement]] * len(comps)
            quantities += [quantity] * len(comps)
            components += comps
            columns.append(np.asarray(values, np.float64))
    data = np.hstack(columns)
    lines = [",".join(names), ",".join(quantities), ",".join(components)]
    lines += [f"{i}," + ",".join(f"{v:.7f}" for v in row) for i, row in enumerate(data)]
    return ("\n".join(lines) + "\n").encode()


def _stray_quote(data: bytes) -> bytes:
    """A quote opening a cell early in the file: the cell then runs on past csv's size limit."""
    at = data.index(b",", len(data) // 10) + 1
    return data[:at] + b'"' + data[at:]


XSENS_MUTATIONS: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "unchanged": (lambda x: x, XSENS_PLACEMENT, "left"),
    "a stray quote in a cell": (_stray_quote, XSENS_PLACEMENT, "left"),
    "truncated mid-line": (lambda x: x[: len(x) // 2 + 3], XSENS_PLACEMENT, "left"),
    "headers only": (lambda x: b"\n".join(x.split(b"\n")[:3]) + b"\n", XSENS_PLACEMENT, "left"),
    "a letter in a number": (lambda x: x[: len(x) // 2] + b"i" + x[len(x) // 2 + 1:],
                             XSENS_PLACEMENT, "left"),
    "placement without '='": (lambda x: x, "Pelvis", "left"),
    "placement to an unknown segment": (lambda x: x, "Pelvis=hip,LeftThigh=thigh_left", "left"),
    "placement of a sensor not in the file": (lambda x: x, "[/bold]=pelvis,LeftThigh=thigh_left",
                                              "left"),
    "the other test leg": (lambda x: x, XSENS_PLACEMENT, "right"),
}


@pytest.mark.parametrize("name", list(XSENS_MUTATIONS))
def test_analyze_keeps_the_contract_on_a_bad_xsens_export(name, tmp_path, capsys):
    change, placement, leg = XSENS_MUTATIONS[name]
    path = _write(tmp_path, "export.csv", change(xsens_export(read_recording(SAMPLE))))
    rc, out, err = run(capsys, ["analyze", str(path), "--json", "--placement", placement,
                                "--test-leg", leg])
    assert_contract(rc, out, err, "analyze --placement")
    assert (rc == 0) == (name == "unchanged"), err
    if rc == 0:
        assert json.loads(out)["format"] == "stepdown-analysis"


RULES_MUTATIONS: dict[str, bytes] = {
    "binary": bytes(range(256)),
    "not TOML": b"pelvis_deg == 5\n",
    "a number of 5000 digits": b"pelvis_deg = " + b"9" * 5000 + b"\n",
    "nested 50000 deep": b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "NaN": b"pelvis_deg = nan\n",
    "a string": b'pelvis_deg = "five"\n',
    "an unknown setting": b"pelvic_deg = 5.0\n",
    "a rich closing tag as a setting": b'"[/bold]" = 5.0\n',
    "a rich closing tag as the rule": b'test_rule = "[/bold]"\n',
}


@pytest.mark.parametrize("name", list(RULES_MUTATIONS))
def test_analyze_keeps_the_contract_on_a_bad_rules_file(name, tmp_path, capsys):
    rules = _write(tmp_path, "clinic.toml", RULES_MUTATIONS[name])
    rc, out, err = run(capsys, ["analyze", str(SAMPLE), "--json", "--rules", str(rules)])
    assert_contract(rc, out, err, "analyze --rules")
    assert rc == 2 and "clinic.toml" in err
    assert "rich" not in name or "[/bold]" in err
