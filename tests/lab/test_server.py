"""The lab's server over real sockets: the token, loopback names only, bad commands and uploads answered
in the page, a closed page's training thread gone, save names kept inside the runs folder."""

import json
import math
import re
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ganfit import Config, recipes
from ganfit.lab.server import Lab


def get(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def until(ws, pred, most: int = 200) -> dict:
    for _ in range(most):
        m = json.loads(ws.recv(timeout=60))
        if pred(m):
            return m
    raise AssertionError("no such message")


def test_token_is_required_everywhere(served):
    assert get(served.at("/"))[0] == 200
    for path in ("/", "/static/lab.js", "/upload"):
        status, body = get(served.at(path, token=False), b"" if path == "/upload" else None)
        assert status == 403 and b"token" in body
    assert get(served.at("/").replace("token=", "token=x"))[0] == 403
    # the page's assets carry the token, for a notebook's iframe where the cookie is not sent (another site)
    page = get(served.at("/"))[1].decode()
    for asset in re.findall(r'(?:src|href)="(static/[^"]+)"', page):
        assert f"token={served.lab.token}" in asset and get(f"http://127.0.0.1:{served.port}/{asset}")[0] == 200
    # another host name (DNS rebinding) is refused even with the token
    assert get(served.at("/"), headers={"Host": f"evil.example:{served.port}"})[0] == 403
    with pytest.raises(InvalidStatus):
        connect(served.ws(token=False)).recv(timeout=10)
    with pytest.raises(InvalidStatus):
        connect(served.ws(), origin="http://evil.example").recv(timeout=10)


def test_bad_commands_are_answered_and_the_game_goes_on(served):
    with connect(served.ws()) as ws:
        until(ws, lambda m: m["type"] == "frame")
        bad = [
            "not json",
            {"cmd": "rm -rf"},
            {"cmd": "step", "n": -3},
            {"cmd": "set", "values": {"g_hidden": 10**9}},
            {"cmd": "set", "values": {"lr_d": "2e-4; import os"}},
            {"cmd": "new", "target": "csv:path=/etc/passwd"},
            {"cmd": "new", "config": {"g_model": "custom:x"}},
            {"cmd": "new", "config": {"seeds": 10_000, "g_hidden": 100_000}},  # past the memory budget
            {"cmd": "new", "config": {"d_view": "pack:m=3"}},  # a spec the engine refuses (100 % 3)
            {"cmd": "new", "points": [[1.0, "x"]]},
            {"cmd": "save", "name": "../outside"},
        ]
        said = []
        for msg in bad:
            ws.send(msg if isinstance(msg, str) else json.dumps(msg))
            err = until(ws, lambda m: m["type"] == "error")
            assert err["text"] and "\n" not in err["text"], err
            said.append(err["text"])
        assert "this run needs about" in said[7] and "not a multiple of m=3" in said[8]
        ws.send(json.dumps({"cmd": "step", "n": 7}))
        assert until(ws, lambda m: m["type"] == "frame" and m["epoch"] == 7)
    assert not (served.lab.runs.parent / "outside").exists()


def test_a_closed_page_leaves_no_thread_and_two_tabs_play_apart(served, lab_threads):
    a, b = connect(served.ws()), connect(served.ws())
    for ws in (a, b):
        until(ws, lambda m: m["type"] == "frame")
    a.send(json.dumps({"cmd": "play"}))
    until(a, lambda m: m["type"] == "frame" and m["epoch"] > 0)
    b.send(json.dumps({"cmd": "step", "n": 3}))
    assert until(b, lambda m: m["type"] == "frame")["epoch"] == 3  # b's game is its own
    assert len([t for t in lab_threads() if t == "ganfit-lab"]) == 2
    a.close()  # the page closed mid-run
    b.close()
    t = time.time()
    while lab_threads() and time.time() - t < 20:
        time.sleep(0.05)
    assert lab_threads() == []
    assert served.lab.drivers == set()
    assert get(served.at("/"))[0] == 200  # and the server goes on serving


def test_uploads_are_checked(served):
    status, body = get(served.at("/upload?columns=b"), b"a,b\n1,2\n3,x\n")
    assert status == 400 and json.loads(body)["error"] == "the CSV line 3: 'x' is not a number"
    status, body = get(served.at("/upload?columns=a,b,c"), b"a,b\n1,2\n")
    assert status == 400
    status, body = get(served.at("/upload?columns=b"), b"a,b\n1,2\n3,5\n4,9\n")
    assert status == 200 and json.loads(body) == {"id": "u1", "rows": 3, "columns": ["b"]}
    assert served.lab.uploads["u1"][0].tolist() == [[2.0], [5.0], [9.0]]


def test_a_dropped_connection_gets_its_game_back(served, lab_threads):
    ws = connect(served.ws() + "&session=abc")
    until(ws, lambda m: m["type"] == "frame")
    ws.send(json.dumps({"cmd": "step", "n": 5}))
    until(ws, lambda m: m["type"] == "frame" and m["epoch"] == 5)
    ws.close()  # dropped: no "bye"
    with connect(served.ws() + "&session=abc") as again:
        assert until(again, lambda m: m["type"] == "setup")
        assert until(again, lambda m: m["type"] == "frame")["epoch"] == 5
        again.send(json.dumps({"cmd": "_stop"}))  # internal commands are not the page's
        assert "not a command" in until(again, lambda m: m["type"] == "error")["text"]
        again.send(json.dumps({"cmd": "bye"}))  # the page is closing: its game ends now
    t = time.time()
    while lab_threads() and time.time() - t < 20:
        time.sleep(0.05)
    assert lab_threads() == [] and served.lab.parked == {}


def test_live_frames_carry_the_manifold_and_gradients_only_while_the_page_shows_them(serve, tmp_path):
    served = serve(Lab(recipes.load("ring").replace(seeds=2), tmp_path / "runs"))
    with connect(served.ws()) as ws:
        ws.send(json.dumps({"cmd": "step", "n": 2}))
        main = until(ws, lambda m: m["type"] == "frame" and m["epoch"] == 2)["main"]
        assert "fake" in main and "warp" not in main and "arrows" not in main
        ws.send(json.dumps({"cmd": "layers", "shown": ["warp", "arrows"]}))
        main = until(ws, lambda m: m["type"] == "frame")["main"]
        assert len(main["warp"]) > 100 and len(main["arrows"]) > 100
        ws.send(json.dumps({"cmd": "layers", "shown": ["rm -rf"]}))
        assert "layers: a list of warp, arrows" in until(ws, lambda m: m["type"] == "error")["text"]


@pytest.mark.parametrize("recipe", ["seed", "ring"])
def test_each_snapshot_carries_kl_and_js_for_the_curves(recipe, serve, tmp_path):
    served = serve(Lab(recipes.load(recipe).replace(seeds=2, log_every=50), tmp_path / "runs"))
    with connect(served.ws()) as ws:
        ws.send(json.dumps({"cmd": "step", "n": 101}))
        frame = until(ws, lambda m: m["type"] == "frame" and m["epoch"] == 101)
        snaps = frame["snapshots"]
    assert [s["epoch"] for s in snaps][-2:] == [50, 100]
    for kl, js in (s["kl_js"] for s in snaps):
        assert 0 <= js <= math.log(2) + 1e-9 and kl >= 0


def test_a_long_step_ends_with_its_closed_page(serve, tmp_path, lab_threads):
    served = serve(Lab(Config(epochs=1_000_000, log_every=1000), tmp_path / "runs"))
    ws = connect(served.ws())
    until(ws, lambda m: m["type"] == "frame")
    ws.send(json.dumps({"cmd": "step", "n": 1_000_000}))  # minutes of play, asked by a hand-made page
    time.sleep(0.5)
    ws.send(json.dumps({"cmd": "bye"}))
    ws.close()
    t = time.time()
    while lab_threads() and time.time() - t < 8:
        time.sleep(0.05)
    assert lab_threads() == []


def test_two_dropped_tabs_with_one_session_id_both_end(serve, tmp_path, lab_threads):
    served = serve(Lab(Config(epochs=20_000), tmp_path / "runs"))
    a, b = connect(served.ws() + "&session=twin"), connect(served.ws() + "&session=twin")  # a duplicated tab
    for ws in (a, b):
        until(ws, lambda m: m["type"] == "frame")
    assert len([t for t in lab_threads() if t == "ganfit-lab"]) == 2
    a.close(), b.close()  # dropped, not closed: each is parked for its page to come back
    t = time.time()
    while len(served.lab.parked) != 1 and time.time() - t < 10:
        time.sleep(0.05)
    t = time.time()
    while len([x for x in lab_threads() if x == "ganfit-lab"]) > 1 and time.time() - t < 10:
        time.sleep(0.05)
    assert len([x for x in lab_threads() if x == "ganfit-lab"]) == 1  # the one parked; the other ended
