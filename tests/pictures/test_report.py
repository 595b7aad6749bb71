"""report.html: self-contained, escaped, and checked in a real headless Chromium."""

import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from ganfit import Config, cli, train
from ganfit.pictures import figures
from ganfit.pictures.report import moments_caption, write_report
from ganfit.rundir.layout import read_metrics

HOSTILE = "<img src=x onerror=alert(1)> \"q\" & 'y'"  # no '/': one path component
QUICK = dict(epochs=60, log_every=20, eval_samples=300)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A run whose directory, data file and column names are all HTML."""
    base = tmp_path_factory.mktemp("rep")
    data = base / "d<&>.csv"
    data.write_text("<i>h&t</i>\n" + "\n".join(f"{v:.3f}" for v in np.random.default_rng(0).normal(5, 2, 200)))
    out = base / f"run {HOSTILE}"
    cfg = Config(target=f"csv:path={data},column=<i>h&t</i>", seeds=3, pictures=True, **QUICK)
    train(cfg, out)
    return out, write_report(out)


def test_report_is_one_self_contained_file_with_everything_escaped(hostile_run):
    out, path = hostile_run
    text = path.read_text()
    assert path == out / "report.html"
    for raw in (HOSTILE, "<i>h&t</i>", "d<&>.csv"):
        assert raw not in text  # never unescaped ...
    assert html.escape(out.name) in text and html.escape("<i>h&t</i>") in text  # ... but there, escaped
    assert "d&lt;&amp;&gt;.csv" in text
    srcs = re.findall(r'<img src="([^"]{0,30})', text)
    assert len(srcs) >= 6 and all(s.startswith(("data:image/png;base64,", "data:image/gif;base64,")) for s in srcs)
    assert not re.search(r"(src|href)=\"(?!data:)", text) and "http://" not in text and "https://" not in text
    learned = json.loads((out / "summary.json").read_text())["learned"]
    assert f"<b>{learned}/3</b> members learned" in text  # the success count ...
    assert "Criterion: |mean - " in text and "snapshot_every" in text  # ... its criterion, the whole config


def test_members_are_ordered_by_ks(hostile_run):
    text = hostile_run[1].read_text()
    table = text.split("<table class=sortable>")[1].split("</table>")[0]
    head = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    col = head.index("ks")
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1])
    ks = [float(re.findall(r'data-v="([^"]*)"|<td[^>]*>([^<]*)</td>', r)[col][0] or "nan") for r in rows]
    assert len(ks) == 3 and ks == sorted(ks)


def test_run_without_pictures_gets_its_views_from_the_weights(tmp_path):
    train(Config(**QUICK), tmp_path / "plain")
    text = write_report(tmp_path / "plain").read_text()
    assert "drawn from the final weights" in text
    for name in ("distribution.png", "discriminator.png", "generator.png", "curves.png", "moments.png"):
        assert f"<code>{name}</code>" in text


def test_a_directory_of_runs_gets_a_comparison_report(tmp_path):
    sweep = tmp_path / "sweep"
    for name, lr_g in (("points/b-run", 1e-3), (f"a {HOSTILE}", 2e-4)):  # right in DIR, and in DIR/points
        train(Config(lr_g=lr_g, **QUICK), sweep / name)
    (sweep / "notes").mkdir()  # not a run: left out
    text = write_report(sweep).read_text()
    assert html.escape(f"a {HOSTILE}") in text and HOSTILE not in text
    assert "<title>ganfit runs sweep: 2 runs</title>" in text  # not a `ganfit sweep` directory
    table = text.split('<table class="sortable runs">')[1].split("</table>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", table)[:3] == ["run", "lr_g", "target"]  # the field that differs
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1])]
    assert [r[:2] for r in rows] == [[html.escape(f"a {HOSTILE}"), "0.0002"], ["b-run", "0.001"]]
    assert "differ in 1 field(s): lr_g; every other is the same." in text
    # one picture per metric, each run a line in it, instead of one block of curves per run
    metrics = re.findall(r"<figcaption><code>([^<]*)</code> — median per run</figcaption>", text)
    assert metrics == figures.compare_names({"b": read_metrics(sweep / "points" / "b-run" / "metrics.jsonl")})
    assert "<h3>" not in text and "curves.png" not in text
    (sweep / "sweep.toml").write_text("[sweep]\n")
    assert "<title>ganfit sweep sweep</title>" in write_report(sweep).read_text()


def test_provenance_is_a_small_table_under_the_outcome_when_the_summary_has_one(hostile_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(hostile_run[0], out)
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("provenance", None)
    (out / "summary.json").write_text(json.dumps(summary))
    assert "Provenance" not in write_report(out).read_text()
    prov = {"ganfit": "0.1.0", "torch": "2.13.0", "platform": HOSTILE, "command": "ganfit train --seeds 8"}
    (out / "summary.json").write_text(json.dumps(summary | {"provenance": prov | {"git_commit": None}}))
    text = write_report(out).read_text()
    assert text.index("<h2>Outcome</h2>") < text.index("<h3>Provenance</h3>") < text.index("<h2>Members</h2>")
    table = text.split("<table class=provenance>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><th class=l>([^<]*)</th><td class=l><code>([^<]*)</code></td></tr>", table)
    assert rows == [(k, html.escape(v)) for k, v in prov.items()] + [("git_commit", "—")]
    assert HOSTILE not in text


def test_the_moments_caption_says_what_the_picture_draws(hostile_run):
    one, ring = moments_caption(Config()), moments_caption(Config(target="ring"))
    assert one.startswith("Generated mean and std over epochs (the article's picture)")
    assert ring.startswith("Sliced W1 to the target and high-quality fraction") and "Generated mean" not in ring
    assert moments_caption(Config(target="moons")).startswith("Sliced W1 to the target over epochs")
    assert f"<code>moments.png</code> — {html.escape(one)}" in hostile_run[1].read_text()  # a 1-D run's page


def test_bad_report_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for args, message in (
        ([str(tmp_path / "nope")], "no such directory"),
        ([str(tmp_path / "empty")], "not a ganfit run directory (no config.toml) nor a directory of runs"),
    ):
        assert cli.main(["report", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


# ---- the real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("GANFIT_REQUIRE_CHROMIUM") == "1"


def chromium():
    if CHROMIUM:
        return CHROMIUM
    if REQUIRED:
        pytest.fail("headless Chromium is required here (CI=true) but not installed: apt-get install chromium")
    pytest.skip("headless Chromium is not installed (apt-get install chromium): the browser check needs it")


def open_in_chromium(page, tmp_path):
    """(DOM after load, console lines, screenshot) of a page, from one headless Chromium run."""
    shot = tmp_path / "shot.png"
    r = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
            "--virtual-time-budget=10000",
            f"--screenshot={shot}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console, shot


def image_states(dom: str) -> list[str]:
    return re.findall(r'<img [^>]*data-loaded="(yes|no)"', dom) or re.findall(r'data-loaded="(yes|no)"', dom)


def test_report_in_headless_chromium(hostile_run, tmp_path):
    page = hostile_run[1]
    dom, console, shot = open_in_chromium(page, tmp_path)
    assert 'data-images-checked="true"' in dom, dom[:500]  # the load handler ran
    states = image_states(dom)
    assert len(states) == page.read_text().count("<img ") >= 6
    assert set(states) == {"yes"}  # every image decoded, none broken
    assert console == []  # no console errors (nor messages) at all
    with Image.open(shot) as im:
        px = np.asarray(im.convert("L"))
    assert px.shape[0] > 500 and (px < 200).mean() > 0.02 and len(np.unique(px)) > 20  # not a blank page


def test_the_browser_check_catches_a_broken_page(tmp_path):
    # the same check on a page with a broken image and a script error must fail
    bad = tmp_path / "bad.html"
    body = (
        '<img src="data:image/png;base64,AAAA"><script>window.addEventListener("load", function () {'
        'document.querySelectorAll("img").forEach(function (i) {'
        'i.dataset.loaded = (i.complete && i.naturalWidth > 0) ? "yes" : "no"; });'
        'document.documentElement.dataset.imagesChecked = "true"; }); nosuchfunction();</script>'
    )
    bad.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
    dom, console, _ = open_in_chromium(bad, tmp_path)
    assert image_states(dom) == ["no"]
    assert any("nosuchfunction" in line for line in console)
