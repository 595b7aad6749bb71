import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from ganfit import Config, GanfitError, cli, train
from ganfit.sweep import run_sweep
from ganfit.sweep.file import load
from ganfit.sweep.tables import read_csv

QUICK = "[base]\nepochs = 40\nlog_every = 20\neval_samples = 200\ncheckpoint_every = 20\n"


def sweep_file(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def same_number(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)  # the same computation, up to summation order


def assert_same_results(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        bad = {k: (x[k], y[k]) for k in x if not same_number(x[k], y[k])}
        assert not bad, (x["point"], x["seed"], bad)


# ---- the sweep file


def test_axes_make_the_grid_in_file_order(tmp_path):
    s = load(
        sweep_file(
            tmp_path,
            'seeds = 3\nsuccess = "ks < 0.1"\n' + QUICK + "[axes]\nlr_d = [1e-4, 2e-4]\n"
            "g_hidden = {range = [10, 30], step = 10}\nlr_g = {log = [1e-4, 1e-2], num = 3}\n",
        )
    )
    assert s.axes == ["lr_d", "g_hidden", "lr_g"] and len(s.points) == 2 * 3 * 3
    assert [p.values for p in s.points[:4]] == [
        {"lr_d": 1e-4, "g_hidden": 10, "lr_g": 1e-4},
        {"lr_d": 1e-4, "g_hidden": 10, "lr_g": 1e-3},
        {"lr_d": 1e-4, "g_hidden": 10, "lr_g": 1e-2},
        {"lr_d": 1e-4, "g_hidden": 20, "lr_g": 1e-4},
    ]
    assert s.points[0].id == "lr_d=0.0001,g_hidden=10,lr_g=0.0001"
    assert all(p.config.seeds == 3 and p.config.epochs == 40 for p in s.points)
    assert s.points[5].config.g_hidden == 20 and s.points[5].config.lr_g == 1e-2


def test_ranges_by_count_ints_and_random_draws(tmp_path):
    text = (
        "seeds = 2\nrandom_seed = 7\n" + QUICK + "[axes]\nd_hidden = {range = [10, 20], num = 4}\n"
        "beta1 = {uniform = [0.3, 0.9], count = 5}\nlr_g = {loguniform = [1e-5, 1e-3], count = 5}\n"
        'loss = {choice = ["ns", "lsgan"], count = 5}\n'
    )
    s = load(sweep_file(tmp_path, text))
    assert sorted({p.values["d_hidden"] for p in s.points}) == [10, 13, 17, 20]
    assert len(s.points) == 4 * 5
    draws = [(p.values["beta1"], p.values["lr_g"], p.values["loss"]) for p in s.points[:5]]
    assert all(0.3 <= b <= 0.9 and 1e-5 <= lr <= 1e-3 and loss in ("ns", "lsgan") for b, lr, loss in draws)
    assert [p.values for p in load(sweep_file(tmp_path, text, "again.toml")).points] == [p.values for p in s.points]
    other = load(sweep_file(tmp_path, text.replace("random_seed = 7", "random_seed = 8"), "other.toml"))
    assert [p.values["beta1"] for p in other.points[:5]] != [b for b, _, _ in draws]


def test_base_from_a_config_file_and_a_recipe_then_flags(tmp_path):
    (tmp_path / "c.toml").write_text(Config(lr_d=3e-4, epochs=77).to_toml())
    s = load(sweep_file(tmp_path, 'config = "c.toml"\nseeds = 2\n[axes]\nlr_g = [1e-4, 2e-4]\n'), {"epochs": 5})
    assert all(p.config.lr_d == 3e-4 and p.config.epochs == 5 and p.config.seeds == 2 for p in s.points)
    try:
        from ganfit import recipes
    except ImportError:
        pytest.skip("no recipes yet")
    s = load(sweep_file(tmp_path, 'recipe = "ring"\n[axes]\nr1 = [0.1, 1.0]\n', "r.toml"), {"seeds": 4})
    assert s.points[0].config.target == recipes.load("ring").target and s.points[1].config.r1 == 1.0
    assert s.seeds == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("[axes]\nlr_dd = [1e-4]\n", "[axes] unknown field 'lr_dd'"),
        ("[base]\nepoch = 5\n", "[base] unknown field 'epoch'"),
        ("epochs = 5\n", "unknown key 'epochs' (config fields go under [base])"),
        ("[axes]\nlr_d = {range = [1e-4], num = 3}\n", "range must be [low, high]"),
        ("[axes]\nlr_d = {range = [1e-4, 1e-3]}\n", "a range needs num = N or step = S"),
        ("[axes]\nlr_d = {range = [1e-3, 1e-4], step = 1e-4}\n", "is empty"),
        ("[axes]\nlr_d = {log = [0, 1e-3], num = 3}\n", "log needs positive ends"),
        ("[axes]\nlr_d = {log = [1e-4, 1e-3], num = 0}\n", "num must be an integer from 1 to 10000"),
        ("[axes]\nlr_d = []\n", "an empty list"),
        ("[axes]\nlr_d = {uniform = [1e-4, 1e-3]}\n", "count must be an integer"),
        ("[axes]\nlr_d = {uniform = [0.1, 0.2], count = 2}\nlr_g = {uniform = [0.1, 0.2], count = 3}\n", "one count"),
        ("[axes]\nloss = {range = [1, 2], num = 2}\n", "loss is a str field"),
        ("[axes]\nseed = [0, 1]\n", "'seed' cannot be an axis"),
        ("[axes]\ng_hidden = [10, -5]\n", "point g_hidden=-5: g_hidden must be > 0"),
        ('success = "ks <"\n', "success criterion 'ks <': ends too early"),
        ('success = "modes == 25"\n', "unknown metric 'modes'"),
        ('success = "ks < 0.03"\n[axes]\ntarget = ["gaussian", "ring"]\n', "unknown metric 'ks'"),
        ("seeds = 0\n", "seeds must be > 0"),
        ("seeds = 2\n[base]\nseeds = 3\n", "seeds is given twice"),
        ('recipe = "nope"\n', "unknown recipe 'nope'"),
        ("[axes\n", "not valid TOML"),
    ],
)
def test_bad_sweep_files_are_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = sweep_file(tmp_path, text)
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()


