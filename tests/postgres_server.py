"""A throw-away PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder.

The server listens only on a unix socket in that folder (no TCP port, so parallel
runs never collide), trusts local connections, and is stopped and deleted at the
end. PostgreSQL refuses to run as root: as root the server runs as the ``postgres``
user that Debian's package creates (``runuser``). Tests that need it skip with the
reason when the binaries (Debian: ``apt-get install postgresql``) are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

DB_USER = "stepdown"
DB_NAME = "stepdown"


def find_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def why_unavailable() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if find_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _uid("postgres") is None):
        return "running as root without a 'postgres' user to run the server as"
    return None


def _uid(name: str) -> int | None:
    import pwd

    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


class PostgresServer:
    """``with PostgresServer() as pg: pg.url(...)``: a fresh server for the block."""

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="stepdown-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        if self.as_root:
            uid = _uid("postgres")
            os.chown(self.dir, uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", DB_USER, "--auth=trust",
                  "--encoding=UTF8", "--no-sync", "-N")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.dir / "log"),
                  "-o", f"-c listen_addresses='' -k {self.dir} -c fsync=off "
                        "-c full_page_writes=off -c max_connections=50", "start")
        self.create_database(DB_NAME)
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = DB_NAME) -> str:
        """SQLAlchemy URL of ``database`` over the unix socket."""
        return f"postgresql+psycopg://{DB_USER}@/{database}?host={self.dir}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(host=str(self.dir), user=DB_USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
