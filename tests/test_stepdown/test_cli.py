"""The `stepdown` entry point: usage errors, unknown commands and --help end in a message
and an exit code, never a traceback, whichever click family (click or typer's vendored
copy) raised them."""

from __future__ import annotations

import errno
import io

import click
import pytest
import typer

from sensor_io.errors import InputError
from stepdown import cli
from stepdown.cli import main


def run(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_a_missing_argument_is_a_usage_error_not_a_traceback(capsys):
    rc, out, err = run(capsys, ["info"])
    assert rc == 2
    assert "Missing argument" in err and "stepdown info" in err
    assert out == ""


def test_an_unknown_command_is_named(capsys):
    rc, _, err = run(capsys, ["no-such-command"])
    assert rc == 2
    assert "No such command 'no-such-command'" in err


def test_an_unknown_option_is_named(capsys, tmp_path):
    rc, _, err = run(capsys, ["analyze", str(tmp_path / "x.parquet"), "--bogus"])
    assert rc == 2
    assert "No such option: --bogus" in err


def test_a_bad_option_value_is_a_usage_error(capsys):
    rc, _, err = run(capsys, ["serve", "--port", "eighty"])
    assert rc == 2
    assert "Invalid value for '--port'" in err


def test_help_lists_every_command_and_exits_0(capsys):
    rc, out, _ = run(capsys, ["--help"])
    assert rc == 0
    for command in ("analyze", "info", "simulate", "import", "serve", "record", "load"):
        assert command in out


def test_command_help_exits_0(capsys):
    rc, out, _ = run(capsys, ["analyze", "--help"])
    assert rc == 0
    assert "--json" in out and "--plot" in out and "--pain" in out and "--rule" in out


def test_no_arguments_shows_the_help_with_exit_2(capsys):
    rc, out, err = run(capsys, [])
    assert rc == 2
    assert "analyze" in out + err


def test_a_refused_input_is_one_line_with_exit_2(capsys, tmp_path):
    rc, out, err = run(capsys, ["info", str(tmp_path / "missing.parquet")])
    assert rc == 2
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    assert "missing.parquet" in err


@pytest.mark.parametrize("family", ["typer", "click"])
def test_both_click_families_are_handled(capsys, monkeypatch, family):
    """A command raising click's or typer's vendored exceptions: message, exit code, no traceback."""
    usage = typer.BadParameter if family == "typer" else click.BadParameter
    abort = typer.Abort if family == "typer" else click.exceptions.Abort
    exit_ = typer.Exit if family == "typer" else click.exceptions.Exit
    raised: list[BaseException] = [usage("value looks wrong"), abort(), exit_(3)]

    def fake_app(**kwargs):
        raise raised.pop(0)

    monkeypatch.setattr(cli, "app", fake_app)
    rc, _, err = run(capsys, ["whatever"])
    assert rc == 2 and "value looks wrong" in err
    rc, _, err = run(capsys, ["whatever"])
    assert rc == 1 and "aborted" in err
    rc, _, _ = run(capsys, ["whatever"])
    assert rc == 3


def test_input_errors_from_a_command_exit_2(capsys, monkeypatch):
    def fake_app(**kwargs):
        raise InputError("recording x.parquet: sensor pelvis has no samples")

    monkeypatch.setattr(cli, "app", fake_app)
    rc, _, err = run(capsys, ["whatever"])
    assert rc == 2
    assert err == "error: recording x.parquet: sensor pelvis has no samples\n"


@pytest.mark.parametrize("raised, shown", [
    (PermissionError(13, "Permission denied", "out/reps.csv"), "out/reps.csv: Permission denied"),
    (OSError(30, "Read-only file system", "/mnt/ro/p.png"), "/mnt/ro/p.png: Read-only file system"),
    (OSError("Failed to open local file 'r.parquet'. Detail: [errno 30] Read-only file system"),
     "Detail: [errno 30] Read-only"),  # pyarrow's: no errno, no filename; [..] not markup
])
def test_a_file_that_cannot_be_written_is_one_line_with_exit_2(capsys, monkeypatch, raised, shown):
    def fake_app(**kwargs):
        raise raised

    monkeypatch.setattr(cli, "app", fake_app)
    rc, _, err = run(capsys, ["whatever"])
    assert rc == 2
    assert err.startswith("error: ") and shown in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("raised, shown", [
    # pyarrow's: no filename, the path in the text (was "no such file: None")
    (FileNotFoundError(2, "Failed to open local file 'x/r.parquet'. Detail: [errno 2] No such "
                          "file or directory"), "error: Failed to open local file 'x/r.parquet'"),
    (FileNotFoundError(2, "No such file or directory", "x/r.parquet"), "error: no such file: x/r.parquet"),
    # a rename names both ends (it named only the temp file)
    (PermissionError(13, "Permission denied", "out/.r.parquet.tmp", None, "out/r.parquet"),
     "error: out/.r.parquet.tmp -> out/r.parquet: Permission denied"),
])
def test_an_os_error_names_what_it_can(capsys, monkeypatch, raised, shown):
    def fake_app(**kwargs):
        raise raised

    monkeypatch.setattr(cli, "app", fake_app)
    rc, _, err = run(capsys, ["whatever"])
    assert rc == 2 and err.startswith(shown) and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("raised", [
    io.UnsupportedOperation("not writable"),  # a file opened for reading, written: a bug
    OSError(errno.EBADF, "Bad file descriptor"),
    OSError(errno.EINVAL, "Invalid argument"),
    OSError("no errno at all"),
])
def test_an_os_error_from_a_bug_keeps_its_traceback(capsys, monkeypatch, raised):
    # shown as one line and exit 2 it read as refused input, and the bug went unreported
    def fake_app(**kwargs):
        raise raised

    monkeypatch.setattr(cli, "app", fake_app)
    with pytest.raises(type(raised)):
        cli.main(["whatever"])


def test_a_command_loads_only_its_own_module():
    # start-up time is part of every `stepdown analyze`: the web app, the BLE stack and
    # scikit-learn stay unloaded unless asked for
    import subprocess
    import sys

    code = ("import sys; from stepdown.cli import main; main(['info', '--help']); "
            "print(sorted(m for m in sys.modules if m.startswith(('stepdown.commands.', "
            "'starlette', 'bleak', 'sklearn'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "stepdown.commands.info" in loaded
    for other in ("stepdown.commands.web", "stepdown.commands.live", "starlette", "bleak", "sklearn"):
        assert other not in loaded


def test_help_loads_no_numerical_stack():
    # issue 22: `stepdown --help` answers at once (numpy, 40 ms, may load): scipy alone costs
    # 0.7-0.9 s to import (an annotation-only import of calibration in analysis.uncertainty
    # once pulled it in), pyarrow 0.1-0.2 s (import-dot's module-level imports did)
    import subprocess
    import sys

    code = ("import sys; from stepdown.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'pandas', 'sklearn', 'vqf', 'pyarrow', 'bleak', 'dask', 'sqlalchemy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def _command_paths(command, path=()):
    """Every command and group under ``command``, as its argv path (the root is ``()``)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


def test_help_shows_the_docstring_summary_and_not_its_numpydoc_sections(capsys, monkeypatch):
    # the commands' docstrings carry numpydoc Parameters sections (tests/test_docstrings.py);
    # typer ends a command's help at the form feed (\f) after the summary, in its own help
    # and in its group's list of commands
    monkeypatch.setenv("COLUMNS", "200")  # a summary on one line of the help
    cli._register_commands([])
    paths = list(_command_paths(typer.main.get_command(cli.app)))
    documented = [p for p, c in paths
                  if "Parameters\n" in (getattr(c.callback, "__doc__", None) or "")]
    assert len(documented) >= 25  # the converted commands are in the walk
    for path, command in paths:
        rc, out, _ = run(capsys, [*path, "--help"])
        assert rc == 0, path
        assert "Parameters" not in out and "----------" not in out, path
        summary = (command.help or "").partition("\f")[0].split("\n\n")[0]
        assert " ".join(summary.split()) in " ".join(out.split()), path
