"""A recording's files as the catalog keeps them: which files make it up, their content
hash (the identity of a test or set), and their copy in the data home."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def recording_files(path: Path) -> list[Path]:
    """The files making up a recording: the file itself, plus a CSV's sidecar.

    Parameters
    ----------
    path : Path
        The recording file.

    Returns
    -------
    list of Path
        ``path``, then the sidecar of a CSV when it exists.
    """
    files = [path]
    if path.suffix.lower() == ".csv":
        from sensor_io.recording_io import sidecar_path

        side = sidecar_path(path)
        if side.exists():
            files.append(side)
    return files


def content_hash(path: Path) -> str:
    """SHA-256 (hex) over the recording's file(s).

    Parameters
    ----------
    path : Path
        The recording file.

    Returns
    -------
    str
        64 hex digits over the file, then a CSV's sidecar.
    """
    h = hashlib.sha256()
    for f in recording_files(path):
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@contextmanager
def copied_recording(path: Path, digest: str, recordings_dir: Path) -> Iterator[Path]:
    """Copy the recording's files into ``recordings_dir`` under their content hash and
    give the copy's path; the copies made here are removed again when the block fails,
    so a recording that is not stored leaves the data home as it was.

    Parameters
    ----------
    path : Path
        The recording file.
    digest : str
        Its :func:`content_hash` (the copies are named by its first 20 digits).
    recordings_dir : Path
        The data home's folder of recordings (created if missing).

    Yields
    ------
    Path
        The copy of the recording file.
    """
    recordings_dir.mkdir(parents=True, exist_ok=True)
    copies = []
    try:
        for f in recording_files(path):
            dest = recordings_dir / f"{digest[:20]}{f.suffix.lower()}"
            if not dest.exists():
                shutil.copyfile(f, dest)
                copies.append(dest)
        yield recordings_dir / f"{digest[:20]}{path.suffix.lower()}"
    except BaseException:
        for c in copies:
            c.unlink(missing_ok=True)
        raise
