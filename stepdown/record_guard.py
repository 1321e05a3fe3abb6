"""What keeps `stepdown record` from losing or mixing up a test.

- one session, one file set: a collision-free default name (athlete, UTC time, session
  id), and an existing recording or journal is refused unless ``--overwrite``;
- storage: free space is checked before and during the recording; a journal write that
  fails keeps the samples in memory (:class:`sensor_io.journal.JournalWriter` retries);
  when the recording or the journal cannot be written where asked, a copy goes to a
  fallback folder, and the last line always names the journal and the `recover` command;
- signals: Ctrl-C, SIGTERM and SIGHUP stop the recording cleanly; a second one stops it
  at once (no clean BLE goodbye), and what was received is still saved.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sensor_io.errors import InputError
from sensor_io.recorder import Recorder, write_keeping_everything
from sensor_io.recording import Recording
from sensor_io.recording_io import sidecar_path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}

BYTES_PER_SAMPLE = 150.0
"""Journal bytes per sample, measured (bench_live): the raw notification, the decoded
sample (56 B) and the record framing, shared over a packet's samples."""
WARN_MINUTES = 10.0    # warn at the start when the disk holds less than this much recording
LOW_MINUTES = 1.0      # warn during the recording below this much
MAX_PENDING_BYTES = 512 * 1024 * 1024  # held in memory while the disk refuses, then stop


def default_name(athlete: str, started: datetime, session: str) -> str:
    """A collision-free file name for a recording.

    'a-017-20261124T170300Z-3f9a2c01.parquet': athlete, start (UTC) and the session id's
    first 8 hex digits, so two sessions of one athlete in the same second differ.

    Parameters
    ----------
    athlete : str
        The athlete's id (characters unsafe in a file name become ``_``).
    started : datetime.datetime
        Start of the recording, UTC.
    session : str
        The session id (hex).

    Returns
    -------
    str
        The file name (no folder).
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", athlete).strip("._") or "athlete"
    return f"{safe}-{started:%Y%m%dT%H%M%SZ}-{session[:8]}.parquet"


def refuse_existing(out: Path, journal: Path, overwrite: bool) -> None:
    """InputError when ``out`` (or its CSV sidecar) or ``journal`` exists, unless ``overwrite``.

    The journal lock is what stops two live sessions.

    Parameters
    ----------
    out : pathlib.Path
        The recording to write (Parquet, or CSV with its JSON sidecar).
    journal : pathlib.Path
        Its journal.
    overwrite : bool
        ``--overwrite``: replace them.

    Raises
    ------
    InputError
        Naming the first file that exists.
    """
    if overwrite:
        return
    there = [p for p in (out, journal) if p.exists()]
    if out.suffix.lower() == ".csv" and sidecar_path(out).exists():
        there.append(sidecar_path(out))
    if there:
        raise InputError(f"{there[0]} exists (an earlier session): choose another --out, "
                         "or pass --overwrite to replace it")


def free_space_warning(folder: Path, bytes_per_s: float, minutes: float) -> str | None:
    """A warning when ``folder``'s disk holds less than ``minutes`` of recording.

    Parameters
    ----------
    folder : pathlib.Path
        Where the recording goes.
    bytes_per_s : float
        How fast the recording grows, bytes/s.
    minutes : float
        The room wanted, min.

    Returns
    -------
    str or None
        The warning (MB free, minutes of recording left); None when there is room (or the
        size cannot be read).
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    room_min = free / bytes_per_s / 60.0 if bytes_per_s > 0 else float("inf")
    if room_min >= minutes:
        return None
    return (f"only {free / 1e6:.1f} MB free on the disk of {folder}: about {room_min:.1f} min "
            "of recording")


# -- signals ---------------------------------------------------------------------------
@dataclass
class Interrupts:
    """The stop signals received so far (in order)."""

    received: list[int] = field(default_factory=list)
    """The signal numbers received, in order."""
    at_once: bool = False
    """A second signal cut the recording short (no clean stop)."""

    @property
    def first(self) -> str | None:
        """The first stop signal's name (e.g. ``Ctrl-C``); None before any."""
        return SIGNAL_NAMES.get(self.received[0]) if self.received else None

    @property
    def hurried(self) -> bool:
        """A second signal: stop at once."""
        return len(self.received) >= 2


