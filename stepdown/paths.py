"""Where stepdown keeps its files: the data home.

``$STEPDOWN_HOME`` if set, else the platform's user data directory
(e.g. ``~/.local/share/stepdown`` on Linux).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from platformdirs import user_data_dir

from sensor_io.errors import InputError


def data_home() -> Path:
    """The data home directory, created if missing.

    Returns
    -------
    pathlib.Path
        ``$STEPDOWN_HOME`` if set, else the platform's user data directory (mode 0700 when
        created).
    """
    env = os.environ.get("STEPDOWN_HOME")
    home = Path(env).expanduser() if env else Path(user_data_dir("stepdown", appauthor=False))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def catalog_path() -> Path:
    """The SQLite catalog file inside the data home.

    Returns
    -------
    pathlib.Path
        ``<data home>/catalog.sqlite3`` (not created here).
    """
    return data_home() / "catalog.sqlite3"


def recordings_dir() -> Path:
    """Folder holding the recordings (one Parquet file per test).

    Returns
    -------
    pathlib.Path
        ``<data home>/recordings``, created if missing.
    """
    d = data_home() / "recordings"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def check_output_folder(out: Path, label: str) -> None:
    """Refuse an output file whose folder is missing or cannot be written, before any work.

    Parameters
    ----------
    out : pathlib.Path
        The file to be written.
    label : str
        How the message names it (e.g. ``--plot my.png``).

    Raises
    ------
    InputError
        The folder does not exist, or is read-only or not ours to write in.
    """
    folder = out.parent
    if not folder.is_dir():
        raise InputError(f"{label}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{label}: folder {folder} cannot be written (read-only or no permission)")


@contextmanager
def data_home_env(home: Path) -> Iterator[None]:
    """``STEPDOWN_HOME=home`` inside the block only (restored after, even on error).

    Parameters
    ----------
    home : pathlib.Path
        The data home to use inside the block.

    Yields
    ------
    None
        Control to the block.
    """
    before = os.environ.get("STEPDOWN_HOME")
    os.environ["STEPDOWN_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("STEPDOWN_HOME", None)
        else:
            os.environ["STEPDOWN_HOME"] = before
