"""The documented training-log CSV: parsing, units at the edge, all-or-nothing refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from analysis.training_load.csv_import import CsvImportError, read_load_csv
from analysis.training_load.entries import LoadEntry

LATEST = dt.date(2026, 3, 1)
HEADER = "athlete,date,activity,duration_min,distance_km,sets,reps,load_kg,rpe,pain,season_start,notes"


def write(tmp_path, *rows: str, header: str = HEADER, encoding: str = "utf-8"):
    path = tmp_path / "log.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def test_documented_layout_reads_into_si_entries(tmp_path):
    path = write(tmp_path,
                 "a-017,2026-01-05,run,45,8.2,,,,6,1,,easy run",
                 "a-017,2026-01-06,strength,40,,3,10,60,7,0,,split squats",
                 "a-017,2026-01-07,rest,,,,,,,,,",
                 "",
                 "a-017,2026-01-12,run,30,5,,,,5,,yes,new season")
    entries = read_load_csv(path, latest_date=LATEST)
    assert entries[0] == LoadEntry("a-017", dt.date(2026, 1, 5), "run", duration_s=2700.0,
                                   distance_m=8200.0, rpe=6.0, pain_nrs=1.0, notes="easy run")
    assert entries[1].sets == 3 and entries[1].reps == 10 and entries[1].load_kg == 60
    assert entries[2].is_rest
    assert entries[3].season_start and not entries[0].season_start
    assert len(entries) == 4


def test_columns_in_any_order_optional_ones_left_out_and_excel_bom(tmp_path):
    path = write(tmp_path, "RUN,2026-01-05,a-1,30", header="activity,date,athlete,duration_min",
                 encoding="utf-8-sig")
    assert read_load_csv(path, latest_date=LATEST) == [
        LoadEntry("a-1", dt.date(2026, 1, 5), "run", duration_s=1800.0)]


@pytest.mark.parametrize(("row", "message"), [
    ("a-1,2026-01-05,run,-30,,,,,5,,,", "line 3 (a-1, 2026-01-05): duration_min -30 is negative"),
    ("a-1,2026-01-05,run,30,,,,,14,,,", "line 3 (a-1, 2026-01-05): RPE 14 is outside 0-10"),
    ("a-1,2026-03-09,run,30,,,,,5,,,", "line 3 (a-1, 2026-03-09): date 2026-03-09 is in the future"),
    ("a-1,2026-01-05,run,30,5", "line 3 (a-1, 2026-01-05): has 5 fields, the header has 12"),
    ("a-1,05/01/2026,run,30,,,,,5,,,", "line 3 (a-1, 05/01/2026): date '05/01/2026' is not YYYY-MM-DD"),
    ("a-1,2026-02-30,run,30,,,,,5,,,", "date '2026-02-30' is not a calendar date"),
    ("a-1,2026-01-05,run,thirty,,,,,5,,,", "duration_min 'thirty' is not a number"),
    ("a-1,2026-01-05,strength,30,,2.5,10,20,5,,,", "sets 2.5 is not a whole number"),
    ("a-1,2026-01-05,run,30,,,,,5,,maybe,", "season_start 'maybe' is not yes or no"),
])
def test_a_bad_row_refuses_the_whole_file_naming_the_row(tmp_path, row, message):
    path = write(tmp_path, "a-1,2026-01-04,run,30,,,,,5,,,", row)
    with pytest.raises(CsvImportError) as err:
        read_load_csv(path, latest_date=LATEST)
    text = str(err.value)
    assert text.startswith("log.csv line ") and message in text
    assert "file refused, nothing imported" in text and "\n" not in text


def test_the_first_bad_row_is_named_and_the_others_counted(tmp_path):
    path = write(tmp_path, "a-1,2026-01-04,run,30,,,,,5,,,", "a-1,2026-01-05,run,30,,,,,14,,,",
                 "a-1,2026-01-06,run,-1,,,,,5,,,", "a-1,2026-01-07,run,30,,,,,99,,,")
    with pytest.raises(CsvImportError, match=r"^log.csv line 3 .*RPE 14.*; 2 more bad rows\)$"):
        read_load_csv(path, latest_date=LATEST)


@pytest.mark.parametrize(("header", "message"), [
    ("athlete,date,duration_min", "header lacks column 'activity'"),
    ("athlete,date,activity,rpe_score", "unknown column 'rpe_score'"),
    ("athlete,date,activity,rpe,rpe", "column 'rpe' appears twice"),
])
def test_bad_headers_are_refused(tmp_path, header, message):
    with pytest.raises(CsvImportError, match=message):
        read_load_csv(write(tmp_path, header=header), latest_date=LATEST)


def test_empty_and_non_utf8_files_are_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CsvImportError, match="empty file"):
        read_load_csv(tmp_path / "empty.csv")
    with pytest.raises(CsvImportError, match="no entries below the header"):
        read_load_csv(write(tmp_path))
    (tmp_path / "latin.csv").write_bytes(HEADER.encode() + b"\na,2026-01-01,run,30,,,,,5,,,caf\xe9\n")
    with pytest.raises(CsvImportError, match="not UTF-8"):
        read_load_csv(tmp_path / "latin.csv")
