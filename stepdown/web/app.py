"""The coach's review web app (Starlette + Jinja2; charts by the local plotly.min.js).

Pages: ``/athletes``, ``/athletes/{id}``, ``/tests/{id}`` (relabel items, add
notes) and ``/tests/{id}/report`` (printable, self-contained HTML) and
``/tests/{id}/report.pdf``.  Every page needs a login; a coach sees only the
athletes assigned to them, and anything else answers 404 exactly like an id
that does not exist.  Each request opens its own catalog connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from analysis import registry
from stepdown.catalog import accounts, db, desk, repo
from stepdown.catalog.db import CatalogError, connect
from stepdown.web import charts, views
from stepdown.web import programme as programme_web
from stepdown.web import today as today_view
from stepdown.web.charts import html_safe, json_for_html
from stepdown.web.page_cache import CSRF_PLACEHOLDER, RenderCache, with_csrf
from stepdown.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Refused,
    SecurityHeaders,
    check_csrf,
    clear_session_cookie,
    login_csrf,
    require_session,
    set_session_cookie,
)
from stepdown.web.throttle import LoginThrottle
from stepdown.web.transfer import StaticAssets, read_form

_HERE = resources.files("stepdown.web")
MAX_SQLITE_ID = 2**63 - 1
PAGE_THREADS = 8  # pages rendered at once; more only adds GIL contention on the event loop
HASH_THREADS = 2  # scrypt at 128 MiB each: two at a time on this 2-core target
HASH_NICE = 10  # the hashing threads' niceness above the server's: pages get the CPU first
DRAW_THREADS = 2  # PDF drawing (matplotlib)
PER_PAGE = 25
CACHED_PAGES = 512  # rendered test pages per process (~100 kB each)
CACHED_REPORTS = 64  # HTML/PDF reports per process (~50 kB each; 0.1-0.3 s of drawing each)


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package.

    Returns
    -------
    Path
        The file's path.
    """
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


STATIC = {
    "plotly.min.js": (plotly_js_path, "text/javascript"),
    "app.css": (lambda: Path(str(_HERE / "static" / "app.css")), "text/css"),
    "charts.js": (lambda: Path(str(_HERE / "static" / "charts.js")), "text/javascript"),
}