@contextlib.contextmanager
def held_signals(interrupts: Interrupts) -> Iterator[None]:
    """While saving: stop signals are noted in ``interrupts``, not acted upon.

    Writing the recording takes well under a second and stopping it halfway would lose it.

    Parameters
    ----------
    interrupts : Interrupts
        Where the signals received are appended.

    Yields
    ------
    None
        Control to the block; the previous handlers are restored after it.
    """
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, lambda signum, _frame: interrupts.received.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# -- saving ---------------------------------------------------------------------------
def fallback_dirs(avoid: Path) -> list[Path]:
    """Folders to save into when ``avoid`` (the one asked for) refuses writes.

    The data home's recordings, the temporary folder, the home folder.

    Parameters
    ----------
    avoid : pathlib.Path
        The folder that refused.

    Returns
    -------
    list of pathlib.Path
        In that order, those that can be found, ``avoid`` left out.
    """
    from stepdown.paths import recordings_dir

    out = []
    for get in (recordings_dir, lambda: Path(tempfile.gettempdir()), Path.home):
        with contextlib.suppress(OSError):
            d = Path(get())
            if d.resolve() != avoid.resolve() and d not in out:
                out.append(d)
    return out


@dataclass
class Saved:
    """Where a recording's data ended up."""

    journal: Path
    """The journal: complete if journal_whole."""
    journal_whole: bool = True
    """The journal holds every sample received."""
    recording: Path | None = None
    """The Parquet/CSV written (None: none could be)."""
    problem: str | None = None
    """Why the recording breaks the format contract."""
    errors: list[str] = field(default_factory=list)
    """What could not be written, one line each."""


def _why(err: OSError) -> str:
    return err.strerror or errno.errorcode.get(err.errno or 0, type(err).__name__)


def save(recorder: Recorder, rec: Recording, out: Path) -> Saved:
    """Write ``rec`` to ``out`` and make sure the journal is whole somewhere.

    Whatever the disk refuses goes to a fallback folder.  Never raises for a storage fault.

    Parameters
    ----------
    recorder : Recorder
        The recorder, whose journal is closed here.
    rec : Recording
        The recording to write.
    out : pathlib.Path
        Where it was asked to go (Parquet or CSV).

    Returns
    -------
    Saved
        Where the recording and the journal ended up, and what could not be written.
    """
    journal = recorder.journal.path
    saved = Saved(journal)
    if not recorder.close():
        err = recorder.journal.error
        saved.errors.append(f"could not finish the journal {journal}: "
                            f"{_why(err) if err else 'write failed'}")
        copy = _journal_copy(recorder, saved.errors)
        saved.journal, saved.journal_whole = (copy, True) if copy else (journal, False)
    for target in [out] + [d / out.name for d in fallback_dirs(out.parent)]:
        try:
            saved.problem = write_keeping_everything(rec, target)
            saved.recording = target
            break
        except OSError as err:
            saved.errors.append(f"could not write {target}: {_why(err)}")
    return saved


def _journal_copy(recorder: Recorder, errors: list[str]) -> Path | None:
    """A whole copy of the journal (what is on disk + what is held in memory) in a
    fallback folder; None if no folder takes it."""
    path = recorder.journal.path
    try:
        head = path.read_bytes()
    except OSError:
        head = b""
    data = head + recorder.journal.unwritten()
    for d in fallback_dirs(path.parent):
        target = d / path.name
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as err:
            errors.append(f"could not write a copy of the journal to {target}: {_why(err)}")
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return target
        except OSError as err:
            target.unlink(missing_ok=True)  # a partial copy would only mislead
            errors.append(f"could not write a copy of the journal to {target}: {_why(err)}")
    return None


def _recover(journal: Path) -> str:
    return f"`stepdown recover {journal}` rebuilds the recording from it"


def final_line(saved: Saved, interrupts: Interrupts) -> str:
    """The last line of a recording: how it stopped, what was saved where, how to recover.

    Parameters
    ----------
    saved : Saved
        Where the data ended up.
    interrupts : Interrupts
        The stop signals received.

    Returns
    -------
    str
        One line.
    """
    how = ""
    second = SIGNAL_NAMES.get(interrupts.received[1], "signal") if interrupts.hurried else ""
    if interrupts.at_once:
        how = f"stopped at once by a second {second}: "
    elif interrupts.hurried:
        how = f"stopped by {interrupts.first} (a second {second} came while saving: saved first): "
    elif interrupts.first:
        how = f"stopped by {interrupts.first}: "
    j = saved.journal
    if saved.recording is not None:
        kept = (f"journal {j}; {_recover(j)}" if saved.journal_whole
                else f"the journal {j} lacks its last part: the disk refused it")
        return f"{how}wrote {saved.recording} ({kept})"
    if saved.journal_whole:
        return f"{how}no recording could be written; the journal {j} holds it all: {_recover(j)}"
    return (f"{how}nothing could be saved whole; the journal {j} holds the samples up to the "
            f"disk's failure: {_recover(j)}")
