"""The lab's page in a real browser: Playwright for Python driving Debian's Chromium (never a downloaded
browser). The page loads; step, play and pause move the epoch counter as they should; a learning rate
changed in the page is the one the server's game uses next; drawn points and an uploaded CSV start games
on those points; save-as-run writes a run that `ganfit sample` reads."""

import os
import shutil
import time

import numpy as np
import pytest

from ganfit import Config
from ganfit.cli import main
from ganfit.lab.games import open_run
from ganfit.lab.server import Lab
from ganfit.lab.session import Session

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("GANFIT_REQUIRE_CHROMIUM") == "1"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if REQUIRED:
            pytest.fail("headless Chromium is required here (CI=true) but not installed: apt-get install chromium")
        pytest.skip("headless Chromium is not installed (apt-get install chromium): the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) drives the browser")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    pg = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(served.at("/"))
    pg.wait_for_function("window.lab && window.lab.frame !== null", timeout=60_000)
    yield pg
    pg.close()
    assert errors == []


def epoch(pg) -> int:
    return int(pg.inner_text("#epoch").replace(",", ""))


def session(served):
    (driver,) = served.lab.drivers
    return driver.session


def test_step_play_and_pause_move_the_epoch_counter(page, served):
    assert epoch(page) == 0
    page.click("#step")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    page.click("#stepd")
    page.wait_for_function("document.getElementById('epoch').textContent === '2'")
    page.click("#stepg")
    page.wait_for_function("document.getElementById('epoch').textContent === '3'")
    assert [n.split(": ")[1] for n in session(served).notes[-2:]] == ["D's steps only", "G's steps only"]
    page.click("#play")
    page.wait_for_function("+document.getElementById('epoch').textContent.replace(/,/g, '') > 300", timeout=60_000)
    page.click("#play")  # now the pause button
    page.wait_for_function("document.getElementById('play').dataset.running === '0'")
    stopped = epoch(page)
    time.sleep(0.5)
    assert epoch(page) == stopped == session(served).epoch
    assert page.locator("#density").is_visible() and page.locator("#gmap").is_visible()
    assert page.locator("#member0").is_visible()


def test_a_learning_rate_changed_in_the_page_is_used_next(page, served):
    page.click("#step")
    page.fill("#lr_g", "0.001")
    page.fill("#d_steps", "2")
    page.click("#apply")
    page.wait_for_function("window.lab.setup.config.lr_g === 0.001")
    s = session(served)
    assert s.config.lr_g == 1e-3 and s.config.d_steps == 2 and s.game.config.lr_g == 1e-3
    page.click("#step")
    page.wait_for_function("document.getElementById('epoch').textContent === '2'")
    assert s.epoch == 2 and "lr_g=0.001" in s.notes[-1]
    page.select_option("#optimizer", "sgd")  # GAN Lab's other optimiser, mid-run too
    page.fill("#beta1", "0.8")
    page.click("#apply")
    page.wait_for_function("window.lab.setup.config.optimizer === 'sgd'")
    assert s.config.optimizer == "sgd" and s.config.beta1 == 0.8 and s.game.engine.D.sgd


def test_drawn_points_start_a_game_on_them(page, served):
    page.click("#draw")
    box = page.locator("#density").bounding_box()
    page.mouse.move(box["x"] + 120, box["y"] + 100)
    page.mouse.down()
    for i in range(20):
        page.mouse.move(box["x"] + 120 + 3 * i, box["y"] + 100)
    page.mouse.up()
    n = page.evaluate("window.lab.points.length")
    assert n >= 40
    page.click("#drawn")
    page.wait_for_function(f"window.lab.setup.views.target.startsWith('{n} samples')", timeout=60_000)
    s = session(served)
    assert s.game.target.data.shape == (n, 1)
    page.click("#step")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")


def test_a_csv_upload_starts_a_2d_game(page, served, tmp_path):
    rng = np.random.default_rng(0)
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,c\n" + "".join(f"{x:.4f},{y:.4f},7\n" for x, y in rng.normal(size=(300, 2))))
    page.set_input_files("#csv", str(csv))
    page.fill("#columns", "a,b")
    page.click("#upload")
    page.wait_for_function("window.lab.setup.views.dim === 2", timeout=60_000)
    s = session(served)
    assert s.game.target.data.shape == (300, 2) and s.game.target.columns == ["a", "b"]
    page.click("#step")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    assert page.locator("#plane").is_visible()


def test_save_as_run_is_read_by_ganfit_sample(page, served, tmp_path):
    page.fill("#runname", "from-the-page")
    page.click("#step")
    page.click("#save")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('saved')", timeout=60_000)
    out = served.lab.runs / "from-the-page"
    assert main(["sample", str(out), "-n", "20", "--out", str(tmp_path / "s.csv")]) == 0
    assert len(np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)) == 20


def test_a_recipe_starts_a_2d_game_and_a_member_can_be_picked(page, served):
    page.select_option("#recipe", "ring")
    page.wait_for_function("window.lab.setup.views.dim === 2 && window.lab.setup.members === 10", timeout=60_000)
    assert session(served).config.d_view == "pack:m=2" and page.input_value("#d_view") == "pack:m=2"
    page.wait_for_selector("#member9")
    page.click("#member2")
    page.wait_for_function("window.lab.frame.member === 2", timeout=60_000)
    assert session(served).live.member == 2
    assert "warp" not in page.evaluate("window.lab.frame.main")  # made only while it is shown
    page.check("#show-warp")
    page.wait_for_function("window.lab.frame.main.warp && window.lab.frame.main.warp.length > 100", timeout=60_000)
    page.fill("#seeds", "3")  # a new game from the fields: the ring recipe's, with K = 3
    page.click("#new")
    page.wait_for_function("window.lab.setup.members === 3", timeout=60_000)
    c = session(served).config
    assert c.seeds == 3 and c.d_view == "pack:m=2" and c.target.startswith("ring")


