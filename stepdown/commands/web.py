"""`stepdown serve`: the coach's review web app on this computer."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sensor_io.errors import InputError
from stepdown.cli import app

console = Console()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_tls_files(certfile: Path | None, keyfile: Path | None) -> None:
    """Refuse, in one line, a certificate or key that is missing, unreadable or alone."""
    if (certfile is None) != (keyfile is None):
        raise InputError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    for what, path in (("certificate", certfile), ("private key", keyfile)):
        if path is None:
            continue
        if not path.is_file():
            raise InputError(f"TLS {what} not found: {path}")
        try:
            with path.open("rb") as fh:
                head = fh.read(4096)
        except OSError as err:
            raise InputError(f"TLS {what} {path} cannot be read ({err.strerror})") from None
        if b"-----BEGIN" not in head:
            raise InputError(f"TLS {what} {path} is not a PEM file")
    if certfile is not None:  # a key that does not match: refused here, not in every worker
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (ssl.SSLError, ValueError) as err:
            raise InputError(f"TLS certificate or key refused: "
                             f"{getattr(err, 'reason', None) or err}") from None


MAX_DEFAULT_WORKERS = 8
"""Each worker may hash two passwords at once (scrypt, 128 MiB each): 8 workers bound a
login flood to 2 GiB; give --workers for more."""


def default_workers() -> int:
    """Server processes by default: one per CPU this process may run on, at most 8.

    Returns
    -------
    int
        The number of worker processes, 1 to ``MAX_DEFAULT_WORKERS``.
    """
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 = this computer only.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    ssl_certfile: Annotated[Path | None, typer.Option(
        help="TLS certificate (PEM): required to serve beyond this computer.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Server processes (default: one per CPU, at most 8). Each answers requests on its own; "
             "sessions, login throttling and data are shared through the catalog.")] = None,
) -> None:
    """Start the review web app and print its address (Ctrl+C stops it).\f

    Parameters
    ----------
    host : str
        Address to listen on; 127.0.0.1 = this computer only.
    port : int
        TCP port.
    ssl_certfile : Path or None
        TLS certificate (PEM): required to serve beyond this computer.
    ssl_keyfile : Path or None
        TLS private key (PEM).
    workers : int or None
        Server processes (default: one per CPU, at most 8); sessions, login throttling and
        data are shared through the catalog.
    """
    import os

    import uvicorn

    from stepdown.catalog.accounts import require_users
    from stepdown.catalog.db import DATABASE_URL_ENV, database_url

    if not _is_loopback(host) and not (ssl_certfile and ssl_keyfile):
        raise InputError(f"serving on {host} (beyond this computer) needs HTTPS: "
                         "give --ssl-certfile and --ssl-keyfile")
    _check_tls_files(ssl_certfile, ssl_keyfile)
    if not 0 < port < 65536:
        raise InputError(f"port must be 1-65535, not {port}")
    workers = default_workers() if workers is None else workers
    if not 0 < workers <= 64:
        raise InputError(f"--workers must be 1-64, not {workers}")
    require_users("the review app")
    scheme = "https" if ssl_certfile else "http"
    console.print(f"stepdown review: {scheme}://{host}:{port}/  ({workers} worker "
                  f"process{'es' if workers > 1 else ''}; Ctrl+C to stop)", highlight=False)
    before = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = database_url()  # each worker opens the same catalog
    try:
        uvicorn.run("stepdown.web.app:app_from_environment", factory=True, workers=workers,
                    host=host, port=port, log_level="warning", server_header=False,
                    ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                    ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None)
    finally:
        if before is None:
            del os.environ[DATABASE_URL_ENV]
        else:
            os.environ[DATABASE_URL_ENV] = before
