"""The live page's server (issue 13): open on loopback, the review app's logins and
access rules beyond it, controls checked before they reach the recording, and the
server-sent event stream."""

import json
import re
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette's note on httpx, as in test_web
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from test_web import PASSWORD, make_catalog  # noqa: E402

from stepdown.athlete.bus import EventBus  # noqa: E402
from stepdown.athlete.feedback import parse_control  # noqa: E402
from stepdown.athlete.page import create_live_app  # noqa: E402

JSON = {"content-type": "application/json"}


def make(catalog=None, athlete="a-017"):
    bus = EventBus({"athlete": athlete, "phase": "go"})
    sent = []
    app = create_live_app(bus, lambda a, v: sent.append(parse_control(a, v)),
                          athlete_id=athlete, catalog=catalog)
    return app, bus, sent


def client(app):
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def test_open_page_has_only_local_assets_and_the_state():
    app, bus, _ = make()
    c = client(app)
    r = c.get("/live")
    assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
    srcs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert srcs and all(s.startswith("/live/static/") for s in srcs)
    for s in srcs:
        assert c.get(s).status_code == 200
    state = json.loads(re.search(r'id="state">(.*?)</script>', r.text).group(1))
    assert state == {"athlete": "a-017", "phase": "go"}
    assert c.get("/live/static/../page.py").status_code == 404


def test_state_json_cannot_break_out_of_its_script_element():
    app, bus, _ = make()
    bus.publish("rep", last_rep={"fix": "</script><script>alert(1)</script>"})
    html = client(app).get("/live").text
    assert "<script>alert" not in html


def test_controls_are_validated_and_queued():
    app, _, sent = make()
    c = client(app)
    assert c.post("/live/control", json={"action": "pain", "value": 4}).status_code == 202
    assert c.post("/live/control", json={"action": "band", "value": True}).status_code == 202
    r = c.post("/live/control", json={"action": "pain", "value": 12})
    assert r.status_code == 400 and "0-10" in r.json()["error"]
    assert c.post("/live/control", content=b"{not json", headers=JSON).status_code == 400
    assert c.post("/live/control", content=b"[1]", headers=JSON).status_code == 400
    assert c.post("/live/control", data={"action": "stop_set"}).status_code == 415  # a plain form
    r = c.post("/live/control", json={"action": "stop_set"}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    assert c.post("/live/control", content=b"{" + b" " * 2000 + b"}", headers=JSON).status_code == 413
    assert sent == [("pain", 4.0), ("band", True)]


def test_event_stream_sends_the_state_then_each_event():
    app, bus, _ = make()
    c = client(app)
    bus.publish("rep", last_rep={"index": 1, "fix": "knee out"})

    def record_loop():  # publishes once the page listens, then the recording ends
        while bus.listeners == 0:
            time.sleep(0.01)
        bus.publish("band", band=True)
        bus.close()

    thread = threading.Thread(target=record_loop)
    thread.start()
    with c.stream("GET", "/live/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        data = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:")]
    thread.join(5)
    assert [d["kind"] for d in data] == ["state", "band"]
    assert data[0]["state"]["last_rep"]["fix"] == "knee out"
    assert data[1]["state"]["band"] is True and data[1]["seq"] == data[0]["seq"] + 1


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "catalog.sqlite3"
    make_catalog(path)
    return path


def login(c, user):
    r = c.get("/login?next=/live")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"csrf": token, "username": user, "password": PASSWORD,
                               "next": "/live"})
    assert r.status_code == 303 and r.headers["location"] == "/live"


def test_beyond_loopback_the_review_logins_and_access_rules_apply(catalog):
    app, bus, sent = make(catalog, athlete="a-017")
    c = client(app)
    for path in ("/live", "/live/events"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/live"
    r = c.post("/live/control", json={"action": "stop_set"})
    assert r.status_code == 303
    other = client(app)
    login(other, "coach-b")                  # coach of another athlete: as if no such page
    assert other.get("/live").status_code == 404
    assert other.post("/live/control", json={"action": "stop_set"}).status_code == 404
    login(c, "coach-a")
    page = c.get("/live")
    assert page.status_code == 200
    token = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    assert c.post("/live/control", json={"action": "stop_set"}).status_code == 403  # no token
    r = c.post("/live/control", json={"action": "stop_set"}, headers={"x-csrf-token": token})
    assert r.status_code == 202
    assert sent == [("stop_set", None)]
    assert c.get("/athletes").status_code == 200  # the review app is there too
