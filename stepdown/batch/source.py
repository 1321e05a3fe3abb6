"""Recordings under a SOURCE: a local folder or any fsspec URL (``s3://bucket/season``).

A recording is a ``.parquet`` file, or a ``.csv`` file with its ``<name>.json``
sidecar (DESIGN.md). Each is named by its path relative to SOURCE (``2026/a-017/t1.parquet``,
always with ``/``); that name is the recording's key in every output table.

Credentials and endpoints come from the filesystem's own configuration (for S3:
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ...) or from
``storage_options``; a URL shown to the user never carries a password (:func:`safe_url`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sensor_io.errors import InputError, first_line

RECORDING_SUFFIXES = (".parquet", ".csv")


def safe_url(url: str) -> str:
    """``url`` without the password of its user part (``s3://key:secret@b/x`` -> ``s3://key@b/x``).

    Parameters
    ----------
    url : str
        A URL or local path.

    Returns
    -------
    str
        The URL to show; ``url`` itself when it holds no password.
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def redact(text: str, url: str) -> str:
    """``text`` with the password of ``url`` (and the user part holding it) taken out.

    Parameters
    ----------
    text : str
        A message that may quote ``url`` or its password.
    url : str
        The URL whose password must not be shown.

    Returns
    -------
    str
        ``text`` with the user part as :func:`safe_url` shows it and the password as ``***``.
    """
    parts = urlsplit(url)
    if parts.password is None:
        return text
    return text.replace(parts.netloc, urlsplit(safe_url(url)).netloc).replace(parts.password, "***")


@dataclass(frozen=True)
class Source:
    """Where the recordings are: an fsspec URL or local folder and its storage options."""

    url: str
    """Local folder or fsspec URL (``s3://bucket/season``)."""
    storage_options: tuple[tuple[str, Any], ...] = ()
    """fsspec storage options as (name, value) pairs (a tuple: the source is hashable)."""

    def filesystem(self) -> tuple[Any, str]:
        """(fsspec filesystem, root path inside it).

        Returns
        -------
        fs : fsspec.AbstractFileSystem
            The filesystem of the URL.
        root : str
            The source's path inside it.

        Raises
        ------
        InputError
            An unknown protocol, or one whose package is not installed.
        """
        from fsspec.core import url_to_fs

        try:
            return url_to_fs(self.url, **dict(self.storage_options))
        except (ImportError, ValueError) as err:  # unknown protocol, or its package missing
            raise InputError(f"{safe_url(self.url)}: {first_line(err)}") from None

    def check(self) -> None:
        """Refuse a source that is not a readable folder, with one line naming it."""
        self.list_recordings()

    def list_recordings(self) -> list[str]:
        """Relative paths of every recording under the source, sorted.

        Returns
        -------
        list of str
            Paths of the .parquet and .csv files relative to the source, with ``/``.

        Raises
        ------
        InputError
            A source that is not a folder or cannot be listed.
        """
        fs, root = self.filesystem()
        root = root.rstrip("/")
        try:
            if not fs.isdir(root):
                raise InputError(f"{safe_url(self.url)}: no such folder")
            found = fs.find(root)
        except InputError:
            raise
        except Exception as err:  # fsspec backends raise their own types (botocore, aiohttp, OSError)
            raise InputError(f"cannot list {safe_url(self.url)}: {first_line(err)}") from None
        rel = (p[len(root):].lstrip("/") for p in found)
        return sorted(p for p in rel if p.lower().endswith(RECORDING_SUFFIXES))

    def read(self, rel: str) -> dict[str, bytes]:
        """The bytes of one recording: ``{file name: bytes}``, the recording first, then a
        CSV's sidecar when it exists (a missing sidecar is reported by the reader).

        Parameters
        ----------
        rel : str
            The recording's path relative to the source (from :meth:`list_recordings`).

        Returns
        -------
        dict of str to bytes
            File name -> its bytes.
        """
        fs, root = self.filesystem()
        path = f"{root.rstrip('/')}/{rel}"
        files = {rel.rsplit("/", 1)[-1]: fs.cat_file(path)}
        if rel.lower().endswith(".csv"):
            sidecar = path[: -len(".csv")] + ".json"
            if fs.exists(sidecar):
                files[sidecar.rsplit("/", 1)[-1]] = fs.cat_file(sidecar)
        return files


def checksum(files: dict[str, bytes]) -> str:
    """SHA-256 (hex) of a recording's bytes: the file, then its sidecar if a CSV has one.

    For a Parquet recording this is ``sha256sum`` of the file.

    Parameters
    ----------
    files : dict of str to bytes
        The recording's files, as :meth:`Source.read` returns them.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    for data in files.values():  # the recording first (see :meth:`Source.read`)
        h.update(data)
    return h.hexdigest()
