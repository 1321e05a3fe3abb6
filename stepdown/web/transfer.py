"""Bytes in and out of the web app: form bodies read with a limit on what is actually
received, and static files sent compressed."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from stepdown.web.security import Refused

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST, read with a limit on the bytes actually received.

    ``Content-Length`` is not trusted (a chunked body has none): the body is
    read chunk by chunk and refused (413) as soon as it passes
    :data:`MAX_FORM_BYTES`.  Other content types (multipart: no uploads here) get 415.

    Parameters
    ----------
    request : Request
        The POST request.

    Returns
    -------
    dict of str to str
        Field name -> value (the last one of a repeated name).

    Raises
    ------
    Refused
        413 too large, 415 not a urlencoded form, 400 malformed.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Refused(415, "expected a form (application/x-www-form-urlencoded)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise Refused(413, "form too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Refused(413, "form too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "malformed form") from None
    return dict(pairs)


class StaticAssets:
    """The few static files, gzip-compressed once in memory, with an ETag for revalidation.

    Parameters
    ----------
    files : dict
        Name -> (function giving the file's path, media type).
    """

    def __init__(self, files: dict[str, tuple[Callable[[], Path], str]]) -> None:
        self._files = files
        self._cache: dict[str, tuple[bytes, bytes, str, str]] = {}

    def _load(self, name: str) -> tuple[bytes, bytes, str, str]:
        path, media = self._files[name]
        raw = path().read_bytes()
        return raw, gzip.compress(raw, 6, mtime=0), media, \
            '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'

    async def response(self, request: Request) -> Response:
        """The file named in the request's path: gzip when accepted, 304 when unchanged.

        Parameters
        ----------
        request : Request
            The GET request (path parameter ``name``).

        Returns
        -------
        Response
            The file (cached a day, private), 304 for a matching ETag, or 404.
        """
        name = request.path_params["name"]
        if name not in self._files:
            return PlainTextResponse("Not found", status_code=404)
        if name not in self._cache:  # first request: read and compress off the event loop
            self._cache[name] = await anyio.to_thread.run_sync(self._load, name)
        raw, packed, media, etag = self._cache[name]
        headers = {"cache-control": "private, max-age=86400", "etag": etag,
                   "vary": "accept-encoding"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(packed, media_type=media,
                            headers={**headers, "content-encoding": "gzip"})
        return Response(raw, media_type=media, headers=headers)
