"""The review server under abuse: body limits, login throttling, worker threads, ids,
query strings, static compression, file modes, TLS files, password hashing cost."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import stat
import sys
import threading
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web import PASSWORD, client, csrf_in, logged_in, make_catalog  # noqa: E402

from stepdown.catalog import accounts, db  # noqa: E402
from stepdown.web.app import create_app  # noqa: E402
from stepdown.web.throttle import LoginThrottle  # noqa: E402
from stepdown.web.transfer import MAX_FORM_BYTES  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "catalog.sqlite3"
    ids = make_catalog(path)
    return create_app(path), ids, path


def _call(app, method: str, path: str, chunks, headers: list[tuple[bytes, bytes]]):
    """Call the ASGI app directly, feeding the body chunk by chunk; returns (status, chunks read)."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "https", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 5000),
             "server": ("testserver", 443), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], pulled


def test_a_chunked_body_is_cut_off_at_the_limit_not_read_to_its_end(site):
    app, _, _ = site
    chunk = b"a" * 1024 * 1024
    sixty_mb = (chunk for _ in range(60))  # chunked: no Content-Length to trust
    status, pulled = _call(app, "POST", "/login", sixty_mb,
                           [(b"content-type", b"application/x-www-form-urlencoded"),
                            (b"transfer-encoding", b"chunked")])
    assert status == 413
    assert pulled * len(chunk) <= MAX_FORM_BYTES + len(chunk)  # one chunk past the limit, no more


def test_a_lying_content_length_does_not_raise_the_limit(site):
    app, _, _ = site
    small = (b"b" * 16 * 1024 for _ in range(100))
    status, pulled = _call(app, "POST", "/login", small,
                           [(b"content-type", b"application/x-www-form-urlencoded"),
                            (b"content-length", b"10")])
    assert status == 413 and pulled <= MAX_FORM_BYTES // (16 * 1024) + 1


def test_a_multipart_post_is_refused(site):
    app, ids, _ = site
    c, csrf = logged_in(app)
    r = c.post(f"/tests/{ids['latest']}/notes", data={"csrf": csrf, "text": "x"},
               files={"f": ("a.txt", b"x")})
    assert r.status_code == 415


def _wrong_login(c, user: str) -> httpx.Response:
    token = csrf_in(c.get("/login").text)
    return c.post("/login", data={"csrf": token, "username": user, "password": "wrong password!"})


