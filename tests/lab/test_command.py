"""`ganfit lab`: the command serves the page on 127.0.0.1 and prints its URL with the token; a bad flag
or a run it cannot open is one line and exit 2; RUN_DIR opens a run where it stopped."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from ganfit import Config
from ganfit.cli import main
from ganfit.lab.games import open_run
from ganfit.lab.session import Session


def test_ganfit_lab_serves_and_stops_on_ctrl_c(tmp_path):
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "ganfit", "lab", "--no-browser", "--epochs", "300", "--runs", str(tmp_path)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = p.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line).group(0)
        assert urllib.request.urlopen(url, timeout=30).status == 200
        try:
            urllib.request.urlopen(url.split("?")[0], timeout=30)
            raise AssertionError("served without the token")
        except urllib.error.HTTPError as e:
            assert e.code == 403
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 0


def test_bad_starts_are_one_line(tmp_path, capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    for argv, words in (
        (["lab", "--g-hidden", "0"], "g_hidden must be > 0"),
        (["lab", "--d-view", "pack:m=3"], "pack"),
        (["lab", str(tmp_path)], "not a ganfit run directory"),
        (["lab", str(tmp_path), "--epochs", "5"], "RUN_DIR opens a run as it was"),
        (["lab", "--port", str(taken.getsockname()[1])], "cannot listen there"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err


def test_an_opened_run_continues_where_it_stopped(tmp_path):
    config = Config(epochs=500, seeds=2, log_every=100, checkpoint_every=100)
    s = Session(config)
    s.play(200)
    s.save(tmp_path / "r")
    opened = open_run(tmp_path / "r")
    assert opened.epoch == 200 and [r["epoch"] for r in opened.history] == [r["epoch"] for r in s.history]
    assert list(opened.past.epochs) == [x.epoch for x in s.snapshots]
    opened.play(300)
    s.play(300)
    for a, b in zip(opened.game.G.parameters(), s.game.G.parameters()):
        assert (a == b).all()
    opened.close(), s.close()
