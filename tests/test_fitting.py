import html
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import ganfit
from ganfit import GanfitError, arrays, cli
from ganfit.fitting import choose, comparison_lines, fit, read_data, scored_samples, split, verdict
from ganfit.measure import metrics as M
from ganfit.measure.baselines import baselines, mixture
from ganfit.pictures.report import members_table, write_report
from ganfit.sampler import CRITICS

palmerpenguins = pytest.importorskip("palmerpenguins")  # the dev extra installs it
FLIPPERS = palmerpenguins.load_penguins()["flipper_length_mm"].dropna()
QUICK = dict(epochs=300, seeds=3, log_every=50, eval_samples=1000, threads=1)


def test_the_split_is_three_way_disjoint_covering_and_repeatable():
    train, val, test = split(100, 0.2, seed=3)
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    assert sorted([*train, *val, *test]) == list(range(100))
    again = split(100, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test)))
    assert not np.array_equal(split(100, 0.2, seed=4)[1], val)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "run"
    return fit(FLIPPERS, out, **QUICK), out


def test_validation_rows_are_never_trained_on_and_the_split_is_recorded(fitted):
    run, out = fitted
    info = json.loads((out / "split.json").read_text())
    x = FLIPPERS.to_numpy()
    assert info["rows"] == len(x) and len(info["train"]) + len(info["validation"]) + len(info["test"]) == len(x)
    trained = np.load(out / "target.npy")[:, 0]
    held = np.load(out / "validation.npy")[:, 0]
    assert np.array_equal(trained, x[info["train"]]) and np.array_equal(held, x[info["validation"]])
    assert np.array_equal(np.load(out / "test.npy")[:, 0], x[info["test"]])
    config = ganfit.load(out).config
    assert str(out / "target.npy") in config.target and str(out / "validation.npy") in config.validation
    assert run.summary["split"]["sha256"] == arrays.fingerprint(x[:, None])


def test_each_member_keeps_its_best_weights_and_the_member_is_chosen_by_its_ranks(fitted):
    run, _ = fitted
    members = run.summary["members"]
    for m in members:  # the saved weights are the member's best log row, measured again as saved
        rows = [r for r in run.history if r["member"] == m["member"]]
        best = min(rows, key=lambda r: r["val_w1"])
        assert m["val_w1"] == best["val_w1"] and m["best_epoch"] == best["epoch"]
    table = np.array([[m["val_ks"], m["val_w1"]] for m in members])
    ranks = table.argsort(0).argsort(0).sum(1)
    assert run.summary["split"]["chosen_by"] == "rank"
    assert ranks[run.best_member] == ranks.min() and run.summary["best_member"] == run.best_member


def test_every_comparison_row_is_scored_on_the_test_rows_that_chose_nothing(fitted):
    run, out = fitted
    info = json.loads((out / "split.json").read_text())
    x = FLIPPERS.to_numpy()[:, None]
    train, test = x[info["train"]], x[info["test"]]
    assert not set(info["test"]) & (set(info["train"]) | set(info["validation"]))
    rows = {r["key"]: r for r in run.summary["comparison"]["rows"]}
    assert run.summary["comparison"]["scored_on"] == "test"

    def on_test(samples):
        return M.against(samples[None], test, train.std(0))["val_w1"][0]

    n, seed = scored_samples(run.config), run.config.seed
    assert n == 20_000  # not QUICK's eval_samples: each row on as many draws
    for b in baselines(train, n, seed):  # each expert baseline, refitted: the very same score on the test rows
        assert rows[b.key]["test_w1"] == pytest.approx(on_test(b.samples), rel=1e-12)
    assert {"isj", "cv", "mixture", "scott"} <= set(rows)
    assert rows["ganfit"]["test_w1"] == pytest.approx(on_test(run.sample(n, seed=seed + 1)), rel=1e-12)
    assert rows["train"]["test_ks"] == pytest.approx(M.against(train[None], test, train.std(0))["val_ks"][0], rel=1e-12)
    plain = run.sample(n, member=run.best_member, seed=seed + 1)  # the critic chosen on as many draws
    on_val = M.against(plain[None], x[info["validation"]], train.std(0))["val_ks"][0]
    assert run.summary["sampler"]["validation"]["plain"]["val_ks"] == pytest.approx(on_val, rel=1e-12)
    lines = comparison_lines(run.summary)
    assert lines[0].startswith(f"test: {len(test)} rows that neither trained nor chose anything")
    assert lines[-1].startswith("ganfit is ") and "best expert baseline" in lines[-1]
    saved = json.loads((out / "summary.json").read_text())["comparison"]["verdict"]  # and the report says it too
    assert saved == lines[-1] and f"<p>{html.escape(saved)}.</p>" in write_report(out).read_text()


