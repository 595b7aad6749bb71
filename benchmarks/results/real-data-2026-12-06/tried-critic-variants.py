"""Scratch: re-conclude kept fit runs with sampler variants, score on the test part."""
import sys, json, glob, math
import numpy as np, torch
sys.path.insert(0, '/work/main/benchmarks')
from ganfit import run as R
from ganfit import sampler as S
from ganfit.fitting import choose, refine, smoothing, SMOOTHING
from ganfit.measure import metrics as M
from ganfit.game.noise import make_noise
torch.set_num_threads(1)

def load_parts(d):
    tr = np.load(f'{d}/target.npy'); va = np.load(f'{d}/validation.npy'); te = np.load(f'{d}/test.npy')
    return tr, va, te

def scorer(te, tr):
    scale = tr.std(0)
    def score(s, names=None):
        r = M.against(s[None], te, scale)
        return {k: float(v[0]) for k, v in r.items()}
    return score

def variant_critic(run, member, tr, va, r1, steps, n, seed):
    S.CRITIC_R1, S.CRITIC_STEPS = r1, steps
    plain = run.sample(n, member=member, seed=seed + 1)
    refined, rec = refine(run, member, tr, va, plain)
    samples = refined.sample(n, seed + 3)[0]
    return plain, samples, rec

def smooth_pick(samples, tr, va, seed):
    sm = smoothing(samples, tr, va, seed)
    h = np.asarray(sm['bandwidth'])
    e = np.random.default_rng(seed + 5).standard_normal(samples.shape)
    return samples + h * e, sm['factor']

out = {}
for d in sorted(glob.glob(sys.argv[1] + '/*-split*')):
    run = R.load(d)
    tr, va, te = load_parts(d)
    name = d.split('/')[-1]
    score = scorer(te, tr)
    key = M.validation_names(tr.shape[1])[0].replace('val_', '')
    n, seed = run.config.eval_samples, run.config.seed
    best = run.summary['best_member']
    comp = {r['key']: r for r in run.summary['comparison']['rows']}
    mk = 'test_' + key
    res = {'ganfit': comp['ganfit'][mk], 'best_exp': min(comp[k][mk] for k in ('isj','cv','mixture') if k in comp and comp[k][mk] is not None)}
    for r1, steps in [(0.1, 600), (0.03, 600), (0.01, 600), (0.1, 1500), (0.01, 1500)]:
        plain, samp, rec = variant_critic(run, best, tr, va, r1, steps, n, seed)
        kept = rec['kind'] == 'd-guided'
        use = samp if kept else plain
        sm, f = smooth_pick(use, tr, va, seed)
        res[f'r{r1}s{steps}'] = score(sm)['val_' + key]
        res[f'r{r1}s{steps}_forced'] = score(smooth_pick(samp, tr, va, seed)[0])['val_' + key]
    print(name, ' '.join(f'{k}={v:.3f}' for k, v in res.items()), flush=True)
    out[name] = res
json.dump(out, open(sys.argv[2], 'w'))