def create_app(catalog: Path | str, *, secure_cookies: bool = True,
               throttle: LoginThrottle | None = None) -> Starlette:
    """The ASGI app over the catalog ``catalog`` (an SQLite file or a database URL).

    Every handler runs in a worker thread with that thread's catalog connection, so
    the event loop only moves bytes: password hashing and PDF drawing have their
    own small thread limits, so neither can take all threads from the pages, and
    hashing runs at a lower CPU priority.  The test page and the reports are kept
    rendered per test revision (:mod:`stepdown.web.page_cache`).  Nothing a request
    depends on lives only in this process: sessions and login failures are in the
    catalog, so several server processes can share it (``stepdown serve --workers``).

    Parameters
    ----------
    catalog : Path or str
        An SQLite file or a database URL; created and migrated up front.
    secure_cookies : bool
        Set the Secure flag on cookies (keep it on; browsers accept it on
        http://127.0.0.1 and it must be on for any other host).
    throttle : LoginThrottle or None
        The failed-login limits (the defaults unless given); the failures are counted in
        the catalog, so every server process on it shares them.

    Returns
    -------
    Starlette
        The ASGI app.
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    templates = Jinja2Templates(env=env)
    templates.env.globals.update(item_names=views.item_titles(), items=registry.item_names(),
                                 colours=charts.CATEGORY_COLOURS)
    templates.env.filters["localtime"] = _localtime
    templates.env.filters["rx"] = programme_web.rx_value
    connect(catalog).close()  # create and migrate once, up front
    throttle = throttle or LoginThrottle()
    limits = {"page": anyio.CapacityLimiter(PAGE_THREADS),
              "draw": anyio.CapacityLimiter(DRAW_THREADS)}
    # Logins and password changes: their own threads, at a lower CPU priority (scrypt lets go
    # of the GIL, so without it a burst of wrong passwords takes the cores from the pages).
    hash_pool = ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="stepdown-hash",
                                   initializer=_lower_thread_priority)

    local = threading.local()
    pooled = not db.database_url(catalog).startswith("sqlite")  # (patchable: tests send it to PostgreSQL)

    def thread_connection():
        """This worker thread's catalog connection, opened on its first request (SQLite in
        WAL mode lets each thread read while another writes)."""
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = connect(catalog)
        return conn

    def request_connection():
        """A connection for one request: SQLite's own per thread (opening a file costs);
        PostgreSQL's from the engine's pool and back to it after the request, so worker
        threads that outlive an app (anyio keeps them) never hold the pool's connections
        until it runs dry."""
        return connect(catalog) if pooled else thread_connection()

    def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    rendered = RenderCache(CACHED_PAGES)
    reports = RenderCache(CACHED_REPORTS)

    def guarded(handler: Callable[..., Response], *, form: bool = False,
                limit: str = "page", first: Callable[..., Response | None] | None = None
                ) -> Callable:
        """An endpoint running ``handler(request, conn[, form])`` in a worker thread.

        ``first`` (for the hashing lane): a quick check run in a page thread before
        ``handler`` is queued; a response from it is the answer (a locked login is
        refused at once, not after the password checks queued before it)."""
        async def endpoint(request: Request) -> Response:
            def run(fn: Callable, fields: dict[str, str] | None) -> Response | None:
                conn = request_connection()
                try:
                    if conn.in_transaction:  # never carry a half-done transaction over
                        conn.execute("ROLLBACK")
                    return fn(request, conn) if fields is None else fn(request, conn, fields)
                finally:
                    if pooled:
                        conn.close()
            try:
                fields = await read_form(request) if form else None
                if first is not None:
                    early = await anyio.to_thread.run_sync(run, first, fields,
                                                           limiter=limits["page"])
                    if early is not None:
                        return early
                if limit == "hash":
                    return await asyncio.get_running_loop().run_in_executor(
                        hash_pool, run, handler, fields)
                return await anyio.to_thread.run_sync(run, handler, fields,
                                                      limiter=limits[limit])
            except Refused as refused:
                return refusal(request, refused)
        return endpoint

    def refusal(request: Request, refused: Refused) -> Response:
        if refused.status == 303:
            nxt = quote(request.url.path)
            return RedirectResponse(f"/login?next={nxt}", status_code=303)
        text = "Not found" if refused.status == 404 else f"Refused: {refused}"
        return PlainTextResponse(text, status_code=refused.status)

    def visible_athlete(session: accounts.Session, athlete_id: str, conn) -> repo.AthleteInfo:
        if not repo.ATHLETE_ID.match(athlete_id) or not session.user.can_see(athlete_id):
            raise Refused(404)
        athlete = repo.get_athlete(conn, athlete_id)
        if athlete is None:
            raise Refused(404)
        return athlete

    def visible_revision(session: accounts.Session, test_id: int, conn) -> tuple:
        """The test's revision (:func:`repo.test_revision`; its athlete first) if this
        session may see the test, else :class:`Refused` 404."""
        if not 0 < test_id <= MAX_SQLITE_ID:
            raise Refused(404)
        revision = repo.test_revision(conn, test_id)
        if revision is None or not session.user.can_see(revision[0]):
            raise Refused(404)
        return revision

    def visible_test(session: accounts.Session, test_id: int, conn) -> repo.TestDetail:
        visible_revision(session, test_id, conn)
        detail = repo.get_test(conn, test_id)
        assert detail is not None
        return detail

    # ------------------------------------------------------------ login

    def login_get(request: Request, conn) -> Response:
        token, new = login_csrf(request)
        resp = page(request, "login.html", {"csrf": token, "error": None, "session": None,
                                            "next": _safe_next(request.query_params.get("next"))})
        if new:
            resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=secure_cookies,
                            samesite="strict", path="/login")
        return resp

    def login_refused(request: Request, form: dict[str, str], wait: float) -> Response:
        """The login form again: 429 with the lock's remaining time, else 401."""
        error = (f"Too many failed logins: try again in {int(wait // 60) + 1} minute(s)."
                 if wait else "Wrong user name or password.")
        resp = page(request, "login.html", {
            "csrf": request.cookies.get(LOGIN_CSRF_COOKIE), "session": None,
            "next": _safe_next(form.get("next")), "error": error},
            status=429 if wait else 401)
        if wait:
            resp.headers["retry-after"] = str(int(wait) + 1)
        return resp

    def login_locked(request: Request, conn, form: dict[str, str]) -> Response | None:
        """Refused (403 CSRF, 429 locked) before any password is checked; else None."""
        check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE))
        address = request.client.host if request.client else "-"
        wait = throttle.wait_s(conn, form.get("username", "")[:64], address)
        return login_refused(request, form, wait) if wait else None

    def login_post(request: Request, conn, form: dict[str, str]) -> Response:
        check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE))
        username = form.get("username", "")[:64]
        address = request.client.host if request.client else "-"
        wait = throttle.wait_s(conn, username, address)  # again: it may have locked meanwhile
        user = None if wait else accounts.authenticate(conn, username,
                                                        form.get("password", "")[:1024])
        if user is None:
            if not wait:
                throttle.failed(conn, username, address)
                wait = throttle.wait_s(conn, username, address)
            return login_refused(request, form, wait)
        throttle.succeeded(conn, username)
        resp = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        set_session_cookie(resp, accounts.start_session(conn, user.username),
                           secure=secure_cookies)
        return resp

    def logout(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        clear_session_cookie(resp, secure=secure_cookies)
        return resp

    # ------------------------------------------------------------ pages

    def home(request: Request, conn) -> Response:
        require_session(request, conn)
        return RedirectResponse("/athletes", status_code=303)

    def athletes_page(request: Request, conn) -> Response:
        """Today and find: athletes sorted by what needs a look, filtered, one page of them."""
        session = require_session(request, conn)
        find = _find_params(request.query_params)
        rows = desk.desk_rows(conn, session.user.visible(), text=find["q"], tag=find["tag"],
                              category=find["result"])
        today = dt.date.today()
        state = today_view.load_state(conn, today)
        acks = desk.acknowledgements(conn, [r.athlete_id for r in rows]) if rows else {}
        listed = []
        for row in rows:
            reasons = today_view.with_acks(
                today_view.load_reasons(row.athlete_id, state, today)
                + today_view.test_reasons(row), acks.get(row.athlete_id, {}))
            if find["need"] and not any(r.kind == find["need"] and r.ack is None
                                        for r in reasons):
                continue
            listed.append((today_view.attention(reasons), row, reasons))
        listed.sort(key=lambda x: (-x[0], x[1].athlete_id))
        pages = max(1, -(-len(listed) // PER_PAGE))
        number = min(find["page"], pages)
        shown = listed[(number - 1) * PER_PAGE: number * PER_PAGE]
        totals = desk.totals_by_athlete(conn, [row.athlete_id for _, row, _ in shown])
        return page(request, "athletes.html", {
            "session": session, "find": find, "tags": desk.all_tags(conn),
            "kinds": today_view.KINDS, "categories": repo.CATEGORIES,
            "count": len(listed), "page_number": number, "pages": pages,
            "page_links": {k: _find_query(find, page=n) for k, n in
                           (("prev", number - 1), ("next", number + 1)) if 1 <= n <= pages},
            "back": "/athletes" + _find_query(find, page=number),
            "rows": [{"a": row, "score": score, "reasons": reasons,
                      "spark": views.sparkline_svg(totals[row.athlete_id])}
                     for score, row, reasons in shown]})

    def acknowledge(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        (row,) = desk.desk_rows(conn, {athlete.id}) or (None,)
        today = dt.date.today()
        current = today_view.load_reasons(athlete.id, today_view.load_state(conn, today), today)
        current += today_view.test_reasons(row) if row else []
        key = form.get("reason", "")
        if key not in {r.key for r in current}:
            raise Refused(400, "no such reason for this athlete (now)")
        desk.acknowledge(conn, athlete.id, key, session.user.username)
        back = form.get("back", "")
        return RedirectResponse(back if _is_find_path(back) else "/athletes", status_code=303)

    def set_tags(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        try:
            desk.set_tags(conn, athlete.id, form.get("tags", "").replace(",", " ").split())
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/athletes/{quote(athlete.id)}", status_code=303)

    def account_page(request: Request, conn) -> Response:
        """Your account (password, time zone, sessions); for a head account, every account."""
        session = require_session(request, conn)
        return page(request, "account.html", {
            "session": session, "done": ACCOUNT_DONE.get(request.query_params.get("done", "")),
            "users": accounts.list_users(conn) if session.user.sees_all else [],
            "min_password": accounts.MIN_PASSWORD_CHARS})

    def account_post(request: Request, conn, form: dict[str, str]) -> Response:
        """One account change (``action``): password, time_zone, logout_everywhere; and for
        an account that sees all athletes: unassign, remove, logout_user."""
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        me, action = session.user.username, form.get("action", "")
        try:
            if action == "password":
                if accounts.authenticate(conn, me, form.get("current", "")[:1024]) is None:
                    raise Refused(403, "the current password is wrong")
                if form.get("new", "") != form.get("repeat", ""):
                    raise Refused(400, "the two new passwords differ")
                accounts.set_password(conn, me, form.get("new", "")[:1024])  # ends sessions
                resp = RedirectResponse("/login", status_code=303)
                clear_session_cookie(resp, secure=secure_cookies)
                return resp
            if action == "time_zone":
                accounts.set_time_zone(conn, me, form.get("time_zone", "")[:64])
            elif action == "logout_everywhere":
                accounts.end_sessions(conn, me)
                return RedirectResponse("/login", status_code=303)
            elif action in ("unassign", "remove", "logout_user") and session.user.sees_all:
                user = form.get("user", "")[:64]
                if user == me:
                    raise Refused(400, "use your own account's settings for yourself")
                if action == "unassign":
                    accounts.unassign(conn, user, [form.get("athlete", "")[:64]])
                elif action == "remove":
                    accounts.remove_user(conn, user)
                else:
                    accounts.end_sessions(conn, user)
            else:
                raise Refused(403 if action in ("unassign", "remove", "logout_user") else 400,
                              "not allowed" if action else "no action")
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/account?done={action}", status_code=303)

    def compare_page(request: Request, conn) -> Response:
        """Two tests of one athlete side by side (default: the two newest; ``?legs=1``: the
        newest left-leg test against the newest right-leg one)."""
        from stepdown.web import compare

        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        tests = repo.list_tests(conn, athlete.id)
        by_id = {t.id: t for t in tests}
        q = request.query_params
        if q.get("legs"):
            newest = {t.test_leg: t.id for t in tests}  # oldest first: the last one wins
            pair = (newest.get("left"), newest.get("right"))
        elif q.get("a") or q.get("b"):
            pair = (_id_param(q.get("a")), _id_param(q.get("b")))
        else:
            pair = tuple(t.id for t in tests[-2:]) if len(tests) >= 2 else (None, None)
        if None in pair or any(i not in by_id for i in pair):
            raise Refused(404)
        a, b = (repo.get_test(conn, i) for i in pair)
        specs = charts.athlete_specs(athlete)
        curves = compare.overlay_curves(views.angle_curves_json(a, specs),
                                        views.angle_curves_json(b, specs))
        return page(request, "compare.html", {
            "session": session, "athlete": athlete, "tests": list(reversed(tests)),
            "a": a, "b": b, "ra": views.reviewed_result(a), "rb": views.reviewed_result(b),
            "items_rows": compare.item_rows(a, b), "changes": compare.measure_changes(a, b),
            "curves": json_for_html(curves), "colours_ab": (compare.A_COLOUR, compare.B_COLOUR)})

    def progress_report(request: Request, conn) -> Response:
        from stepdown.web.report import progress_html

        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        tests = repo.list_tests(conn, athlete.id)
        latest = repo.get_test(conn, tests[-1].id) if tests else None
        return HTMLResponse(progress_html(athlete, tests, latest, templates.env))

    def tests_csv(request: Request, conn) -> Response:
        """The athlete's tests as CSV (one row per test; measures: mean of rep peaks)."""
        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        text = views.tests_csv(repo.list_tests(conn, athlete.id))
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="stepdown-{athlete.id}-tests.csv"'})

    def athlete_page(request: Request, conn) -> Response:
        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        tests = repo.list_tests(conn, athlete.id)
        specs = charts.athlete_specs(athlete)
        return page(request, "athlete.html", {
            "session": session, "athlete": athlete, "tests": list(reversed(tests)),
            "charts": json_for_html(charts.athlete_charts(tests, specs)),
            "load": _load_panel(conn, athlete.id),
            "programme_volume": _programme_volume(conn, athlete.id),
            "tags": (desk.desk_rows(conn, {athlete.id}) or [None])[0]})

    def programme_page(request: Request, conn) -> Response:
        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        return page(request, "programme.html", {
            "session": session, "athlete": athlete, "saved": request.query_params.get("saved"),
            **programme_web.programme_context(conn, athlete.id)})

    def prescribe(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        try:
            programme_web.prescribe_from_form(conn, athlete.id, form, session.user.username)
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/athletes/{quote(athlete.id)}/programme?saved=1", status_code=303)

    def test_page(request: Request, conn) -> Response:
        """The test page, rendered once per test revision and viewer (name, rights, time
        zone) and kept; each request only checks access and puts in its CSRF token."""
        session = require_session(request, conn)
        test_id = request.path_params["test_id"]
        revision = visible_revision(session, test_id, conn)
        user, saved = session.user, _count_param(request.query_params.get("saved"))
        key = ("test", test_id, revision, user.username, user.sees_all, user.time_zone, saved)
        html = rendered.get(key, lambda: render_test_page(
            conn, accounts.Session(user, CSRF_PLACEHOLDER), test_id, saved))
        return HTMLResponse(with_csrf(html, session.csrf_token))

    def render_test_page(conn, session: accounts.Session, test_id: int,
                         saved: int | None) -> str:
        detail = repo.get_test(conn, test_id)
        if detail is None:  # deleted since its revision was read
            raise Refused(404)
        athlete = repo.get_athlete(conn, detail.summary.athlete_id)
        specs = charts.analysis_specs(detail.analysis, athlete)
        return templates.env.get_template("test.html").render({
            "session": session, "t": detail, "s": detail.summary, "athlete": athlete,
            "reps": [{"rep": r, "cells": views.item_cells(r), "coach_total": views.coach_total(r)}
                     for r in detail.reps],
            "measure_columns": [c for c in views.MEASURE_COLUMNS
                                if any(r.measures.get(c[0]) is not None for r in detail.reps)],
            "explanations": views.explanations(detail), "label_lines": views.label_lines(detail),
            "uncertainty": views.uncertainty_lines(detail),
            "not_measured": views.not_measured_lines(detail),
            "charts": json_for_html(charts.rep_measure_charts(detail.reps, specs)),
            "curves": html_safe(views.angle_curves_json(detail, specs)),
            "note_history": notes_history(conn, detail.summary.id),
            "reviewed": views.reviewed_result(detail), "saved": saved})

    def relabel(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        detail = visible_test(session, request.path_params["test_id"], conn)
        rep_index = _int(form.get("rep"))
        rep = next((r for r in detail.reps if r.index == rep_index), None)
        if rep is None:
            raise Refused(400, "no such rep")
        changed = 0
        for item in registry.item_names():
            value = form.get(f"item_{item}")
            if value is None or value == "":
                continue
            new = _int(value)
            if new != rep.reviewed_items().get(item):
                try:
                    repo.add_label(conn, detail.summary.id, rep_index, item, new,
                                   session.user.username)
                except CatalogError as err:
                    raise Refused(400, str(err)) from None
                changed += 1
        return RedirectResponse(f"/tests/{detail.summary.id}?saved={changed}#rep-{rep_index}",
                                status_code=303)

    def add_note(request: Request, conn, form: dict[str, str]) -> Response:
        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        detail = visible_test(session, request.path_params["test_id"], conn)
        rep_text = form.get("rep", "")
        rep_index = _int(rep_text) if rep_text else None
        if rep_index is not None and rep_index not in {r.index for r in detail.reps}:
            raise Refused(400, "no such rep")
        try:
            repo.add_note(conn, detail.summary.id, session.user.username,
                          form.get("text", ""), rep_index,
                          for_athlete=form.get("for_athlete") == "1")
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/tests/{detail.summary.id}#notes", status_code=303)

    def change_note(request: Request, conn, form: dict[str, str]) -> Response:
        """Edit (``action=save``) or delete (``action=delete``) a note: its author, or an
        account that sees every athlete; the earlier text is kept in the history."""
        from stepdown.catalog import notes

        session = require_session(request, conn)
        check_csrf(form.get("csrf"), session.csrf_token)
        detail = visible_test(session, request.path_params["test_id"], conn)
        note_id = request.path_params["note_id"]
        author = notes.note_author(conn, detail.summary.id, note_id) \
            if 0 < note_id <= MAX_SQLITE_ID else None
        if author is None:
            raise Refused(404)
        if author != session.user.username and not session.user.sees_all:
            raise Refused(403, "only the note's author can change it")
        try:
            if form.get("action") == "delete":
                notes.delete_note(conn, detail.summary.id, note_id, session.user.username)
            elif form.get("action") == "save":
                notes.edit_note(conn, detail.summary.id, note_id, form.get("text", ""),
                                form.get("for_athlete") == "1", session.user.username)
            else:
                raise Refused(400, "action must be save or delete")
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/tests/{detail.summary.id}#notes", status_code=303)

    def cached_report(request: Request, conn, kind: str) -> tuple[str, object]:
        """(athlete id, the test's ``kind`` report: "html" text or "pdf" bytes), drawn once
        per test revision and day (the report prints its date) and kept."""
        from stepdown.web import report

        session = require_session(request, conn)
        test_id = request.path_params["test_id"]
        revision = visible_revision(session, test_id, conn)

        def draw() -> object:
            detail = repo.get_test(conn, test_id)
            if detail is None:  # deleted since its revision was read
                raise Refused(404)
            athlete = repo.get_athlete(conn, detail.summary.athlete_id)
            if kind == "html":
                return report.report_html(detail, athlete, templates.env)
            return report.report_pdf(detail, athlete, views.explanations(detail))
        printed = dt.datetime.now(dt.UTC).date()  # the day the report prints on it
        return revision[0], reports.get((kind, test_id, revision, printed), draw)

    def report_html(request: Request, conn) -> Response:
        return HTMLResponse(cached_report(request, conn, "html")[1])

    def report_pdf(request: Request, conn) -> Response:
        athlete_id, pdf = cached_report(request, conn, "pdf")
        name = f"stepdown-{athlete_id}-test{request.path_params['test_id']}.pdf"
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    static_files = StaticAssets(STATIC)

    async def static(request: Request) -> Response:
        return await static_files.response(request)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)  # no icon; answered so the browser log stays clean

    routes = [
        Route("/", guarded(home)),
        Route("/login", guarded(login_get), methods=["GET"]),
        Route("/login", guarded(login_post, form=True, limit="hash", first=login_locked),
              methods=["POST"]),
        Route("/logout", guarded(logout, form=True), methods=["POST"]),
        Route("/athletes", guarded(athletes_page)),
        Route("/account", guarded(account_page), methods=["GET"]),
        Route("/account", guarded(account_post, form=True, limit="hash"), methods=["POST"]),
        Route("/athletes/{athlete_id:str}", guarded(athlete_page)),
        Route("/athletes/{athlete_id:str}/ack", guarded(acknowledge, form=True),
              methods=["POST"]),
        Route("/athletes/{athlete_id:str}/tags", guarded(set_tags, form=True), methods=["POST"]),
        Route("/athletes/{athlete_id:str}/compare", guarded(compare_page)),
        Route("/athletes/{athlete_id:str}/tests.csv", guarded(tests_csv)),
        Route("/athletes/{athlete_id:str}/report", guarded(progress_report, limit="draw")),
        Route("/athletes/{athlete_id:str}/programme", guarded(programme_page)),
        Route("/athletes/{athlete_id:str}/programme", guarded(prescribe, form=True),
              methods=["POST"]),
        Route("/tests/{test_id:int}", guarded(test_page)),
        Route("/tests/{test_id:int}/labels", guarded(relabel, form=True), methods=["POST"]),
        Route("/tests/{test_id:int}/notes", guarded(add_note, form=True), methods=["POST"]),
        Route("/tests/{test_id:int}/notes/{note_id:int}", guarded(change_note, form=True),
              methods=["POST"]),
        Route("/tests/{test_id:int}/report", guarded(report_html, limit="draw")),
        Route("/tests/{test_id:int}/report.pdf", guarded(report_pdf, limit="draw")),
        Route("/static/{name:str}", static),
        Route("/favicon.ico", favicon),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.page_cache, app.state.report_cache = rendered, reports  # (read by tests)
    return app


def _lower_thread_priority() -> None:
    """Raise this thread's niceness by HASH_NICE (Linux schedules threads one by one);
    elsewhere, or where refused, the thread keeps the process's priority."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me)
                                                + HASH_NICE))
    except (AttributeError, OSError):
        pass


def app_from_environment() -> Starlette:
    """The app over the catalog ``$STEPDOWN_DATABASE_URL`` names (else the data home's):
    what each worker process of ``stepdown serve --workers N`` builds for itself.

    Returns
    -------
    Starlette
        The ASGI app (:func:`create_app` with secure cookies).
    """
    return create_app(db.database_url())


def _int(text: str | None) -> int:
    try:
        return int(str(text))
    except ValueError:
        raise Refused(400, "expected a whole number") from None


FIND_TEXT_MAX = 64
ACCOUNT_DONE = {"time_zone": "Time zone saved.", "unassign": "Athlete taken away.",
                "remove": "Account removed.", "logout_user": "That account was logged out."}


@jinja2.pass_context
def _localtime(context, iso_utc: str | None) -> str:
    """Template filter: a stored UTC time in the logged-in coach's time zone."""
    session = context.get("session")
    return views.local_time(iso_utc, session.user.time_zone if session else "UTC")


def _find_params(query) -> dict:
    """The find form's filters from the query string, each checked; anything else is dropped."""
    text = (query.get("q") or "").strip()[:FIND_TEXT_MAX]
    tag = query.get("tag") or ""
    result = query.get("result") or ""
    need = query.get("need") or ""
    number = query.get("page") or ""
    return {"q": text if text.isprintable() else "",
            "tag": tag if desk.TAG.match(tag) else "",
            "result": result if result in repo.CATEGORIES else "",
            "need": need if need in today_view.KINDS else "",
            "page": int(number) if number.isdigit() and 0 < len(number) <= 5 else 1}


def _find_query(find: dict, **changes) -> str:
    """The query string of the find form ``find`` with ``changes`` (empty values left out)."""
    from urllib.parse import urlencode

    values = {**find, **changes}
    if values.get("page") == 1:
        values.pop("page")
    kept = {k: v for k, v in values.items() if v}
    return "?" + urlencode(kept) if kept else ""


def _is_find_path(target: str) -> bool:
    return target == "/athletes" or (target.startswith("/athletes?") and target.isprintable()
                                     and "\\" not in target and len(target) < 400)


def notes_history(conn, test_id: int) -> dict:
    """Earlier versions of the test's notes (:func:`stepdown.catalog.notes.note_history`).

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.

    Returns
    -------
    dict of int to list of NoteVersion
        Note id -> its earlier versions (deleted notes too), oldest first.
    """
    from stepdown.catalog.notes import note_history

    return note_history(conn, test_id)


def _id_param(text: str | None) -> int | None:
    """A row id from the query string; None unless it is a plausible one."""
    return int(text) if text and text.isdigit() and len(text) <= 18 else None


def _count_param(text: str | None) -> int | None:
    """A small count from the query string (``?saved=2``); anything else is ignored."""
    return int(text) if text and text.isdigit() and len(text) <= 3 else None


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other sites, //host) -> /athletes."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable():
        return target
    return "/athletes"


def _programme_volume(conn, athlete_id: str) -> str | None:
    """The programme's weekly volume chart (JSON) beside the training load, when the
    athlete has programme sets: load from the programme counts as training too."""
    from stepdown.catalog.programme import list_sets, weekly

    sets = list_sets(conn, athlete_id)
    return json_for_html(programme_web.volume_chart(weekly(sets))) if sets else None


def _load_panel(conn, athlete_id: str) -> dict | None:
    """The training-load panel (issue 7) when the athlete has a training log, else None.

    Flags are shown as episodes (consecutive days of one flag, newest first), each
    with its daily lines on demand, and shaded on the chart.
    """
    from stepdown.catalog.training_log import load_panel_for

    try:
        panel = load_panel_for(conn, athlete_id)
    except CatalogError:  # no training-log entry
        return None
    episodes = views.load_episodes(panel.flags)
    return {"chart": json_for_html(charts.load_chart(panel, episodes)), "episodes": episodes,
            "help": panel.help}