def test_the_verdict_reads_an_mmd_estimate_below_zero_as_the_table_shows_it():
    def comp(ours, cv, mix):
        rows = [
            {"key": "ganfit", "model": "ganfit, member 0", "test_sw": ours[0], "test_mmd": ours[1]},
            {"key": "cv", "model": "KDE, 5-fold (scikit-learn)", "test_sw": cv[0], "test_mmd": cv[1]},
            {"key": "mixture", "model": "Gaussian mixture (1 component)", "test_sw": mix[0], "test_mmd": mix[1]},
        ]
        return {"metrics": ["test_sw", "test_mmd"], "metric": "test_sw", "rows": rows}

    # a fit's unbiased MMD^2 estimates: the CV KDE's -0.0077 (closer than its noise) is 0, as the table shows it
    line = verdict(comp((0.27, 0.0113), (0.19, -0.0077), (0.22, 0.0017)))
    assert line.startswith("ganfit is 1.42x the best expert baseline on test_sw (KDE, 5-fold: 0.19)")
    assert line.endswith("; above the best expert baseline on test_mmd (KDE, 5-fold: 0 within its noise)")
    assert "-" not in line.replace("5-fold", "")  # no negative ratio, no negative MMD^2
    line = verdict(comp((0.18, -0.002), (0.19, -0.0077), (0.22, 0.02)))  # both within their noise of 0
    assert line.endswith("at or below the best expert baseline on test_mmd (KDE, 5-fold: 0)")
    line = verdict(comp((0.27, 0.03), (0.19, 0.01), (0.22, 0.02)))
    assert line.endswith("; 3.00x the best expert baseline on test_mmd (KDE, 5-fold: 0.01)")


@pytest.mark.bits
def test_in_memory_data_trains_bit_for_bit_as_the_same_csv(tmp_path):
    x = FLIPPERS.to_numpy()
    (tmp_path / "f.csv").write_text("flipper\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    config = ganfit.Config(epochs=200, seeds=2, log_every=50, eval_samples=500, threads=1)
    a = ganfit.train(config.replace(target=f"csv:path={tmp_path / 'f.csv'},column=flipper"), tmp_path / "csv")
    b = ganfit.train(config.replace(target=FLIPPERS.rename("flipper")), tmp_path / "mem")
    c = ganfit.train(config.replace(target=list(x)))  # a list, in memory only
    for name in ("weights.safetensors", "metrics.jsonl"):
        assert (a.dir / name).read_bytes() == (b.dir / name).read_bytes()
    assert np.array_equal(a.sample(500), c.sample(500)) and np.array_equal(a.sample(500), b.sample(500))
    assert "array:sha256=" in config.replace(target=x).target  # the config holds a name, not the data
    fitted_csv = fit(tmp_path / "f.csv", column="flipper", **QUICK)
    fitted_mem = fit(x, **QUICK)
    np.save(tmp_path / "f.npy", x)
    fitted_npy = fit(tmp_path / "f.npy", **QUICK)
    assert np.array_equal(fitted_csv.sample(300), fitted_mem.sample(300))
    assert np.array_equal(fitted_npy.sample(300), fitted_mem.sample(300))


def test_the_generator_module_is_ganfit_sample_bit_for_bit_and_exports(fitted, tmp_path):
    run, out = fitted
    assert cli.main(["sample", str(out), "-n", "700", "--out", str(tmp_path / "s.npy")]) == 0
    from_cli = np.load(tmp_path / "s.npy")
    assert np.array_equal(run.sample(700), from_cli)  # what the comparison measured, in the data's units (mm)
    assert 160 < np.median(from_cli) < 230
    G, z = run.generator(plain=True), run.noise(700)  # the chosen member's G alone
    assert isinstance(G, torch.nn.Module) and z.shape == (700, 1)
    if run.refined is None:
        assert np.array_equal(run.generator()(z).numpy(), from_cli)
    exported = torch.export.export(G, (z,)).module()
    with torch.no_grad():
        assert torch.equal(exported(z), G(z))
        other = run.generator(member=(run.best_member + 1) % run.members)
        assert not torch.equal(other(z), G(z))


def test_a_fit_on_real_data_beats_a_deliberately_poor_baseline():
    run = fit(FLIPPERS, epochs=1000, seeds=4, log_every=100, threads=1)
    x = FLIPPERS.to_numpy()[:, None]
    _, _, rows = split(len(x), 0.2, run.config.seed)
    poor = np.random.default_rng(0).uniform(x.min(), x.max(), (run.config.eval_samples, 1))  # flat over the range
    score = M.against(poor[None], x[rows], x.std(0))["val_w1"][0]
    rows = {r["key"]: r["test_w1"] for r in run.summary["comparison"]["rows"]}
    # on 68 test rows the flat is only 1.15-2.6x the train part itself (seed 0: 3.69 and 3.07); ganfit lies
    # -0.03 to 0.53 of the way from the train part to the flat on seeds 0-4
    assert rows["ganfit"] - rows["train"] < 0.75 * (score - rows["train"])


def test_the_mixture_finds_two_separated_clusters_by_bic():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-5, 1, 300), rng.normal(5, 1, 300)])[:, None]
    samples, k = mixture(x, 20_000, np.random.default_rng(1))
    assert k == 2 and abs(np.mean(samples < 0) - 0.5) < 0.02 and np.mean(np.abs(samples) < 2) < 0.01