def test_a_flag_that_sets_a_swept_field_is_refused(tmp_path, capsys):
    path = sweep_file(tmp_path, "[axes]\nlr_d = [1e-4, 2e-4]\n")
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "o"), "--lr-d", "1e-3"]) == 2
    assert "--lr-d sets lr_d, which this sweep varies" in capsys.readouterr().err
    assert cli.main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err


# ---- running one, here


@pytest.mark.bits
def test_sweep_runs_every_point_and_writes_the_tables(tmp_path, capsys):
    path = sweep_file(tmp_path, 'seeds = 3\nsuccess = "ks < 0.999"\n' + QUICK + "[axes]\nlr_d = [1e-4, 2e-4, 1e30]\n")
    out = tmp_path / "out"
    code = cli.main(["sweep", str(path), "--out", str(out), "--epochs", "30", "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = read_csv(out / "results.csv")
    assert [(r["point"], r["seed"]) for r in rows] == [
        (p, str(s)) for p in ("lr_d=0.0001", "lr_d=0.0002", "lr_d=1e+30") for s in range(3)
    ]
    assert {"point", "member", "seed", "lr_d", "status", "success", "ks", "w1", "mean", "learned"} <= set(rows[0])
    diverged = [r for r in rows if r["lr_d"] == "1e+30"]
    assert {r["status"] for r in diverged} == {"diverged"} and {r["success"] for r in diverged} == {"false"}
    points = {r["point"]: r for r in read_csv(out / "points.csv")}
    assert points["lr_d=1e+30"]["diverged"] == "3" and points["lr_d=1e+30"]["rate"] == "0.0"
    for p in points.values():
        members = [r for r in rows if r["point"] == p["point"]]
        k = sum(r["success"] == "true" for r in members)
        assert p["successes"] == str(k) and p["members"] == "3" and float(p["ci_low"]) <= k / 3 <= float(p["ci_high"])
        ks = sorted(float(r["ks"]) for r in members)
        assert float(p["median_ks"]) == pytest.approx(ks[1])
    summary = json.loads((out / "points" / "lr_d=0.0001" / "summary.json").read_text())
    assert summary["epochs"] == 30 and summary["members_total"] == 3  # --epochs applied to every point
    assert "best points by success rate (ks < 0.999" in captured.out
    assert captured.err.count("[") >= 3  # a line per finished point (not a terminal: no bar)


@pytest.mark.bits
def test_rerun_skips_finished_points_and_resumes_unfinished_ones(tmp_path, capsys):
    # g_hidden changes shapes: the two points train alone (as the second one does when resumed below)
    path = sweep_file(tmp_path, "seeds = 2\n" + QUICK + "[axes]\ng_hidden = [20, 30]\n")
    sweep = load(path)
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=1)
    first = read_csv(out / "results.csv")
    done = out / "points" / "g_hidden=20"
    stamp = (done / "summary.json").stat().st_mtime_ns
    # the other point as a killed run leaves it: a checkpoint half way, no summary
    unfinished = out / "points" / "g_hidden=30"
    for p in list(unfinished.iterdir()):
        p.unlink()
    unfinished.rmdir()
    train(sweep.points[1].config.replace(epochs=20), unfinished)
    (unfinished / "summary.json").unlink()
    capsys.readouterr()
    results = run_sweep(load(path), out, workers=1)
    assert "1 already done, 1 to run" in capsys.readouterr().err
    assert (done / "summary.json").stat().st_mtime_ns == stamp
    assert results.by_id["g_hidden=20"].get("skipped") and not results.by_id["g_hidden=30"].get("skipped")
    assert_same_results(read_csv(out / "results.csv"), first)  # resumed at epoch 20: bit for bit the same
    run_sweep(load(path), out, workers=1)
    assert "2 already done, 0 to run" in capsys.readouterr().err
    from ganfit.pictures.report import write_report

    page = write_report(out).read_text()
    assert "<h2>Sweep points</h2>" in page and page.count("g_hidden=30") >= 2 and "ci_low" in page


def test_points_that_differ_in_adam_settings_train_as_one_ensemble_and_each_gets_its_own_run(tmp_path, capsys):
    from ganfit import load as load_run

    text = "seeds = 3\n" + QUICK + "[axes]\nlr_d = [1e-4, 5e-4]\nbeta1 = [0.5, 0.9]\ng_hidden = [20, 30]\n"
    sweep = load(sweep_file(tmp_path, text))
    out = tmp_path / "out"
    results = run_sweep(sweep, out, workers=1)
    assert "8 to run on local (1 workers); 8 of them as 2 ensemble(s) of points" in capsys.readouterr().err
    groups = sorted((out / "groups").iterdir())
    assert len(groups) == 2  # one per g_hidden: the shapes differ
    assert {Config.from_toml(g / "config.toml").seeds for g in groups} == {12}
    for p in sweep.points:
        d = out / "points" / p.id
        own = Config.from_toml(d / "config.toml")  # the point's own config, with the group's thread count
        assert own.threads >= 1 and own.replace(threads=p.config.threads) == p.config
        run = load_run(d)
        assert run.members == 3 and run.G.weights[0].shape[0] == 3
        assert [r["member"] for r in run.history[:3]] == [0, 1, 2] and len(run.history) == 3 * 3
        alone = train(p.config.replace(threads=1))  # the same point trained by itself: the same numbers
        mine = results.by_id[p.id]["summary"]
        assert mine["members_total"] == 3 and [m["seed"] for m in mine["members"]] == [0, 1, 2]
        for m, a in zip(mine["members"], alone.summary["members"]):
            assert m["ks"] == pytest.approx(a["ks"], abs=1e-4) and m["mean"] == pytest.approx(a["mean"], rel=1e-4)
        assert mine["median"]["ks"] == pytest.approx(alone.summary["median"]["ks"], abs=1e-4)
        x, y = run.sample(50, member=2), alone.sample(50, member=2)
        assert abs(x - y).max() < 1e-3
    run_sweep(sweep, out, workers=1)
    assert "8 already done, 0 to run" in capsys.readouterr().err
    run_sweep(sweep, tmp_path / "two", workers=2)  # the groups do not depend on the workers: the same numbers
    assert_same_results(read_csv(tmp_path / "two" / "results.csv"), read_csv(out / "results.csv"))


@pytest.mark.parametrize(
    "seeds, extra, sizes",
    [
        (4, "", [4, 4]),  # 400 samples per step per point: 4 points per group
        (16, "", [1] * 8),  # 1,600 already: packing gains nothing, each point alone
        (4, "pictures = true\n", [1] * 8),  # pictures and TensorBoard are per run: alone
        (4, "batch = 50\n", [8]),  # 200 per point: all 8 fit in one
        (16, 'device = "cuda"\n', [8]),  # on a GPU an ensemble gains per member far wider: one group
        (1024, 'device = "cuda"\n', [4, 4]),  # 102,400 samples per point: at most 5 per GPU group
    ],
)
def test_groups_pack_points_that_differ_in_adam_settings_up_to_a_width(tmp_path, seeds, extra, sizes):
    from ganfit.sweep.driver import groups

    text = f"seeds = {seeds}\n[base]\n{extra}[axes]\nlr_d = [1e-4, 2e-4, 3e-4, 4e-4]\nbeta1 = [0.5, 0.9]\n"
    points = load(sweep_file(tmp_path, text)).points
    got = groups(points)
    assert sorted(len(g) for g in got) == sorted(sizes)
    assert sorted(p.id for g in got for p in g) == sorted(p.id for p in points)  # each point once
    shaped = load(sweep_file(tmp_path, "seeds = 4\n[axes]\nlr_d = [1e-4, 2e-4]\ng_hidden = [10, 20]\n", "b.toml"))
    assert all(len({p.config.g_hidden for p in g}) == 1 for g in groups(shaped.points))  # shapes never mix


def test_a_point_dir_with_another_config_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    run_sweep(load(sweep_file(tmp_path, "seeds = 1\n" + QUICK + "[axes]\nlr_g = [1e-4]\n")), out, workers=1)
    path = sweep_file(
        tmp_path,
        "seeds = 1\n" + QUICK.replace("eval_samples = 200", "eval_samples = 300") + "[axes]\nlr_g = [1e-4]\n",
        "b.toml",
    )
    assert cli.main(["sweep", str(path), "--out", str(out)]) == 2
    assert "was trained with eval_samples = 200, this sweep asks for 300" in capsys.readouterr().err


def test_a_failing_point_is_recorded_and_the_others_finish(tmp_path, capsys):
    # the fast engine does not cover spectral norm or gp: those points raise when they build their games
    text = "seeds = 2\n" + QUICK + 'gradients = "fast"\n[axes]\nspectral_norm = [false, true]\ngp = [0.0, 1.0]\n'
    out = tmp_path / "out"
    assert cli.main(["sweep", str(sweep_file(tmp_path, text)), "--out", str(out), "--workers", "1"]) == 1
    assert "3 point(s) did not finish" in capsys.readouterr().err
    points = {r["point"]: r for r in read_csv(out / "points.csv")}
    failed = [p for p in points.values() if p["status"] == "error"]
    assert len(failed) == 3 and all("gradients 'fast' covers" in p["error"] for p in failed)
    assert points["spectral_norm=false,gp=0.0"]["status"] == "finished"
    rows = read_csv(out / "results.csv")
    assert [r["status"] for r in rows if r["point"] == "spectral_norm=true,gp=0.0"] == ["error", "error"]
    assert "gradients 'fast' covers" in (out / "points" / "spectral_norm=true,gp=0.0" / "error.txt").read_text()
    run_sweep(load(tmp_path / "sweep.toml"), out, workers=1)  # a rerun tries the failed points again
    assert "1 already done, 3 to run" in capsys.readouterr().err
    assert sorted(r["status"] for r in read_csv(out / "points.csv")) == ["error", "error", "error", "finished"]


# ---- Ray: a real local cluster, loopback only


@pytest.fixture(scope="module")
def ray_cluster():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # bind and talk on 127.0.0.1 only
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # a new one, always
    assert all(n["NodeManagerAddress"] == "127.0.0.1" for n in ray.nodes())
    yield ray
    ray.shutdown()


def test_ray_gives_the_local_engines_results(tmp_path, ray_cluster, capsys):
    path = sweep_file(tmp_path, 'seeds = 3\nsuccess = "ks < 0.999"\n' + QUICK + "[axes]\nlr_d = [1e-4, 5e-4, 1e30]\n")
    run_sweep(load(path), tmp_path / "local", workers=1)
    results = run_sweep(load(path), tmp_path / "ray", executor="ray")
    assert {r["pid"] for r in results.by_id.values()}.isdisjoint({os.getpid()})  # ran in Ray's workers
    assert_same_results(read_csv(tmp_path / "ray" / "results.csv"), read_csv(tmp_path / "local" / "results.csv"))
    for name in ("points.csv",):
        a, b = read_csv(tmp_path / "ray" / name), read_csv(tmp_path / "local" / name)
        for r in a + b:
            r.pop("wall_seconds")
        assert_same_results(a, b)


def test_a_ray_worker_killed_mid_sweep_loses_and_repeats_nothing(tmp_path, ray_cluster):
    # long enough (~2 s on the compiled step) that the killer finds a group between its first checkpoint and its end
    text = "seeds = 2\n[base]\nepochs = 4000\nlog_every = 500\neval_samples = 200\ncheckpoint_every = 100\n"
    path = sweep_file(tmp_path, text + "[axes]\nlr_g = [1e-4, 2e-4, 3e-4, 4e-4]\n")
    out = tmp_path / "out"
    killed: list[tuple[str, int]] = []

    def kill_one():  # the first group of points training in a Ray worker, once it has a checkpoint
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for d in sorted((out / "groups").glob("*")) if (out / "groups").is_dir() else []:
                try:
                    pid = int((d / ".lock").read_text().strip() or 0)
                except (OSError, ValueError):
                    continue
                if pid and pid != os.getpid() and (d / "checkpoint.safetensors").exists():
                    if not (d / "summary.json").exists():
                        os.kill(pid, signal.SIGKILL)
                        killed.append((d.name, pid))
                        return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one, daemon=True)
    killer.start()
    results = run_sweep(load(path), out, executor="ray")  # 4 points x 2 seeds: one ensemble
    killer.join()
    assert killed, "no worker was killed"
    group, pid = killed[0]
    mine = [r for r in results.by_id.values() if r["group"] == group]
    assert len(mine) == 4 and all(r["pid"] != pid for r in mine)  # the group was retried in another worker
    rows = read_csv(out / "results.csv")
    keys = [(r["point"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == 4 * 2
    assert {r["status"] for r in rows} == {"ok"} and {r["point_status"] for r in rows} == {"finished"}
    # resumed from its checkpoint, the killed group ends where an uninterrupted run of it ends
    config = Config.from_toml(out / "groups" / group / "config.toml")
    point_of = {p.config.lr_g: p.id for p in load(path).points}
    lr_g = config.member_values()["lr_g"]
    for k, m in enumerate(train(config).summary["members"]):
        (r,) = [r for r in rows if r["point"] == point_of[lr_g[k]] and r["seed"] == str(m["seed"])]
        assert float(r["ks"]) == pytest.approx(m["ks"], rel=1e-9) and float(r["mean"]) == pytest.approx(m["mean"])


def test_bad_ray_addresses_are_one_line(tmp_path, capsys):
    path = sweep_file(tmp_path, "seeds = 1\n" + QUICK)
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "o"), "--address", "auto"]) == 2
    assert "--address names a Ray cluster: it needs --executor ray" in capsys.readouterr().err
    args = ["sweep", str(path), "--out", str(tmp_path / "o"), "--executor", "ray"]
    assert cli.main([*args, "--address", "127.0.0.1:1"]) == 2  # nothing listens on loopback port 1
    assert "--address 127.0.0.1:1: no Ray cluster answers there" in capsys.readouterr().err
    assert cli.main([*args, "--address", "nowhere"]) == 2
    assert "expected auto or HOST:PORT" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_sweep_errors_name_the_problem(tmp_path):
    with pytest.raises(GanfitError, match="unknown executor"):
        run_sweep(load(sweep_file(tmp_path, "seeds = 1\n" + QUICK)), tmp_path / "o", executor="dask")
