"""Sessions, CSRF and response headers of the review web app.

- The session cookie holds a random token (the catalog keeps its hash); it is
  HttpOnly, SameSite=Strict and Secure.
- Every form carries a CSRF token: the session's own token once logged in; on
  the login form a per-browser token in its own cookie (double submit).  A POST
  whose token does not match is refused with 403, before anything is stored.
- Every response says no third party may be contacted (Content-Security-Policy
  ``default-src 'self'``), is not framed, sends no referrer, and pages are not cached.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stepdown.catalog import accounts

SESSION_COOKIE = "stepdown_session"
LOGIN_CSRF_COOKIE = "stepdown_login_csrf"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


class Refused(Exception):
    """A request refused: ``status`` 303 (go log in), 403 or 404.

    Parameters
    ----------
    status : int
        The HTTP status to answer with.
    detail : str
        Why, in words.
    """

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(detail)
        self.status = status


def session_of(request: Request, conn) -> accounts.Session | None:
    """The session of the request's session cookie, if it is a live one.

    Parameters
    ----------
    request : Request
        The HTTP request.
    conn : Connection
        The catalog.

    Returns
    -------
    Session or None
        The session; None without a cookie, or for an unknown or expired token.
    """
    return accounts.get_session(conn, request.cookies.get(SESSION_COOKIE))


def require_session(request: Request, conn) -> accounts.Session:
    """The logged-in session, or :class:`Refused` (303 to the login page).

    Parameters
    ----------
    request : Request
        The HTTP request.
    conn : Connection
        The catalog.

    Returns
    -------
    Session
        The session of the request's cookie.

    Raises
    ------
    Refused
        303, when there is no live session.
    """
    session = session_of(request, conn)
    if session is None:
        raise Refused(303, "log in first")
    return session


def check_csrf(sent: object, expected: str | None) -> None:
    """Refuse (403) unless ``sent`` equals the expected token (constant time).

    Parameters
    ----------
    sent : object
        The token the form sent (anything a form field may hold).
    expected : str or None
        The session's (or the login cookie's) token.

    Raises
    ------
    Refused
        403, when they differ or either is missing.
    """
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise Refused(403, "the form was not sent from this site (CSRF token missing or wrong)")


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Set the session cookie (HttpOnly, SameSite=Strict, for the session's lifetime).

    Parameters
    ----------
    response : Response
        The response that logs in.
    token : str
        The session's token.
    secure : bool
        Mark the cookie Secure (HTTPS only).
    """
    response.set_cookie(SESSION_COOKIE, token, max_age=accounts.SESSION_HOURS * 3600,
                        httponly=True, secure=secure, samesite="strict", path="/")


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Delete the session cookie in the browser.

    Parameters
    ----------
    response : Response
        The response that logs out.
    secure : bool
        The cookie was set Secure.
    """
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure, samesite="strict",
                           path="/")


def login_csrf(request: Request) -> tuple[str, bool]:
    """The browser's login CSRF token and whether it is new (cookie to be set).

    Parameters
    ----------
    request : Request
        The request for, or the POST of, the login form.

    Returns
    -------
    token : str
        The cookie's token, or a new random one when it has none of at least 32 characters.
    new : bool
        Whether the token is new.
    """
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if token and len(token) >= 32:
        return token, False
    return secrets.token_urlsafe(32), True


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` (and no-store for HTML) to every response.

    Parameters
    ----------
    app : ASGIApp
        The application wrapped.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


Handler = Callable[[Request], Awaitable[Response]]
