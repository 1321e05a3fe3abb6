"""The big-screen live page by the step: ``/live`` (HTML), ``/live/events`` (server-sent
events from the :class:`~stepdown.athlete.bus.EventBus`), ``/live/control`` (the coach's
controls, JSON POST), ``/live/static/*`` (the page's own CSS and JS; nothing is loaded
from elsewhere, so it works without internet).

Access: on a loopback address (this computer) the page is open.  Served beyond it
(``catalog`` given), it follows the review app's rules: HTTPS, a review-app login (the
review app is mounted at ``/`` for ``/login``), the coach must be allowed to see the
athlete (anything else answers 404), and a control must carry the session's CSRF token.
Every response has the review app's security headers (same-origin only).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route

from stepdown.athlete.bus import EventBus
from stepdown.athlete.feedback import ControlError
from stepdown.web.security import Refused, SecurityHeaders, require_session

_HERE = resources.files("stepdown.athlete")
STATIC = {"live.js": "text/javascript", "live.css": "text/css"}
MAX_CONTROL_BYTES = 1024

Control = Callable[[object, object], None]
"""(action, value) -> None, raising ControlError: LiveFeedback.control."""


def create_live_app(bus: EventBus, control: Control, *, athlete_id: str,
                    catalog: Path | None = None, secure_cookies: bool = True) -> Starlette:
    """The live page's ASGI app.

    ``catalog`` None: open (loopback only); else logins and access rules of the review app
    over that catalog.

    Parameters
    ----------
    bus : EventBus
        The live state the page streams.
    control : Control
        Applies a coach control (``LiveFeedback.control``).
    athlete_id : str
        The athlete on the page (a coach who may not see them gets 404).
    catalog : pathlib.Path or None
        The review app's catalog, for logins; None: open.
    secure_cookies : bool
        The Secure flag on the mounted review app's cookies (keep it on).

    Returns
    -------
    starlette.applications.Starlette
        The app, with the review app's security headers.
    """
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("live.html")

    def allowed(request: Request) -> str | None:
        """The session's CSRF token (None when the page is open); Refused otherwise."""
        if catalog is None:
            return None
        from stepdown.catalog.db import connect

        conn = connect(catalog)
        try:
            session = require_session(request, conn)
        finally:
            conn.close()
        if not session.user.can_see(athlete_id):
            raise Refused(404)
        return session.csrf_token

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, allowed(request))
            except Refused as refused:
                if refused.status == 303:
                    return RedirectResponse("/login?next=/live", status_code=303)
                text = "Not found" if refused.status == 404 else f"Refused: {refused}"
                return PlainTextResponse(text, status_code=refused.status)
        return endpoint

    async def page(request: Request, csrf: str | None) -> Response:
        return HTMLResponse(template.render(athlete=athlete_id, csrf=csrf or "",
                                            state=bus.state()))

    async def events(request: Request, csrf: str | None) -> Response:
        async def stream():
            yield "retry: 1000\n\n"
            async for event in bus.listen():
                yield f"id: {event['seq']}\ndata: {json.dumps(event)}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store"})

    async def control_post(request: Request, csrf: str | None) -> Response:
        if not same_origin(request):
            raise Refused(403, "control sent from another site")
        if csrf is not None and request.headers.get("x-csrf-token") != csrf:
            raise Refused(403, "CSRF token missing or wrong")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON"}, status_code=415)
        body = await request.body()
        if len(body) > MAX_CONTROL_BYTES:
            return JSONResponse({"error": "too large"}, status_code=413)
        try:
            msg = json.loads(body)
            control(msg.get("action"), msg.get("value"))
        except (ValueError, AttributeError, ControlError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse({"queued": msg["action"]}, status_code=202)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(str(_HERE / "static" / name), media_type=STATIC[name],
                            headers={"cache-control": "no-cache"})

    async def home(request: Request) -> Response:
        return RedirectResponse("/live", status_code=303)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route("/", home), Route("/favicon.ico", favicon),
              Route("/live", guarded(page)), Route("/live/events", guarded(events)),
              Route("/live/control", guarded(control_post), methods=["POST"]),
              Route("/live/static/{name:str}", static)]
    if catalog is not None:
        from stepdown.web.app import create_app

        routes.append(Mount("/", app=create_app(catalog, secure_cookies=secure_cookies)))
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another origin.

    Parameters
    ----------
    request : starlette.requests.Request
        The request (its ``Origin`` and ``Host`` headers).

    Returns
    -------
    bool
        False only when ``Origin`` names another host.
    """
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


class PageServer:
    """Runs an ASGI app under uvicorn in a daemon thread.

    Its own event loop, no signal handlers: the record loop keeps Ctrl-C.

    Parameters
    ----------
    app : Any
        The ASGI app.
    host : str
        Address to listen on.
    port : int
        Port; 0 picks a free port.
    ssl_certfile : pathlib.Path or None
        HTTPS certificate; None: HTTP.
    ssl_keyfile : pathlib.Path or None
        Its private key.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 ssl_certfile: Path | None = None, ssl_keyfile: Path | None = None) -> None:
        import uvicorn

        self.scheme = "https" if ssl_certfile else "http"
        self.host, self.port = host, port
        config = uvicorn.Config(app, log_level="warning", server_header=False,
                                timeout_graceful_shutdown=2,
                                ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                                ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="live-page", daemon=True)
        self.sock: socket.socket | None = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as err:  # reported by start()
            self.error = err

    def start(self, timeout_s: float = 20.0) -> str:
        """Start serving; returns the page's URL.

        Parameters
        ----------
        timeout_s : float
            How long to wait for the server to start, s.

        Returns
        -------
        str
            ``http(s)://host:port/live``.

        Raises
        ------
        OSError
            One line: it cannot listen on the address, or the server did not start.
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((self.host, self.port))
        except OSError as err:
            self.sock.close()
            raise OSError(f"live page: cannot listen on {self.host}:{self.port}: "
                          f"{err.strerror or err}") from None
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"live page: the server did not start ({self.error or 'timeout'})")
            time.sleep(0.02)
        port = self.sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{port}/live"

    def stop(self) -> None:
        """Ask the server to exit, wait for its thread (up to 10 s), close the socket."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        if self.sock is not None:
            self.sock.close()
