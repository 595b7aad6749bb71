import json

import numpy as np
import torch
from safetensors.torch import load_file

from ganfit import Config, train
from ganfit.game import Game

CFG = Config(seeds=3, epochs=80, log_every=10, eval_samples=300)


def poison_member_1_after(epoch: int, monkeypatch):
    """Member 1's G becomes NaN once `epoch` (0-based) has been played: at the end of the call that
    played it (the compiled step plays up to the next metric row in one call)."""
    play = Game.play

    def poisoned(self, drawn, first, last):
        out = play(self, drawn, first, last)
        if self.epochs_done - (last - first) <= epoch < self.epochs_done:
            with torch.no_grad():
                self.G.weights[1][1].fill_(float("nan"))
        return out

    monkeypatch.setattr(Game, "play", poisoned)


def test_a_diverged_member_is_flagged_and_saved_at_its_last_finite_state(tmp_path, monkeypatch):
    clean = train(CFG, tmp_path / "clean")
    train(CFG.replace(epochs=31), tmp_path / "before")  # member 1's last finite checkpoint: epoch 30
    poison_member_1_after(35, monkeypatch)
    run = train(CFG, tmp_path / "sick")
    summary = json.loads((tmp_path / "sick" / "summary.json").read_text())
    m = summary["members"]
    assert [x["status"] for x in m] == ["ok", "diverged", "ok"] and m[1]["status_epoch"] == 40
    assert summary["diverged"] == 1 and np.isfinite(m[1]["mean"])
    rows = [json.loads(line) for line in (tmp_path / "sick" / "metrics.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows if r["member"] == 1][:6] == ["ok"] * 4 + ["diverged"] * 2
    saved = load_file(tmp_path / "sick" / "weights.safetensors")
    ref = load_file(tmp_path / "clean" / "weights.safetensors")
    old = load_file(tmp_path / "before" / "weights.safetensors")
    for name, w in saved.items():
        assert torch.isfinite(w).all()
        assert torch.equal(w[[0, 2]], ref[name][[0, 2]])  # the others trained on, untouched
        assert torch.equal(w[1], old[name][1])
    assert run.summary["members"][0]["ks"] == clean.summary["members"][0]["ks"]


def test_early_stopping_freezes_members_and_ends_the_run_when_all_have_stopped(tmp_path):
    # delta = 1: no KS decrease ever counts as improvement after the first check, so every member
    # stops after `patience` more log intervals, at epoch 20; the run learns so at the next log row
    # (its metrics are computed while training goes on) and ends after epoch 30.
    cfg = CFG.replace(early_stop="ks", early_stop_patience=2, early_stop_delta=1.0)
    run = train(cfg, tmp_path / "es")
    assert run.summary["status"] == "all members stopped" and run.summary["epochs"] == 31
    assert [m["status"] for m in run.summary["members"]] == ["stopped"] * 3
    assert all(m["status_epoch"] == 20 for m in run.summary["members"])
    same = train(CFG.replace(epochs=21), tmp_path / "plain")
    for p, q in zip(run.G.parameters(), same.G.parameters()):
        assert torch.equal(p, q)


def test_a_diverged_member_never_counts_as_learned_though_its_last_finite_state_did():
    from ganfit.game import make_target
    from ganfit.rundir import layout

    final = {"learned": np.array([True, True, True]), "ks": np.array([0.01, 0.02, 0.01])}
    statuses = [("ok", None), ("diverged", 40), ("ok", None)]
    s = layout.summary(CFG, make_target(CFG.target), final, statuses, layout.Outcome("finished", 80, 1.0, 80))
    assert s["learned"] == 2 and [m["learned"] for m in s["members"]] == [True, False, True]
