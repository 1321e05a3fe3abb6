"""Errors for bad input: one clear line for the user, never a traceback.

Every layer raises :class:`InputError` (or a subclass) for input it refuses; the
CLI catches it, prints ``str(err)`` on one line and exits non-zero.
"""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first line of ``str(err)``, or the exception's type name when it has no text.

    Parameters
    ----------
    err : BaseException
        The error to show.

    Returns
    -------
    str
        One line for the user.
    """
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_problem(err: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read as text, for a user: the OS's reason, or that it is binary.

    Parameters
    ----------
    err : OSError or UnicodeDecodeError
        What opening or decoding the file raised.

    Returns
    -------
    str
        E.g. ``No such file or directory``, ``Is a directory``, ``not a text file ...``.
    """
    if isinstance(err, UnicodeDecodeError):
        return "not a text file (binary, or not UTF-8)"
    return err.strerror or first_line(err)


class InputError(ValueError):
    """Input the software refuses; ``str(err)`` is the one line shown to the user."""


class RecordingError(InputError):
    """A recording file that breaks the format contract (DESIGN.md).

    Parameters
    ----------
    message : str
        What is wrong, one line.
    path : str, optional
        The file, prefixed to the message.
    sensor : str, optional
        The sensor (placement) concerned, prefixed as ``sensor <name>``.
    row : int, optional
        The row concerned, prefixed as ``row <n>``.
    """

    def __init__(
        self, message: str, *, path: str | None = None, sensor: str | None = None,
        row: int | None = None,
    ) -> None:
        where = [w for w in (
            path,
            f"sensor {sensor}" if sensor else None,
            f"row {row}" if row is not None else None,
        ) if w]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.path, self.sensor, self.row = path, sensor, row
