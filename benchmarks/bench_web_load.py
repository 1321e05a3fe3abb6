"""The review server under 200 concurrent clients on loopback (issue 19).

The server (`uvicorn`, one process, as `stepdown serve` runs it) serves a
catalog of 50 athletes / 400 tests plus one real recording (so the test page
draws its angle curves), in its own process on 127.0.0.1.  200 client tasks
(httpx, one asyncio loop, in this process) share one logged-in session and
request pages in a fixed mix, back to back, while 16 more clients send wrong
passwords to /login.  Latency is wall time from request to full response, per
page: p50 and p99.  Bounded: at most ``MAX_REQUESTS`` requests or ``MAX_S``
seconds, whichever comes first.  Target: test page p99 <= 1 s, and no page
starved (every page's p99 of the same order as the others).

Both ends share this 2-core machine, so client overhead is inside the figures.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.web_catalog import build_catalog

CLIENTS = 200
BAD_LOGIN_CLIENTS = 16
MAX_REQUESTS = 6000
MAX_S = 60.0
SAMPLE = Path(__file__).parents[1] / "data" / "medium_left_full_set.parquet"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(home: Path) -> tuple[Path, str, dict[str, str]]:
    """Catalog, a session cookie for ``head``, and the pages to request (name -> path)."""
    from stepdown.catalog import accounts, db
    from stepdown.catalog.importer import import_recording

    path = home / "catalog.sqlite3"
    ids = build_catalog(path, 50, 400)
    conn = db.connect(path)
    real = import_recording(conn, SAMPLE, ids[0], home / "recordings").test_id
    token = accounts.start_session(conn, "head")
    conn.close()
    return path, token, {
        "athletes": "/athletes", "athlete": f"/athletes/{ids[0]}", "test": f"/tests/{real}",
        "test_synthetic": "/tests/10", "report_pdf": f"/tests/{real}/report.pdf",
        "plotly_js": "/static/plotly.min.js",
    }


MIX = {"athletes": 3, "athlete": 3, "test": 4, "test_synthetic": 2, "plotly_js": 1,
       "report_pdf": 0.2}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(catalog: Path, port: int) -> subprocess.Popen:
    code = ("import uvicorn; from pathlib import Path; from stepdown.web.app import create_app;"
            f"uvicorn.run(create_app(Path({str(catalog)!r})), host='127.0.0.1', port={port},"
            " log_level='error', server_header=False, backlog=4096, timeout_keep_alive=75)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _load(base: str, token: str, pages: dict[str, str]) -> dict[str, list[float]]:
    import httpx

    names = list(MIX)
    weights = np.array([MIX[n] for n in names], dtype=float)
    weights /= weights.sum()
    times: dict[str, list[float]] = {n: [] for n in [*names, "login_wrong"]}
    errors: list[str] = []
    issued = 0
    stop_at = time.monotonic() + MAX_S
    limits = httpx.Limits(max_connections=CLIENTS + BAD_LOGIN_CLIENTS + 8,
                          max_keepalive_connections=CLIENTS + BAD_LOGIN_CLIENTS + 8)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120,
                                 cookies={"stepdown_session": token},
                                 headers={"accept-encoding": "gzip"}) as http:

        def more() -> bool:
            nonlocal issued
            issued += 1
            return issued <= MAX_REQUESTS and time.monotonic() < stop_at

        async def client(seed: int) -> None:
            rng = np.random.default_rng(seed)
            while more():
                name = names[rng.choice(len(names), p=weights)]
                start = time.perf_counter()
                try:
                    r = await http.get(pages[name])
                except httpx.TransportError as err:
                    errors.append(f"{name} {type(err).__name__}")
                    continue
                times[name].append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors.append(f"{name} {r.status_code}")

        async def bad_login(seed: int) -> None:
            anon = httpx.AsyncClient(base_url=base, timeout=120)
            async with anon:
                while time.monotonic() < stop_at and issued <= MAX_REQUESTS:
                    try:
                        form = await anon.get("/login")
                        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
                        start = time.perf_counter()
                        r = await anon.post("/login", cookies={"stepdown_login_csrf": csrf},
                                            data={"csrf": csrf, "username": f"x{seed}",
                                                  "password": "wrong password"})
                    except httpx.TransportError as err:
                        errors.append(f"login_wrong {type(err).__name__}")
                        continue
                    times["login_wrong"].append(time.perf_counter() - start)
                    if r.status_code not in (401, 429):
                        errors.append(f"login_wrong {r.status_code}")

        await asyncio.gather(*(client(i) for i in range(CLIENTS)),
                             *(bad_login(i) for i in range(BAD_LOGIN_CLIENTS)))
    if errors:
        print(f"  non-200 answers: {len(errors)} (first: {errors[:3]})")
    return times


def run() -> None:
    if not SAMPLE.exists():
        print(f"skipped: needs the sample recording {SAMPLE}")
        return
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
        catalog, token, pages = _prepare(Path(d))
        port = _free_port()
        server = _start_server(catalog, port)
        try:
            load_before = os.getloadavg()[0]
            cpu_before = _cpu_s(server.pid)
            start = time.perf_counter()
            times = asyncio.run(_load(f"http://127.0.0.1:{port}", token, pages))
            wall = time.perf_counter() - start
            server_cpu = _cpu_s(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=10)
    total = sum(len(v) for v in times.values())
    print(f"{CLIENTS} clients + {BAD_LOGIN_CLIENTS} sending wrong passwords, 127.0.0.1, "
          f"{total} requests in {wall:.1f} s ({total / wall:.0f} req/s)")
    print(f"machine load average before the run: {load_before:.1f} on {os.cpu_count()} cores; "
          f"server CPU {server_cpu:.1f} s = {1000 * server_cpu / max(total, 1):.1f} ms a request "
          f"(all pages, hashing included): {server_cpu / wall:.0%} of one core used")
    print(f"{'page':16s} {'n':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
    for name, values in times.items():
        if values:
            v = np.asarray(values) * 1000
            print(f"{name:16s} {len(v):6d} {np.percentile(v, 50):8.0f} "
                  f"{np.percentile(v, 99):8.0f} {v.max():8.0f}")
    print("target: test page p99 <= 1000 ms; no page starved")
