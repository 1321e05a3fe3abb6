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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 = this computer only.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    ssl_certfile: Annotated[Path | None, typer.Option(
        help="TLS certificate (PEM): required to serve beyond this computer.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
) -> None:
    """Start the review web app and print its address (Ctrl+C stops it)."""
    import uvicorn

    from stepdown.catalog.accounts import count_users
    from stepdown.catalog.db import connect, database_url
    from stepdown.web.app import create_app

    if not _is_loopback(host) and not (ssl_certfile and ssl_keyfile):
        raise InputError(f"serving on {host} (beyond this computer) needs HTTPS: "
                         "give --ssl-certfile and --ssl-keyfile")
    _check_tls_files(ssl_certfile, ssl_keyfile)
    if not 0 < port < 65536:
        raise InputError(f"port must be 1-65535, not {port}")
    conn = connect()
    try:
        if count_users(conn) == 0:
            raise InputError("no accounts yet: create one with "
                             "`stepdown users add NAME --all-athletes`, then run serve again")
    finally:
        conn.close()
    scheme = "https" if ssl_certfile else "http"
    console.print(f"stepdown review: {scheme}://{host}:{port}/  (Ctrl+C to stop)",
                  highlight=False)
    import ssl

    try:
        uvicorn.run(create_app(database_url()), host=host, port=port, log_level="warning",
                    ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                    ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
                    server_header=False)
    except ssl.SSLError as err:
        raise InputError(f"TLS certificate or key refused: {err.reason or err}") from None