def test_login_throttling_per_account(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    make_catalog(path)
    app = create_app(path, throttle=LoginThrottle(account_limit=3, address_limit=100))
    c = client(app)
    assert [_wrong_login(c, "coach-a").status_code for _ in range(3)] == [401, 401, 429]
    token = csrf_in(c.get("/login").text)
    right = c.post("/login", data={"csrf": token, "username": "coach-a", "password": PASSWORD})
    assert right.status_code == 429 and "stepdown_session" not in right.headers.get(
        "set-cookie", "")
    assert "Too many failed logins" in right.text and int(right.headers["retry-after"]) > 0
    # another account from the same address is not locked
    logged_in(app, "coach-b")


def test_login_throttling_per_address(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    make_catalog(path)
    app = create_app(path, throttle=LoginThrottle(account_limit=100, address_limit=3))
    c = client(app)
    statuses = [_wrong_login(c, name).status_code for name in ("x1", "x2", "x3")]
    assert statuses == [401, 401, 429]
    token = csrf_in(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "username": "coach-a", "password": PASSWORD})
    assert r.status_code == 429


def test_throttle_lock_ends_when_the_failures_leave_the_window(tmp_path):
    conn = db.connect(tmp_path / "catalog.sqlite3")
    now = [1.8e9]
    t = LoginThrottle(account_limit=2, address_limit=10, window_s=60, clock=lambda: now[0])
    t.failed(conn, "coach", "10.0.0.1")
    now[0] += 10
    t.failed(conn, "coach", "10.0.0.1")
    # the first failure ages out 60 s after it
    assert t.wait_s(conn, "coach", "10.0.0.9") == pytest.approx(50)
    now[0] += 51
    assert t.wait_s(conn, "coach", "10.0.0.9") == 0
    t.failed(conn, "coach", "10.0.0.1")
    assert conn.execute("SELECT COUNT(*) FROM login_failures").fetchone()[0] == 4  # aged out: gone
    t.succeeded(conn, "coach")
    assert t.wait_s(conn, "coach", "10.0.0.9") == 0
    assert t.wait_s(conn, "someone", "10.0.0.1") == 0  # the address has 2 of its 10


def test_login_throttling_holds_across_two_server_processes(tmp_path):
    """Two apps on one catalog, as two worker processes would be: failures on either count
    for both, per account and per address, and a success on one clears the account on both."""
    path = tmp_path / "catalog.sqlite3"
    make_catalog(path)
    limits = LoginThrottle(account_limit=4, address_limit=6)
    one, two = client(create_app(path, throttle=limits)), client(create_app(path, throttle=limits))
    assert [_wrong_login(c, "coach-a").status_code for c in (one, two, one)] == [401] * 3
    assert _wrong_login(two, "coach-a").status_code == 429  # the 4th, wherever it lands
    token = csrf_in(one.get("/login").text)
    assert one.post("/login", data={"csrf": token, "username": "coach-a",
                                    "password": PASSWORD}).status_code == 429
    assert _wrong_login(one, "x1").status_code == 401  # the address: 5 of 6 now
    assert _wrong_login(two, "x2").status_code == 429


@contextlib.asynccontextmanager
async def _login_form(app):
    """An async client of ``app`` (in this event loop) and its login form's CSRF token."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as ac:
        yield ac, csrf_in((await ac.get("/login")).text)


def test_password_hashing_runs_off_the_event_loop(site, monkeypatch):
    """While a login is being checked, another page is answered (the check waits for it)."""
    app, _, _ = site
    released = threading.Event()
    seen = {}

    def slow_authenticate(conn, username, password):
        seen["released"] = released.wait(timeout=10)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return None

    monkeypatch.setattr(accounts, "authenticate", slow_authenticate)

    async def scenario():
        async with _login_form(app) as (ac, token):

            async def other_page():
                r = await ac.get("/login")
                released.set()
                return r.status_code

            login = ac.post("/login", data={"csrf": token, "username": "coach-a",
                                            "password": "whatever pw"})
            first, second = await asyncio.gather(login, other_page())
            return first.status_code, second

    login_status, other_status = asyncio.run(scenario())
    assert other_status == 200 and seen["released"] is True and login_status == 401
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if sys.platform == "linux" and own < 19:  # hashing yields the CPU to pages
        assert seen["nice"] == min(19, own + 10)


def test_a_locked_login_is_refused_at_once_while_passwords_are_being_checked(tmp_path,
                                                                             monkeypatch):
    """A login for a locked account is answered without queueing behind the password
    checks already running (both hashing threads busy here)."""
    from stepdown.web.app import HASH_THREADS

    path = tmp_path / "catalog.sqlite3"
    make_catalog(path)
    app = create_app(path, throttle=LoginThrottle(account_limit=2, address_limit=100))
    c = client(app)
    assert [_wrong_login(c, "coach-b").status_code for _ in range(2)] == [401, 429]  # locked
    released, checked = threading.Event(), []

    def slow_authenticate(conn, username, password):
        released.wait(timeout=10)
        checked.append(username)
        return None

    monkeypatch.setattr(accounts, "authenticate", slow_authenticate)

    async def scenario():
        async with _login_form(app) as (ac, token):

            def login(user):
                return ac.post("/login", data={"csrf": token, "username": user,
                                               "password": "whatever pw"})

            async def locked():
                await asyncio.sleep(0.3)  # the slow checks have taken both threads
                r = await login("coach-b")
                checks_done = len(checked)
                released.set()
                return r.status_code, checks_done

            busy = [login(f"someone{i}") for i in range(HASH_THREADS)]
            *others, (status, checks_done) = await asyncio.gather(*busy, locked())
            return [r.status_code for r in others], status, checks_done

    others, status, checks_done = asyncio.run(scenario())
    assert status == 429 and checks_done == 0  # answered while the others still hashed
    assert others == [401] * HASH_THREADS


def test_impossible_ids_are_not_found(site):
    app, _, _ = site
    c, _ = logged_in(app, "head")
    for path in ("/tests/99999999999999999999999", "/tests/9223372036854775808",
                 "/tests/0", "/tests/9223372036854775807/report.pdf"):
        assert c.get(path).status_code == 404, path


def test_query_string_text_is_never_shown(site):
    app, ids, _ = site
    c, _ = logged_in(app, "head")
    page = c.get(f"/tests/{ids['latest']}?saved=Your+account+is+locked,+call+555").text
    assert "555" not in page and "locked" not in page
    assert "Saved 2 label(s)" in c.get(f"/tests/{ids['latest']}?saved=2").text


def test_static_assets_are_sent_compressed_with_an_etag(site):
    from stepdown.web.app import plotly_js_path

    app, _, _ = site
    c = client(app)
    raw_size = plotly_js_path().stat().st_size
    r = c.get("/static/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < raw_size / 3
    assert len(r.content) == raw_size  # httpx unpacks it: the same file
    again = c.get("/static/plotly.min.js", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert c.get("/static/../../etc/passwd").status_code == 404


def test_old_password_hashes_are_upgraded_at_login(tmp_path):
    import hashlib

    conn = db.connect(tmp_path / "c.sqlite3")
    accounts.add_user(conn, "old", PASSWORD)
    salt = b"s" * 16
    weak = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    conn.execute("UPDATE users SET password_hash = ? WHERE username = 'old'",
                 (f"scrypt$16384$8$1${salt.hex()}${weak.hex()}",))
    assert accounts.authenticate(conn, "old", PASSWORD) is not None
    stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt$131072$8$1$") and not accounts.needs_rehash(stored)
    assert accounts.authenticate(conn, "old", PASSWORD) is not None
    assert accounts.authenticate(conn, "old", "not the password") is None


def test_a_hash_asking_for_absurd_memory_is_refused_not_computed():
    assert not accounts.verify_password("x", "scrypt$1073741824$8$1$00$00")


def test_files_are_created_for_the_owner_only(tmp_path, monkeypatch):
    from stepdown.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("STEPDOWN_HOME", str(home))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "head", "--all-athletes", "--password-stdin"]) == 0
    sample = Path(__file__).parents[2] / "data" / "medium_left_full_set.parquet"
    if sample.exists():
        assert main(["import", str(sample), "--athlete", "a-1"]) == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    created = [p for p in home.rglob("*")]
    assert created
    for p in created:
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, p


def test_serve_with_a_missing_certificate_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    from stepdown.cli import main

    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path))
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    rc = main(["serve", "--host", "0.0.0.0", "--ssl-certfile", str(tmp_path / "nope.pem"),
               "--ssl-keyfile", str(key)])
    out, err = capsys.readouterr()
    assert rc == 2 and "https://" not in out
    assert "TLS certificate not found" in err and len(err.strip().splitlines()) == 1
    assert main(["serve", "--ssl-certfile", str(key)]) == 2
    assert "both --ssl-certfile and --ssl-keyfile" in capsys.readouterr().err


def test_account_management_from_the_cli(tmp_path, monkeypatch, capsys):
    from stepdown.cli import main

    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "coach", "--athlete", "a-1", "--athlete", "a-2",
                 "--password-stdin"]) == 0
    conn = db.connect(tmp_path / "catalog.sqlite3")
    token = accounts.start_session(conn, "coach")
    assert main(["users", "unassign", "coach", "a-2"]) == 0
    assert accounts.get_user(conn, "coach").athletes == {"a-1"}
    assert main(["users", "logout", "coach"]) == 0
    assert accounts.get_session(conn, token) is None
    token = accounts.start_session(conn, "coach")
    monkeypatch.setattr("sys.stdin", io.StringIO("another long pw\n"))
    assert main(["users", "password", "coach", "--password-stdin"]) == 0
    assert accounts.get_session(conn, token) is None
    assert accounts.authenticate(conn, "coach", "another long pw") is not None
    assert main(["users", "remove", "coach"]) == 0
    assert accounts.get_user(conn, "coach") is None
    capsys.readouterr()
    assert main(["users", "remove", "coach"]) == 2
    assert "no user 'coach'" in capsys.readouterr().err


def test_a_cached_test_page_follows_every_change_and_keeps_tokens_apart(tmp_path):
    """The test page and its PDF are rendered once per test revision and kept; a label or
    note stored by another connection (another worker process) shows on the next view, and
    each session's page carries its own CSRF token only."""
    from stepdown.catalog import notes, repo

    path = tmp_path / "catalog.sqlite3"
    ids = make_catalog(path)
    app = create_app(path)
    cache, t = app.state.page_cache, ids["latest"]
    a, csrf_a = logged_in(app, "coach-a")
    head, csrf_head = logged_in(app, "head")
    first = a.get(f"/tests/{t}").text
    hits = cache.hits
    assert a.get(f"/tests/{t}").text == first and cache.hits == hits + 1
    assert csrf_a in first and csrf_head not in first
    page_head = head.get(f"/tests/{t}").text
    assert csrf_head in page_head and csrf_a not in page_head

    pdf = a.get(f"/tests/{t}/report.pdf").content
    assert a.get(f"/tests/{t}/report.pdf").content == pdf and app.state.report_cache.hits == 1

    other = db.connect(path)  # as another worker would write
    note_id = repo.add_note(other, t, "head", "watch the left knee on the way down", None,
                            for_athlete=True)
    assert "watch the left knee" in a.get(f"/tests/{t}").text
    notes.edit_note(other, t, note_id, "knee fine after the cue", True, "head")
    page = a.get(f"/tests/{t}").text
    assert "knee fine after the cue" in page and "Earlier versions" in page
    repo.add_label(other, t, 1, "knee", 0, "head")
    assert "coach: 0 (head)" in a.get(f"/tests/{t}").text
    assert a.get(f"/tests/{t}/report.pdf").content != pdf
    notes.delete_note(other, t, note_id, "head")
    assert "knee fine after the cue" not in a.get(f"/tests/{t}").text.split("Earlier versions")[0]
    other.close()
