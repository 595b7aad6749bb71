"""Screen (2026-12-07): rounds of rejection on the kept runs of `benchmarks/real_data.py --keep DIR`, each
round a critic fitted on the train part against the previous round's samples; usage: rounds.py DIR [sharp|smooth|R1,STEPS]
[SEED_SHIFT] [ROUNDS]. Then maxr.py LOG...: the test score when validation picks among rounds 0..R."""
"""Screen: rounds of rejection, each with a sharp critic fitted against the previous round's samples."""
import glob, sys
import numpy as np, torch
import ganfit
from ganfit.measure import metrics as M
from ganfit.sampler import CRITICS, fit_critic, threshold
arg = sys.argv[2] if len(sys.argv) > 2 else "sharp"
R1, STEPS = CRITICS[arg] if arg in CRITICS else (float(arg.split(",")[0]), int(arg.split(",")[1]))
SEED_SHIFT = int(sys.argv[3]) if len(sys.argv) > 3 else 0
ROUNDS = range(1, int(sys.argv[4]) + 1) if len(sys.argv) > 4 else (1, 2, 3)
out = []
for d in sorted(glob.glob(sys.argv[1] + "/*")):
    run = ganfit.load(d)
    tr = np.load(d + "/target.npy"); va = np.load(d + "/validation.npy"); te = np.load(d + "/test.npy")
    seed, scale, n = run.config.seed, tr.std(0), 10_000
    first = M.validation_names(tr.shape[1])[0]
    score = lambda s, part: float(M.against(s[None], part, scale)[first][0])
    pool = run.sample(200_000, seed=seed + 11)
    rng = np.random.default_rng(seed + SEED_SHIFT)
    row = {"set": d.split("/")[-1], 0: (score(pool[:n], va), score(pool[:n], te), len(pool))}
    for r in ROUNDS:
        critic = fit_critic(tr, pool[:20_000], run.frame, seed + r + SEED_SHIFT, R1, STEPS)
        m = threshold(critic, pool[:20_000], run.frame)
        with torch.no_grad():
            z = run.frame.to_frame(torch.as_tensor(pool[20_000:], dtype=torch.float64)).float()
            logit = critic(z[None])[0, :, 0].double().numpy()
        pool = pool[20_000:][rng.random(len(logit)) < np.exp(np.minimum(logit - m, 0))]
        row[r] = (score(pool[:n], va), score(pool[:n], te), len(pool))
        if len(pool) < 30_000: break
    out.append(row); print(row, flush=True)
for s in sorted({r["set"].rsplit("-split", 1)[0] for r in out}):
    rs = [r for r in out if r["set"].startswith(s)]
    line = " ".join("r%d %.4f" % (k, np.mean([r.get(k, r[max(x for x in r if x != 'set')])[1] for r in rs])) for k in (0, 1, 2, 3))
    pick = lambda r: min((k for k in r if k != "set"), key=lambda k: (r[k][0], k))
    print(s, "test:", line, "by-val %.4f" % np.mean([r[pick(r)][1] for r in rs]), [pick(r) for r in rs])