def test_slow_motion_plays_at_the_pages_speed(page, served):
    page.select_option("#speed", "3")
    page.wait_for_function("window.lab.speed === 3")
    page.click("#play")
    page.wait_for_function("document.getElementById('epoch').textContent !== '0'", timeout=30_000)
    # each epoch comes as D's half, then G's: the frames say which, and the overview explains it
    page.wait_for_function("window.lab.frame.half === 'd'", timeout=30_000)
    page.wait_for_function("window.lab.frame.half === 'g'", timeout=30_000)
    time.sleep(1.0)
    page.click("#play")
    page.wait_for_function("document.getElementById('play').dataset.running === '0'")
    assert 1 <= session(served).epoch <= 12  # about 3 a second, not thousands


def test_an_opened_run_and_the_time_slider(browser, serve, tmp_path):
    s = Session(Config(epochs=1000, log_every=100, seeds=2))
    s.play(400)
    s.save(tmp_path / "run")
    s.close()
    served = serve(Lab(Config(), tmp_path / "runs", lambda: open_run(tmp_path / "run")))
    pg = browser.new_page()
    pg.goto(served.at("/"))
    pg.wait_for_function("window.lab && window.lab.frame !== null", timeout=60_000)
    assert epoch(pg) == 400  # where the run's checkpoint stopped
    assert pg.evaluate("window.lab.snaps.map((s) => s.epoch)") == [0, 100, 200, 300]
    pg.fill("#time", "1")
    pg.dispatch_event("#time", "input")
    assert pg.inner_text("#timelabel") == "snapshot, epoch 100"
    pg.click("#step")
    pg.wait_for_function("document.getElementById('epoch').textContent === '401'")
    pg.close()


def test_points_drawn_on_the_plane_start_a_2d_game(page, served):
    page.select_option("#recipe", "ring")
    page.wait_for_function("window.lab.setup.views.dim === 2", timeout=60_000)
    page.click("#draw")
    box = page.locator("#plane").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    for i in range(25):
        page.mouse.move(box["x"] + 100 + 4 * i, box["y"] + 100 + 3 * i)
    page.mouse.up()
    n = page.evaluate("window.lab.points.length")
    assert n >= 40
    page.click("#drawn")
    page.wait_for_function(f"window.lab.setup.views.target.startsWith('{n} samples')", timeout=60_000)
    x = session(served).game.target.data
    assert x.shape == (n, 2) and np.corrcoef(x.T)[0, 1] < -0.9  # down-right on screen: y falls in data units


def test_the_layers_of_g_and_d_are_set_from_the_page(page, served):
    page.fill("#g_activations", "tanh,tanh,tanh")
    page.fill("#d_activations", "relu")
    page.click("#new")
    page.wait_for_function("window.lab.setup.config.g_activations === 'tanh,tanh,tanh'", timeout=60_000)
    G = session(served).game.G
    assert len(G.weights) == 4 and session(served).config.d_activations == "relu"


def message(pg) -> str:
    return pg.inner_text("#message")


def test_faults_are_said_in_the_page_and_the_game_goes_on(page, served, browser):
    page.fill("#g_hidden", "100000")  # past the budget: refused before anything allocates
    page.click("#new")
    page.wait_for_function("document.getElementById('message').className === ''", timeout=60_000)
    assert "this machine has" in message(page)
    page.route("**/upload*", lambda route: route.fulfill(status=502, body="bad gateway"))  # a proxy's answer
    page.set_input_files("#csv", files=[{"name": "a.csv", "mimeType": "text/csv", "buffer": b"a\n1\n2\n"}])
    page.fill("#columns", "a")
    page.click("#upload")
    page.wait_for_function("document.getElementById('message').textContent.includes('502')", timeout=30_000)
    assert "bad gateway" in message(page)
    page.click("#step")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    # a fifth page is told why it has no game, and the message stays (no reconnecting over it)
    from websockets.sync.client import connect

    others = [connect(served.ws()) for _ in range(3)]
    try:
        fifth = browser.new_page()
        fifth.goto(served.at("/"))
        fifth.wait_for_function(
            "document.getElementById('message').textContent.includes('lab pages are open')", timeout=30_000
        )
        time.sleep(2.0)
        assert "lab pages are open" in message(fifth)
        fifth.close()
    finally:
        for ws in others:
            ws.close()


def test_the_page_loads_inside_another_sites_iframe(browser, served):
    # as a notebook shows it: the page's site (a Jupyter on localhost:8888) is not the lab's, so a
    # SameSite cookie is not sent with the iframe's requests; the assets' URLs carry the token instead
    pg = browser.new_page()
    pg.set_content(f'<iframe id="lab" src="{served.at("/")}" width="1200" height="900"></iframe>')
    frame = pg.frame_locator("#lab")
    frame.locator("#epoch").wait_for(timeout=60_000)
    lab = pg.frames[1]
    lab.wait_for_function("window.lab && window.lab.frame !== null", timeout=60_000)
    lab.click("#step")
    lab.wait_for_function("document.getElementById('epoch').textContent === '1'", timeout=30_000)
    pg.close()
