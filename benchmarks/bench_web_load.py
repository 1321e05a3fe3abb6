"""The review server under 200 concurrent clients on loopback (issue 19).

The server is ``stepdown serve --workers W`` itself (W = 1 and 2 worker processes),
over a catalog of 50 athletes / 400 tests plus one real recording (so the test page
draws its angle curves).  The load generator is this process: aiohttp on one asyncio
loop (its CPU per request is about a third of httpx's), on the same 2 cores as the
server, so both ends' CPU is printed.  Every client holds a keep-alive connection and
one logged-in session, as a browser tab does.  What "200 concurrent clients" means,
measured separately:

- **burst**: 200 GETs sent at the same instant (a mix of the pages below), answered
  all; repeated ``BURSTS`` times.
- **closed loop**: 200 clients, each sending its next GET as soon as its last answer
  arrived (the page drawn from the mix), for ``LOOP_S`` seconds, while 16 more clients
  send wrong passwords to /login (the throttle locks them out after 20 from one address).

Each server is warmed up first (every page a few times per worker: imports, first
drawings, caches), as one that has been running a while.  Latency is wall time from
sending a request to the end of its response, per page:
p50 and p99.  Target: test page p99 <= 1 s, and no page starved (every page's p99 of
the same order as the others).  With N clients in a closed loop the mean latency is
N / throughput (Little's law), so the line "capacity" prints how many cores the
target needs at the CPU per request measured, beside the cores the run actually got.
"""

from __future__ import annotations

