"""Set up the athlete feedback of one `stepdown record` run from its options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sensor_io.errors import InputError
from stepdown.athlete.bus import EventBus
from stepdown.athlete.feedback import LiveFeedback
from stepdown.athlete.keys import KEYS, open_terminal_keys

if TYPE_CHECKING:
    from sensor_io.ble_client import SensorStatus

DEFAULT_PAGE = "127.0.0.1:8766"


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' (IPv6 as '[::1]:8766'; a bare HOST gets port 8766) -> (host, port).

    Parameters
    ----------
    text : str
        The ``--page-address`` value.

    Returns
    -------
    tuple of (str, int)
        Host (brackets removed) and port.

    Raises
    ------
    InputError
        Not HOST:PORT, or a port outside 0-65535.
    """
    host, sep, port = text.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        host, port = text, DEFAULT_PAGE.rpartition(":")[2]
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        raise InputError(f"--page-address must be HOST:PORT, not {text!r}") from None
    if not host or not 0 <= number < 65536:
        raise InputError(f"--page-address must be HOST:PORT with a port 0-65535, not {text!r}")
    return host, number


def open_feedback(recorder: Any, sensors: dict[str, SensorStatus], *, athlete_id: str, sound: bool,
                  page_address: str | None, ssl_certfile: Path | None = None,
                  ssl_keyfile: Path | None = None, silent_s: float = 2.0,
                  log: Callable[[str], None] = print) -> LiveFeedback:
    """Cue output (when ``sound``) and the live page (when ``page_address``), started.

    Beyond loopback the page needs HTTPS and review-app accounts, as `stepdown serve`.
    Raises InputError (one line for the user) when the page cannot be served.

    Parameters
    ----------
    recorder : Any
        The test's recorder (events and pain go there).
    sensors : dict of str to SensorStatus
        Placement -> its live figures.
    athlete_id : str
        Shown on the live page.
    sound : bool
        Play cues (sound, or text where no audio device exists).
    page_address : str or None
        ``HOST:PORT`` of the live page; None: no page.
    ssl_certfile : pathlib.Path or None
        HTTPS certificate, needed beyond loopback.
    ssl_keyfile : pathlib.Path or None
        Its private key.
    silent_s : float
        A streaming sensor silent this long (s) counts as lost.
    log : callable
        Where lines for the coach go.

    Returns
    -------
    LiveFeedback
        The feedback hook, its page server (if any) started and terminal keys open.

    Raises
    ------
    InputError
        The page cannot be served.
    """
    from stepdown.commands.web import _is_loopback

    app_kw: dict[str, Any] = {}
    if page_address is not None:
        host, port = parse_address(page_address)
        if not _is_loopback(host):
            if not (ssl_certfile and ssl_keyfile):
                raise InputError(f"a live page on {host} (beyond this computer) needs HTTPS: "
                                 "give --page-cert and --page-key")
            app_kw["catalog"] = _catalog_with_accounts()
    output = None
    if sound:
        from stepdown.athlete.sound import open_output

        output, note = open_output(log)
        log(note)
    feedback = LiveFeedback(recorder, sensors, output=output, silent_s=silent_s, log=log)
    feedback.keys = open_terminal_keys(feedback.control,
                                       lambda: (feedback.band, feedback.set_active))
    if feedback.keys is not None:
        log(f"coach keys here: {KEYS}")
    if page_address is not None:
        from stepdown.athlete.page import PageServer, create_live_app

        feedback.bus = EventBus({"athlete": athlete_id, "phase": "connecting",
                                 "test_leg": recorder.meta["test_leg"]})
        app = create_live_app(feedback.bus, feedback.control, athlete_id=athlete_id, **app_kw)
        feedback.server = PageServer(app, host, port, ssl_certfile, ssl_keyfile)
        try:
            url = feedback.server.start()
        except OSError as err:
            feedback.close()
            raise InputError(str(err)) from None
        log(f"live page: {url}  (its keys: {KEYS})")
    return feedback


def _catalog_with_accounts() -> Path:
    from stepdown.catalog.accounts import require_users
    from stepdown.paths import catalog_path

    require_users("the live page")
    return catalog_path()
