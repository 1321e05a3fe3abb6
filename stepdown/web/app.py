"""The coach's review web app (Starlette + Jinja2; charts by the local plotly.min.js).

Pages: ``/athletes``, ``/athletes/{id}``, ``/tests/{id}`` (relabel items, add
notes) and ``/tests/{id}/report`` (printable, self-contained HTML) and
``/tests/{id}/report.pdf``.  Every page needs a login; a coach sees only the
athletes assigned to them, and anything else answers 404 exactly like an id
that does not exist.  Each request opens its own catalog connection.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from stepdown.catalog import accounts, repo
from stepdown.catalog.db import CatalogError, connect
from stepdown.web import charts, views
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

_HERE = resources.files("stepdown.web")
MAX_FORM_BYTES = 64 * 1024


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


STATIC = {
    "plotly.min.js": (plotly_js_path, "text/javascript"),
    "app.css": (lambda: Path(str(_HERE / "static" / "app.css")), "text/css"),
    "charts.js": (lambda: Path(str(_HERE / "static" / "charts.js")), "text/javascript"),
}


def create_app(catalog: Path | str, *, secure_cookies: bool = True) -> Starlette:
    """The ASGI app over the catalog ``catalog`` (an SQLite file or a database URL).

    ``secure_cookies`` sets the Secure flag on cookies (keep it on; browsers
    accept it on http://127.0.0.1 and it must be on for any other host).
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    templates = Jinja2Templates(env=env)
    templates.env.globals.update(item_names=views.ITEM_NAMES, items=repo.ITEMS,
                                 colours=charts.CATEGORY_COLOURS)
    connect(catalog).close()  # create and migrate once, up front

    def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            conn = connect(catalog)
            try:
                return await handler(request, conn)
            except Refused as refused:
                if refused.status == 303:
                    nxt = quote(request.url.path)
                    return RedirectResponse(f"/login?next={nxt}", status_code=303)
                text = "Not found" if refused.status == 404 else f"Refused: {refused}"
                return PlainTextResponse(text, status_code=refused.status)
            finally:
                conn.close()
        return endpoint

    async def form_of(request: Request) -> dict[str, str]:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            raise Refused(413, "form too large")
        form = await request.form(max_files=0, max_fields=50)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def visible_athlete(session: accounts.Session, athlete_id: str, conn) -> repo.AthleteInfo:
        if not repo.ATHLETE_ID.match(athlete_id) or not session.user.can_see(athlete_id):
            raise Refused(404)
        athlete = repo.get_athlete(conn, athlete_id)
        if athlete is None:
            raise Refused(404)
        return athlete

    def visible_test(session: accounts.Session, test_id: int, conn) -> repo.TestDetail:
        owner = repo.test_athlete(conn, test_id)
        if owner is None or not session.user.can_see(owner):
            raise Refused(404)
        detail = repo.get_test(conn, test_id)
        assert detail is not None
        return detail

    # ------------------------------------------------------------ login

    async def login_get(request: Request, conn) -> Response:
        token, new = login_csrf(request)
        resp = page(request, "login.html", {"csrf": token, "error": None, "session": None,
                                            "next": _safe_next(request.query_params.get("next"))})
        if new:
            resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=secure_cookies,
                            samesite="strict", path="/login")
        return resp

    async def login_post(request: Request, conn) -> Response:
        form = await form_of(request)
        check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE))
        user = accounts.authenticate(conn, form.get("username", "")[:64],
                                     form.get("password", "")[:1024])
        if user is None:
            return page(request, "login.html", {
                "csrf": request.cookies.get(LOGIN_CSRF_COOKIE), "next": form.get("next"), "session": None,
                "error": "Wrong user name or password."}, status=401)
        resp = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        set_session_cookie(resp, accounts.start_session(conn, user.username),
                           secure=secure_cookies)
        return resp

    async def logout(request: Request, conn) -> Response:
        session = require_session(request, conn)
        check_csrf((await form_of(request)).get("csrf"), session.csrf_token)
        accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        clear_session_cookie(resp, secure=secure_cookies)
        return resp

    # ------------------------------------------------------------ pages

    async def home(request: Request, conn) -> Response:
        require_session(request, conn)
        return RedirectResponse("/athletes", status_code=303)

    async def athletes_page(request: Request, conn) -> Response:
        session = require_session(request, conn)
        rows = [{"a": a, "flags": views.athlete_flags(a),
                 "spark": views.sparkline_svg([t.total for t in a.tests])}
                for a in repo.list_athletes(conn, session.user.visible())]
        return page(request, "athletes.html", {"session": session, "rows": rows})

    async def athlete_page(request: Request, conn) -> Response:
        session = require_session(request, conn)
        athlete = visible_athlete(session, request.path_params["athlete_id"], conn)
        tests = repo.list_tests(conn, athlete.id)
        specs = charts.athlete_specs(athlete)
        return page(request, "athlete.html", {
            "session": session, "athlete": athlete, "tests": list(reversed(tests)),
            "charts": json_for_html(charts.athlete_charts(tests, specs)),
            "load": _load_panel(conn, athlete.id)})

    async def test_page(request: Request, conn) -> Response:
        session = require_session(request, conn)
        detail = visible_test(session, request.path_params["test_id"], conn)
        athlete = repo.get_athlete(conn, detail.summary.athlete_id)
        specs = charts.athlete_specs(athlete)
        return page(request, "test.html", {
            "session": session, "t": detail, "s": detail.summary, "athlete": athlete,
            "reps": [{"rep": r, "cells": views.item_cells(r), "coach_total": views.coach_total(r)}
                     for r in detail.reps],
            "measure_columns": [c for c in views.MEASURE_COLUMNS
                                if any(r.measures.get(c[0]) is not None for r in detail.reps)],
            "explanations": views.explanations(detail), "label_lines": views.label_lines(detail),
            "uncertainty": views.uncertainty_lines(detail),
            "charts": json_for_html(charts.rep_measure_charts(detail.reps, specs)),
            "curves": json_for_html(views.angle_curves(detail, specs)),
            "saved": request.query_params.get("saved")})

    async def relabel(request: Request, conn) -> Response:
        session = require_session(request, conn)
        form = await form_of(request)
        check_csrf(form.get("csrf"), session.csrf_token)
        detail = visible_test(session, request.path_params["test_id"], conn)
        rep_index = _int(form.get("rep"))
        rep = next((r for r in detail.reps if r.index == rep_index), None)
        if rep is None:
            raise Refused(400, "no such rep")
        changed = 0
        for item in repo.ITEMS:
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

    async def add_note(request: Request, conn) -> Response:
        session = require_session(request, conn)
        form = await form_of(request)
        check_csrf(form.get("csrf"), session.csrf_token)
        detail = visible_test(session, request.path_params["test_id"], conn)
        rep_text = form.get("rep", "")
        rep_index = _int(rep_text) if rep_text else None
        if rep_index is not None and rep_index not in {r.index for r in detail.reps}:
            raise Refused(400, "no such rep")
        try:
            repo.add_note(conn, detail.summary.id, session.user.username,
                          form.get("text", ""), rep_index)
        except CatalogError as err:
            raise Refused(400, str(err)) from None
        return RedirectResponse(f"/tests/{detail.summary.id}#notes", status_code=303)

    async def report_html(request: Request, conn) -> Response:
        from stepdown.web.report import report_html as render

        session = require_session(request, conn)
        detail = visible_test(session, request.path_params["test_id"], conn)
        athlete = repo.get_athlete(conn, detail.summary.athlete_id)
        return HTMLResponse(render(detail, athlete, templates.env))

    async def report_pdf(request: Request, conn) -> Response:
        from stepdown.web.report import report_pdf as render

        session = require_session(request, conn)
        detail = visible_test(session, request.path_params["test_id"], conn)
        athlete = repo.get_athlete(conn, detail.summary.athlete_id)
        name = f"stepdown-{detail.summary.athlete_id}-test{detail.summary.id}.pdf"
        return Response(render(detail, athlete, views.explanations(detail)),
                        media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    async def static(request: Request) -> Response:
        entry = STATIC.get(request.path_params["name"])
        if entry is None:
            return PlainTextResponse("Not found", status_code=404)
        path, media = entry
        return FileResponse(path(), media_type=media,
                            headers={"cache-control": "private, max-age=3600"})

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)  # no icon; answered so the browser log stays clean

    routes = [
        Route("/", guarded(home)),
        Route("/login", guarded(login_get), methods=["GET"]),
        Route("/login", guarded(login_post), methods=["POST"]),
        Route("/logout", guarded(logout), methods=["POST"]),
        Route("/athletes", guarded(athletes_page)),
        Route("/athletes/{athlete_id:str}", guarded(athlete_page)),
        Route("/tests/{test_id:int}", guarded(test_page)),
        Route("/tests/{test_id:int}/labels", guarded(relabel), methods=["POST"]),
        Route("/tests/{test_id:int}/notes", guarded(add_note), methods=["POST"]),
        Route("/tests/{test_id:int}/report", guarded(report_html)),
        Route("/tests/{test_id:int}/report.pdf", guarded(report_pdf)),
        Route("/static/{name:str}", static),
        Route("/favicon.ico", favicon),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def json_for_html(value: object) -> str:
    """JSON safe inside a <script type="application/json"> element (no '<', '>', '&')."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _int(text: str | None) -> int:
    try:
        return int(str(text))
    except ValueError:
        raise Refused(400, "expected a whole number") from None


def _safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other sites, //host) -> /athletes."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and target.isprintable():
        return target
    return "/athletes"


def _load_panel(conn, athlete_id: str) -> dict | None:
    """The training-load panel (issue 7) when the athlete has a training log, else None."""
    from stepdown.catalog.training_log import load_panel_for

    try:
        panel = load_panel_for(conn, athlete_id)
    except CatalogError:  # no training-log entry
        return None
    return {"chart": json_for_html(charts.load_chart(panel)), "flags": panel.flags,
            "help": panel.help}