import asyncio
import os
import signal
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
BURSTS = 5
LOOP_S = 20.0
WORKERS = (1, 2)
SAMPLE = Path(__file__).parents[1] / "data" / "medium_left_full_set.parquet"
MIX = {"athletes": 3, "athlete": 3, "test": 4, "test_synthetic": 2, "plotly_js": 1,
       "report_pdf": 0.2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(home: Path) -> tuple[str, dict[str, str]]:
    """Catalog in the data home ``home``, a session token for ``head``, the pages (name -> path)."""
    from stepdown.catalog import accounts, db
    from stepdown.catalog.importer import import_recording

    path = home / "catalog.sqlite3"
    ids = build_catalog(path, 50, 400)
    conn = db.connect(path)
    real = import_recording(conn, SAMPLE, ids[0], home / "recordings").test_id
    token = accounts.start_session(conn, "head")
    conn.close()
    return token, {
        "athletes": "/athletes", "athlete": f"/athletes/{ids[0]}", "test": f"/tests/{real}",
        "test_synthetic": "/tests/10", "report_pdf": f"/tests/{real}/report.pdf",
        "plotly_js": "/static/plotly.min.js",
    }


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and its child processes (the uvicorn workers)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _serve(home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "STEPDOWN_HOME": str(home)}
    env.pop("STEPDOWN_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "stepdown", "serve", "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                time.sleep(1.0 if workers > 1 else 0.2)  # the other workers finish starting
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _get(http, path: str, name: str, times: dict, errors: list) -> None:
    import aiohttp

    start = time.perf_counter()
    try:
        async with http.get(path) as r:
            await r.read()
            status = r.status
    except aiohttp.ClientError as err:
        errors.append(f"{name} {type(err).__name__}")
        return
    times[name].append(time.perf_counter() - start)
    if status != 200:
        errors.append(f"{name} {status}")


def _session(base: str, token: str | None = None):
    import aiohttp

    headers = {"accept-encoding": "gzip"}
    if token:  # the cookie is Secure: sent by hand over http://127.0.0.1
        headers["cookie"] = f"stepdown_session={token}"
    return aiohttp.ClientSession(base, headers=headers, auto_decompress=False,  # bytes timed,
                                 connector=aiohttp.TCPConnector(limit=0),  # not unpacked
                                 timeout=aiohttp.ClientTimeout(total=300))


def _draw(rng: np.random.Generator, n: int) -> list[str]:
    names = list(MIX)
    p = np.array([MIX[k] for k in names], dtype=float)
    return [names[i] for i in rng.choice(len(names), size=n, p=p / p.sum())]


async def _bursts(base: str, token: str, pages: dict[str, str]) -> tuple[dict, list, int]:
    """BURSTS bursts of CLIENTS simultaneous GETs over CLIENTS warm keep-alive connections."""
    times: dict[str, list[float]] = {n: [] for n in MIX}
    errors: list[str] = []
    warm: dict[str, list[float]] = {n: [] for n in MIX}
    rng = np.random.default_rng(1)
    async with _session(base, token) as http:
        await asyncio.gather(*(_get(http, pages["athletes"], "athletes", warm, errors)
                               for _ in range(CLIENTS)))  # open the connections
        errors.clear()
        for _ in range(BURSTS):
            await asyncio.gather(*(_get(http, pages[n], n, times, errors)
                                   for n in _draw(rng, CLIENTS)))
    return times, errors, BURSTS * CLIENTS


async def _closed_loop(base: str, token: str, pages: dict[str, str]) -> tuple[dict, list, int]:
    times: dict[str, list[float]] = {n: [] for n in [*MIX, "login_wrong"]}
    errors: list[str] = []
    stop_at = time.monotonic() + LOOP_S

    async def client(http, seed: int) -> None:
        rng = np.random.default_rng(seed)
        while time.monotonic() < stop_at:
            (name,) = _draw(rng, 1)
            await _get(http, pages[name], name, times, errors)

    async def bad_login(http, seed: int) -> None:
        while time.monotonic() < stop_at:
            async with http.get("/login") as r:
                html = await r.text()
            csrf = html.split('name="csrf" value="')[1].split('"')[0]
            start = time.perf_counter()
            async with http.post("/login", headers={"cookie": f"stepdown_login_csrf={csrf}"},
                                 data={"csrf": csrf, "username": f"x{seed}",
                                       "password": "wrong password"}) as r:
                await r.read()
            times["login_wrong"].append(time.perf_counter() - start)
            if r.status not in (401, 429):
                errors.append(f"login_wrong {r.status}")

    async with _session(base, token) as http, _session(base) as anon:
        await asyncio.gather(*(client(http, i) for i in range(CLIENTS)),
                             *(bad_login(anon, i) for i in range(BAD_LOGIN_CLIENTS)))
    return times, errors, sum(len(v) for v in times.values())


async def _warm_up(base: str, token: str, pages: dict[str, str], workers: int) -> None:
    """Every page a few times per worker on fresh connections (the kernel spreads them over
    the workers): first imports, first drawings and caches, as a server that has run a while."""
    times: dict[str, list[float]] = {n: [] for n in MIX}
    for _ in range(3):
        async with _session(base, token) as http:
            await asyncio.gather(*(_get(http, path, name, times, [])
                                   for name, path in pages.items() for _ in range(2 * workers)))


def _measure(home: Path, workers: int, token: str, pages: dict, scenario) -> dict:
    from stepdown.catalog import db

    server, base = _serve(home, workers)
    try:
        asyncio.run(_warm_up(base, token, pages, workers))
        conn = db.connect(home / "catalog.sqlite3")
        conn.execute("DELETE FROM login_failures")  # each run starts with no lock
        conn.close()
        pids = _tree(server.pid)
        load_before = os.getloadavg()[0]
        cpu_before = sum(_cpu_s(p) for p in pids)
        me_before, start = time.process_time(), time.perf_counter()
        times, errors, n = asyncio.run(scenario(base, token, pages))
        wall = time.perf_counter() - start
        server_cpu = sum(_cpu_s(p) for p in pids) - cpu_before
        client_cpu = time.process_time() - me_before
        load_after = os.getloadavg()[0]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    conn = db.connect(home / "catalog.sqlite3")
    hashed = conn.execute("SELECT COUNT(*) FROM login_failures WHERE key LIKE 'addr:%'"
                          ).fetchone()[0]  # one row per wrong password checked
    conn.close()
    return {"times": times, "errors": errors, "n": n, "wall": wall, "server_cpu": server_cpu,
            "client_cpu": client_cpu, "load": (load_before, load_after), "hashed": hashed}


def _scrypt_cpu_s() -> float:
    """CPU seconds of one password hash at the catalog's cost, in this process."""
    from stepdown.catalog.accounts import hash_password

    start = time.process_time()
    hash_password("benchmark password")
    return time.process_time() - start


def _report(title: str, workers: int, r: dict, scrypt_s: float) -> None:
    n, wall = r["n"], r["wall"]
    cores = os.cpu_count() or 1
    print(f"\n{title}, {workers} worker process{'es' if workers > 1 else ''}: {n} requests in "
          f"{wall:.1f} s ({n / wall:.0f} req/s); load average {r['load'][0]:.1f} before, "
          f"{r['load'][1]:.1f} after, on {cores} cores")
    per_server, per_client = r["server_cpu"] / n, r["client_cpu"] / n
    print(f"  CPU: server {r['server_cpu']:.1f} s = {1000 * per_server:.2f} ms a request "
          f"({r['server_cpu'] / wall:.0%} of one core); load generator {r['client_cpu']:.1f} s "
          f"= {1000 * per_client:.2f} ms a request ({r['client_cpu'] / wall:.0%} of one core)")
    if r["errors"]:
        print(f"  non-200 answers: {len(r['errors'])} (first: {r['errors'][:3]})")
    print(f"  {'page':16s} {'n':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
    for name, values in r["times"].items():
        if values:
            v = np.asarray(values) * 1000
            print(f"  {name:16s} {len(v):6d} {np.percentile(v, 50):8.0f} "
                  f"{np.percentile(v, 99):8.0f} {v.max():8.0f}")
    if "login_wrong" in r["times"] and r["times"]["test"]:  # closed loop: Little's law
        pages = n - len(r["times"]["login_wrong"])
        per_page = max(r["server_cpu"] - r["hashed"] * scrypt_s, 0.0) / pages
        print(f"  of the server CPU, ~{r['hashed'] * scrypt_s:.1f} s hashed {r['hashed']} wrong "
              f"passwords ({scrypt_s:.2f} s each) before the address was locked; the pages "
              f"took ~{1000 * per_page:.2f} ms a request")
        test = np.asarray(r["times"]["test"])
        spread = np.percentile(test, 99) / test.mean()  # p99 over mean, as measured here
        want_rate = CLIENTS * spread / 1.0  # req/s for a test-page p99 of 1 s
        got = (r["server_cpu"] + r["client_cpu"]) / wall
        print(f"  capacity: {CLIENTS} clients / mean wait = throughput; a test-page p99 of "
              f"1 s (p99 = {spread:.1f} x mean here) needs {want_rate:.0f} req/s x "
              f"{1000 * (per_page + per_client):.2f} ms CPU (pages + generator) = "
              f"{want_rate * (per_page + per_client):.2f} cores; this run got {got:.2f} "
              f"cores (server + generator CPU / wall) of {cores}, load average "
              f"{r['load'][0]:.1f}")


def run() -> None:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("skipped: needs aiohttp (pip install -e '.[dev]')")
        return
    if not SAMPLE.exists() or not Path("/proc/self/stat").exists():
        print(f"skipped: needs the sample recording {SAMPLE} and Linux /proc")
        return
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
        home = Path(d)
        token, pages = _prepare(home)
        scrypt_s = _scrypt_cpu_s()
        print(f"{CLIENTS} clients on 127.0.0.1, pages drawn from the mix {MIX}; "
              f"burst = {CLIENTS} GETs at once x {BURSTS}; closed loop = {CLIENTS} clients "
              f"back to back for {LOOP_S:g} s + {BAD_LOGIN_CLIENTS} sending wrong passwords")
        for workers in WORKERS:
            _report("burst", workers, _measure(home, workers, token, pages, _bursts), scrypt_s)
            _report("closed loop", workers,
                    _measure(home, workers, token, pages, _closed_loop), scrypt_s)
    print("target: test page p99 <= 1000 ms; no page starved")