def run_fit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganfit", "fit", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("x\n1\n2\n3\n4\n5\n", ["--column", "x"], "fit needs at least 8 train, 2 validation and 2 test rows"),
        ("x\n" + "3\n" * 30, ["--column", "x"], "needs at least two distinct values"),
        ("x\n" + "3\n5\n" * 5 + "NA\n" * 6, ["--column", "x", "--drop-missing"], "got 10 row(s)"),
        ("x\n" + "3\n" * 9 + "NA\n", ["--column", "x", "--drop-missing"], "9 row(s) after leaving out 1 with gaps"),
        ("x\n" + "1\n" * 10 + "nan\n" + "2\n" * 10, ["--column", "x"], "'nan', a missing value, in column 'x'"),
        ("x,y\n" + "1,5\n" * 10 + ",6\n" + "2,7\n" * 10, ["--column", "x"], "line 12: no value in column 'x'"),
        ("x\n" + "1\n" * 10 + "inf\n" + "2\n" * 10, ["--column", "x"], "'inf' is not a finite number"),
        ("x,z\n" + "1,2\n2,4\n" * 10, ["--columns", "x,y"], "no column 'y'"),
        ("x,z\n" + "1,2\n2,4\n" * 10, ["--column", "w"], "no column 'w'"),
        ("a,b,c\n" + "1,2,3\n2,3,5\n" * 10, ["--columns", "a,b,c"], "ganfit fits 1-D and 2-D data"),
        ("x\n" + "".join(f"{i}\n" for i in range(30)), ["--column", "x", "--validation-fraction", "1.5"], "in (0, 1)"),
        ("x\n" + "".join(f"{i}\n" for i in range(30)), ["--column", "x", "--validation-fraction", "0"], "in (0, 1)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(tmp_path, content, args, message):
    (tmp_path / "d.csv").write_text(content)
    r = run_fit(str(tmp_path / "d.csv"), *args, "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_drop_missing_leaves_out_the_rows_with_a_gap_in_the_fitted_columns_and_says_how_many(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"{a:.4f},{b:.4f}" for a, b in rng.normal(size=(40, 2))]
    for i, gap in zip((3, 9, 17, 25), ("", "NA", "nan", "NULL")):
        rows[i] = f"{gap},1.0"  # a gap in x
    rows[30] = "0.5,"  # a gap in y, a column not fitted: the row stays
    (tmp_path / "d.csv").write_text("x,y\n" + "\n".join(rows) + "\n")
    r = run_fit(str(tmp_path / "d.csv"), "--column", "x", "--out", str(tmp_path / "refused"))
    assert r.returncode == 2 and "line 5: no value in column 'x'" in r.stderr and "--drop-missing" in r.stderr
    args = ["--column", "x", "--drop-missing", "--epochs", "60", "--seeds", "2", "--log-every", "20"]
    r = run_fit(str(tmp_path / "d.csv"), *args, "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    assert "4 row(s) with a gap left out" in r.stdout
    split = json.loads((tmp_path / "run" / "summary.json").read_text())["split"]
    assert split["rows"] == 36 and split["missing_dropped"] == 4
    assert cli.main(["report", str(tmp_path / "run")]) == 0
    assert "4 row(s) with a gap left out" in (tmp_path / "run" / "report.html").read_text()
    x = np.r_[rng.normal(size=30), np.nan, np.nan]  # in memory and in .npy files, NaN is the gap
    frame = pd.DataFrame({"x": x, "y": np.r_[np.nan, rng.normal(size=31)]})
    np.save(tmp_path / "d.npy", x)
    for data, left in ((x, 30), (frame, 29), (str(tmp_path / "d.npy"), 30)):
        with pytest.raises(GanfitError, match=f"{32 - left} row.s. with a missing value .NaN. .drop rows with gaps"):
            read_data(data)
        values, _, _, missing = read_data(data, drop_missing=True)
        assert len(values) == left and missing == 32 - left and np.isfinite(values).all()
    with pytest.raises(GanfitError, match="not finite"):
        read_data(np.r_[x, np.inf], drop_missing=True)  # an infinite value is not a gap


def test_in_memory_bad_input_is_a_ganfit_error():
    with pytest.raises(GanfitError, match="ganfit fits 1-D and 2-D data"):
        fit(np.zeros((50, 3)))
    with pytest.raises(GanfitError, match=r"1 row\(s\) with a missing value \(NaN\) \(drop rows with gaps, or"):
        fit(np.r_[np.arange(20.0), np.nan])
    with pytest.raises(GanfitError, match="not finite"):
        fit(np.r_[np.arange(20.0), np.inf])
    with pytest.raises(GanfitError, match="unknown config field 'epoch'"):
        fit(np.arange(30.0), epoch=3)


SMALL = dict(epochs=200, seeds=2, log_every=50, eval_samples=500, threads=1)


def test_keep_best_ks_chooses_the_member_by_val_ks():
    run = fit(FLIPPERS, keep_best="ks", **SMALL)
    assert run.summary["split"]["chosen_by"] == "val_ks"  # it chose by val_w1 whatever keep_best said
    scores = [m["val_ks"] for m in run.summary["members"]]
    assert run.best_member == int(np.argmin(scores))


def test_the_2d_recipes_members_take_their_own_g_rates_unless_the_user_sets_seeds_or_lr_g():
    x = np.random.default_rng(0).normal(size=(80, 2)) * [1.0, 30.0]
    few = dict(epochs=20, log_every=10, eval_samples=200, threads=1)
    default, seeds, rate = fit(x, **few), fit(x, seeds=2, **few), fit(x, lr_g=2e-4, **few)
    assert default.config.member_values()["lr_g"] == [1e-4] * 3 + [3e-4] * 3
    assert (seeds.members, seeds.config.per_member, rate.members, rate.config.per_member) == (2, "", 6, "")
    assert rate.config.lr_g == 2e-4


def test_a_2d_fit_leaves_out_the_train_parts_mmd_and_a_run_cannot_watch_what_it_leaves_out():
    x = np.random.default_rng(0).normal(size=(80, 2)) * [1.0, 30.0]
    few = dict(epochs=20, log_every=10, eval_samples=200, seeds=2, threads=1)
    run = fit(x, **few)
    last = run.history[-1]
    assert not run.config.target_mmd and last["mmd"] is None
    assert last["sw"] is not None and last["val_mmd"] is not None  # what the member's choice reads
    with pytest.raises(GanfitError, match="early_stop 'mmd': this run computes sw, val_sw, val_mmd"):
        fit(x, early_stop="mmd", **few)
    assert fit(x, early_stop="mmd", target_mmd=True, **few).history[-1]["mmd"] is not None
    table = members_table(run.summary["members"])  # a column no member has a value in is left out
    assert '<th class="">mmd</th>' not in table and '<th class="">val_mmd</th>' in table


@pytest.mark.parametrize("second", ["copy", "affine"])
def test_collinear_or_duplicated_columns_are_refused_before_training(tmp_path, second):
    a = np.random.default_rng(0).normal(size=60)
    b = a.copy() if second == "copy" else 3 * a + 2
    with pytest.raises(GanfitError, match="lie on one straight line"):  # arrays.check_collinear, where data are read
        fit(np.c_[a, b], tmp_path / "run")
    assert not (tmp_path / "run").exists()
    (tmp_path / "d.csv").write_text("a,b\n" + "".join(f"{float(u)!r},{float(v)!r}\n" for u, v in zip(a, b)))
    r = run_fit(str(tmp_path / "d.csv"), "--columns", "a,b", "--out", str(tmp_path / "cli"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "lie on one straight line" in r.stderr
    assert not (tmp_path / "cli").exists()


def test_resuming_a_fit_run_keeps_its_split_choice_and_comparison(tmp_path):
    out = tmp_path / "run"
    first = fit(FLIPPERS, out, **SMALL)
    assert cli.main(["train", "--resume", str(out), "--epochs", "300"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 300 and summary["split"] == first.summary["split"]
    assert summary["comparison"]["scored_on"] == "test" and "best_member" in summary
    assert ganfit.load(out).best_member == summary["best_member"]


def test_a_ctrl_c_while_comparing_is_finished_by_the_resume_it_names(tmp_path, monkeypatch, capsys):
    import ganfit.fitting

    (tmp_path / "f.csv").write_text("x\n" + "".join(f"{float(v)!r}\n" for v in FLIPPERS.to_numpy()))
    out = tmp_path / "run"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(ganfit.fitting, "baselines", interrupted)
        args = ["fit", str(tmp_path / "f.csv"), "--column", "x", "--out", str(out), "--epochs", "200", "--seeds", "2"]
        assert cli.main(args) == 130
    assert f"finish with: ganfit train --resume {out}" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["comparison"]["scored_on"] == "test"


def test_a_ctrl_c_before_the_first_checkpoint_leaves_nothing(tmp_path, monkeypatch):
    import ganfit.training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ganfit.training, "_train", interrupted)  # after the directory is made
    with pytest.raises(KeyboardInterrupt):
        fit(FLIPPERS, tmp_path / "run", **SMALL)
    assert not (tmp_path / "run").exists()


def test_one_extreme_outlier_in_the_train_part_is_said_and_each_metric_judged_apart():
    x = FLIPPERS.to_numpy().copy()
    train_rows, _, _ = split(len(x), 0.2, 0)
    x[train_rows[0]] = 1e6
    run = fit(x, **SMALL)
    lines = comparison_lines(run.summary)
    assert any(line.startswith("note: 1 train row(s) lie over") for line in lines)
    rows = {r["key"]: r for r in run.summary["comparison"]["rows"]}
    best = {n: min(rows[k][n] for k in ("isj", "cv", "mixture", "scott")) for n in ("test_ks", "test_w1")}
    for n in ("test_ks", "test_w1"):  # what the verdict says of each metric holds on the test rows
        claim = f"at or below the best expert baseline on {n}"
        assert (claim in lines[-2]) == (rows["ganfit"][n] <= best[n]), lines[-2]


def test_a_fit_kept_in_memory_saves_and_loads_with_its_d_guided_sampler(tmp_path):
    from ganfit.fitting import refine

    run = fit(FLIPPERS, **SMALL)
    x = FLIPPERS.to_numpy()[:, None]
    train, val, _ = split(len(x), 0.2, run.config.seed)
    plain = run.sample(500, member=run.best_member, seed=1)
    run.refined, run.summary["sampler"] = refine(run, run.best_member, x[train], x[val], plain)
    run.summary["sampler"]["kind"] = "d-guided"  # as if validation had kept it
    run.save(tmp_path / "run")
    again = ganfit.load(tmp_path / "run")
    assert again.refined is not None and np.array_equal(again.sample(800, seed=4), run.sample(800, seed=4))
    assert not np.array_equal(again.sample(800, seed=4), again.sample(800, member=run.best_member, seed=4))


def test_a_fit_with_a_kernel_on_its_samples_saves_loads_and_samples_as_it_measured(tmp_path):
    from ganfit.fitting import smoothed

    run = fit(FLIPPERS, **SMALL)
    s = run.summary["sampler"]
    assert set(s["smoothing"]["validation"]) == {"0.0", "0.25", "0.5", "0.75", "1.0"}  # chosen on validation
    first = {k: v["val_ks"] for k, v in s["validation"].items()}  # plain G and a D-guided step per critic
    assert set(first) == {"plain", "smooth", "sharp"} and s["critic"]["name"] == min(CRITICS, key=first.get)
    assert (s["kind"] == "d-guided") == (first[s["critic"]["name"]] < first["plain"])
    s["smoothing"] = s["smoothing"] | {"factor": 0.5, "bandwidth": [3.0]}  # as if validation had chosen it
    run.refined = smoothed(run, s, run.refined)
    run.save(tmp_path / "run")
    again = ganfit.load(tmp_path / "run")
    a = again.sample(800, seed=4)
    assert np.array_equal(a, run.sample(800, seed=4))
    moved = a - again.sample(800, member=run.best_member, seed=4) if s["kind"] == "plain" else None
    if moved is not None:  # the plain member's samples, each moved by 3 mm * N(0, 1)
        assert 2.5 < moved.std() < 3.5
    out = str(tmp_path / "s.npy")
    assert cli.main(["sample", str(tmp_path / "run"), "-n", "800", "--seed", "4", "--out", out]) == 0
    assert np.array_equal(np.load(tmp_path / "s.npy"), a)


def test_the_flow_baseline_is_compared_on_the_test_rows_when_asked_and_again_on_resume(tmp_path, capsys):
    (tmp_path / "f.csv").write_text("x\n" + "".join(f"{float(v)!r}\n" for v in FLIPPERS.to_numpy()))
    out, quick = tmp_path / "run", ["--epochs", "200", "--seeds", "2", "--log-every", "50", "--threads", "1"]
    assert cli.main(["fit", str(tmp_path / "f.csv"), "--column", "x", "--flow", "--out", str(out), *quick]) == 0
    assert "normalizing flow" in capsys.readouterr().out
    assert json.loads((out / "split.json").read_text())["flow"] is True
    rows = {r["key"]: r for r in json.loads((out / "summary.json").read_text())["comparison"]["rows"]}
    assert 0 < rows["flow"]["test_ks"] < 1 and rows["flow"]["test_ks"] != rows["cv"]["test_ks"]
    assert cli.main(["train", "--resume", str(out), "--epochs", "250"]) == 0  # concluded again: the flow stays
    assert "flow" in {r["key"] for r in json.loads((out / "summary.json").read_text())["comparison"]["rows"]}


def test_asking_for_the_flow_without_zuko_is_refused_before_training(tmp_path, monkeypatch, capsys):
    from ganfit.measure import baselines as B

    monkeypatch.setattr(B, "zuko", None)
    (tmp_path / "f.csv").write_text("x\n" + "".join(f"{float(v)!r}\n" for v in FLIPPERS.to_numpy()))
    assert cli.main(["fit", str(tmp_path / "f.csv"), "--column", "x", "--flow", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'ganfit[flow]'" in err[0]
    assert not (tmp_path / "r").exists()


def test_a_fit_of_two_kinds_of_g_keeps_the_kind_whose_finished_sampler_validation_prefers(tmp_path):
    from ganfit.fitting import final, pick_kind, sampler_words

    out = tmp_path / "run"
    run = fit(FLIPPERS, out, epochs=200, seeds=4, per_member="g_activation=elu,relu,relu,elu", log_every=50, threads=1)
    kinds, s = run.summary["kinds"], run.summary["sampler"]
    assert set(kinds) == {"elu", "relu"} and run.G.kinds == ["elu", "relu", "relu", "elu"]
    assert run.G.kinds[kinds["elu"]["member"]] == "elu" and run.G.kinds[kinds["relu"]["member"]] == "relu"
    for k in kinds.values():  # each kind's member: its own best by fit's rank rule, among its kind alone
        same = [m for m in range(4) if run.G.kinds[m] == run.G.kinds[k["member"]]]
        table = [run.summary["members"][m] for m in same]
        assert k["member"] == same[choose(table, "rank", 1)]
    kept = s["g_activation"]
    assert run.best_member == s["member"] == kinds[kept]["member"] and final(s) == kinds[kept]["validation"]
    assert [m["g_activation"] for m in run.summary["members"]] == run.G.kinds  # the report's member table
    assert f" {kept} G" in sampler_words(s)  # the closing line names the kind `ganfit sample` draws from
    other = next(k for k in kinds if k != kept)
    mine, theirs = (
        [v[n] for n in ("val_ks", "val_w1")] for v in (kinds[kept]["validation"], kinds[other]["validation"])
    )
    assert sum(a < b for a, b in zip(theirs, mine)) <= sum(a < b for a, b in zip(mine, theirs))  # ranks
    records = {
        k: (None, None, {"smoothing": {"factor": 0.0, "validation": {"0.0": v}}})
        for k, v in (("a", {"val_ks": 0.1, "val_w1": 0.3}), ("b", {"val_ks": 0.2, "val_w1": 0.2}))
    }
    assert pick_kind(records, ["val_ks", "val_w1"]) == "a"  # one rank each: the lower KS
    again = ganfit.load(out)  # the kinds come back from the config: the same samples
    assert again.G.kinds == run.G.kinds
    assert np.array_equal(again.sample(500, seed=3), run.sample(500, seed=3))
