"""`stepdown serve` as real processes: several workers, and several servers on one SQLite
catalog (sessions, login throttling and writes shared through the catalog, issue 19)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web import PASSWORD, csrf_in, make_catalog  # noqa: E402

from stepdown.catalog import accounts, db  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """``stepdown serve --workers N`` on a free port with ``home`` as data home; waits until
    it answers."""
    port = _free_port()
    env = {**os.environ, "STEPDOWN_HOME": str(home)}
    env.pop("STEPDOWN_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "stepdown", "serve", "--port", str(port),
                             "--workers", str(workers)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("serve did not answer within 60 s")


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _session(home: Path, user: str = "head") -> tuple[dict[str, str], str]:
    """A session cookie header for ``user`` and its CSRF token (the cookie is Secure: sent
    by hand over http://127.0.0.1)."""
    conn = db.connect(home / "catalog.sqlite3")
    token = accounts.start_session(conn, user)
    csrf = accounts.get_session(conn, token).csrf_token
    conn.close()
    return {"cookie": f"stepdown_session={token}"}, csrf


def _wrong_login(base: str, user: str) -> int:
    # timeouts of 60 s, not httpx's 5: a password check (scrypt) on a loaded machine, with
    # the other test workers busy, can take longer than 5 s
    form = httpx.get(base + "/login", timeout=60)
    csrf = csrf_in(form.text)
    return httpx.post(base + "/login", headers={"cookie": f"stepdown_login_csrf={csrf}"},
                      data={"csrf": csrf, "username": user, "password": "wrong password!"},
                      timeout=60).status_code


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    make_catalog(home / "catalog.sqlite3")
    return home


def test_serve_runs_several_worker_processes_that_share_sessions(home):
    proc, base = _serve(home, workers=2)
    try:
        workers = [c for c in _children(proc.pid)
                   if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(workers) == 2
        cookie, _ = _session(home)
        # fresh connections, so the kernel hands them to either worker: all know the session
        statuses = [httpx.get(base + "/athletes", headers=cookie).status_code for _ in range(30)]
        assert statuses == [200] * 30
        assert "2 worker processes" in proc.stdout.readline()
    finally:
        assert _stop(proc) == 0
    assert not any(Path(f"/proc/{w}").exists() for w in workers)


def test_two_servers_on_one_sqlite_catalog_share_throttling_and_both_write(home):
    """Two server processes on one SQLite file (WAL, busy timeout): failed logins on either
    lock the account on both; 80 notes posted at once through both are all stored."""
    one, base_one = _serve(home, workers=1)
    two, base_two = _serve(home, workers=1)
    try:
        statuses = [_wrong_login(b, "coach-a") for b in (base_one, base_two) * 2]
        assert statuses == [401] * 4
        assert _wrong_login(base_one, "coach-a") == 429  # the 5th failure, the default limit
        form = httpx.get(base_two + "/login")
        csrf = csrf_in(form.text)
        right = httpx.post(base_two + "/login", data={
            "csrf": csrf, "username": "coach-a", "password": PASSWORD},
            headers={"cookie": f"stepdown_login_csrf={csrf}"}, timeout=60)
        assert right.status_code == 429 and "stepdown_session" not in right.headers.get(
            "set-cookie", "")

        cookie, csrf = _session(home)
        test_id = db.connect(home / "catalog.sqlite3").execute(
            "SELECT MAX(id) FROM tests").fetchone()[0]

        def post(k: int) -> int:
            base = (base_one, base_two)[k % 2]
            data = {"csrf": csrf, "text": f"note {k} from worker {k % 2}"}
            if k % 4 == 0:  # labels too: two tables written at once
                return httpx.post(f"{base}/tests/{test_id}/labels", headers=cookie, timeout=60,
                                  data={"csrf": csrf, "rep": "1",
                                        "item_knee": str(k // 4 % 3)}).status_code
            return httpx.post(f"{base}/tests/{test_id}/notes", headers=cookie, data=data,
                              timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(post, range(80)))
        assert results == [303] * 80
        conn = db.connect(home / "catalog.sqlite3")
        texts = {r[0] for r in conn.execute("SELECT text FROM notes WHERE test_id = ?",
                                            (test_id,))}
        assert {f"note {k} from worker {k % 2}" for k in range(80) if k % 4} <= texts
        labels = conn.execute("SELECT COUNT(*) FROM coach_labels").fetchone()[0]
        assert labels >= 1  # a label equal to the current one is not stored again
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    finally:
        assert _stop(one) == 0 and _stop(two) == 0
