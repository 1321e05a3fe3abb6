"""`stepdown load add | import | status` through stepdown.cli.main, in a temporary data home."""

from __future__ import annotations

import datetime as dt

import pytest

from stepdown.cli import main

HEADER = "athlete,date,activity,duration_min,distance_km,sets,reps,load_kg,rpe,pain,season_start,notes"
D0 = dt.date(2026, 1, 5)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def log_csv(tmp_path, n_days: int = 35, jump_from: int = 28, bad: str | None = None):
    rows = [HEADER]
    for i in range(n_days):
        d = (D0 + dt.timedelta(days=i)).isoformat()
        if i == 10:
            continue  # a missing day
        if i % 7 == 6:
            rows.append(f"a-1,{d},rest,,,,,,,,,")
        else:
            minutes = 40 + 5 * (i % 3) if i < jump_from else 90
            rows.append(f"a-1,{d},run,{minutes},8,,,,5,1,,")
    if bad:
        rows.insert(4, bad)
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_add_then_status(capsys):
    assert main(["load", "add", "a-1", "run", "--date", "2026-01-05", "--duration-min", "45",
                 "--distance-km", "8", "--rpe", "6", "--pain", "1"]) == 0
    assert "logged run for a-1 on 2026-01-05 (session load 270 AU)" in capsys.readouterr().out
    assert main(["load", "add", "a-1", "rest", "--date", "2026-01-06"]) == 0
    capsys.readouterr()
    assert main(["load", "status", "a-1", "--as-of", "2026-01-08"]) == 0
    out = capsys.readouterr().out
    assert "a-1 · training load as of 2026-01-08" in out
    assert "█_··" in out  # run, rest day, two missing days
    assert "7-day load" in out and "270" in out and "2 missing day(s)" in out
    assert "history 4 of 28 days" in out
    assert "not injury risk" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--duration-min", "-30", "--rpe", "5"], "duration -1800 s is negative"),
    (["--duration-min", "30", "--rpe", "14"], "RPE 14 is outside 0-10"),
    (["--date", "2999-01-01", "--duration-min", "30"], "date 2999-01-01 is in the future"),
    (["--date", "yesterday", "--duration-min", "30"], "date 'yesterday' is not a date"),
])
def test_add_refuses_bad_entries_in_one_line(capsys, args, message):
    assert main(["load", "add", "a-1", "run", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert main(["load", "status", "a-1"]) == 2  # nothing was stored
    assert "no training-log entries for athlete 'a-1'" in capsys.readouterr().err


def test_import_and_status_with_flags(tmp_path, capsys):
    path = log_csv(tmp_path, n_days=40)
    assert main(["load", "import", str(path)]) == 0
    assert "imported 39 entries for 1 athlete(s) from log.csv: a-1" in capsys.readouterr().out
    assert main(["load", "status", "a-1", "--as-of", "2026-02-13"]) == 0
    out = capsys.readouterr().out

    def load(i):  # the file's session loads by hand: RPE 5 x minutes, rest days 0
        return 0 if i % 7 == 6 else 5 * (40 + 5 * (i % 3) if i < 28 else 90)
    acwr = sum(load(i) for i in range(33, 40)) / (sum(load(i) for i in range(12, 33)) / 3)
    assert f"{acwr:.2f}" == "1.57"
    assert "ACWR rolling (7 : 21)   1.57" in out
    assert "acwr_rolling: rolling ACWR 1.57 > 1.5" in out
    assert "progression_2w" in out
    # the same file again: refused, nothing doubled
    assert main(["load", "import", str(path)]) == 2
    assert "already imported" in capsys.readouterr().err


def test_import_with_a_bad_row_refuses_the_whole_file(tmp_path, capsys):
    path = log_csv(tmp_path, bad="a-1,2026-01-20,run,30,,,,,14,,,")
    assert main(["load", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "log.csv line 5 (a-1, 2026-01-20): RPE 14 is outside 0-10" in err
    assert "nothing imported" in err
    assert main(["load", "status", "a-1", "--as-of", "2026-02-08"]) == 2


def test_clinic_rules_file_changes_the_threshold(tmp_path, home, capsys):
    assert main(["load", "import", str(log_csv(tmp_path, n_days=40))]) == 0
    (home / "load_flags.toml").write_text("acwr_max = 2.5\nprogression_2w_max = 5\nmonotony_max = 3\n")
    capsys.readouterr()
    assert main(["load", "status", "a-1", "--as-of", "2026-02-13"]) == 0
    assert "flags (last 7 days): none" in capsys.readouterr().out
    (home / "load_flags.toml").write_text("acwr = 2\n")
    assert main(["load", "status", "a-1", "--as-of", "2026-02-13"]) == 2
    assert "unknown flag setting 'acwr'" in capsys.readouterr().err


def test_load_help_says_flags_are_not_injury_probabilities(capsys):
    assert main(["load", "--help"]) == 0
    assert "not injury risk" in " ".join(capsys.readouterr().out.split())
