"""Per set, the mean test score of round 0 and of the round validation picks among 0..R (R = 1, 2, 3); usage: maxr.py LOG..."""
import ast, sys, numpy as np
rows = [ast.literal_eval(l) for f in sys.argv[1:] for l in open(f) if l.startswith("{")]
for R in (1, 2, 3):
    for s in sorted({r["set"].rsplit("-split", 1)[0] for r in rows}):
        rs = [r for r in rows if r["set"].startswith(s)]
        pick = lambda r: min((k for k in r if k != "set" and k <= R), key=lambda k: (r[k][0], k))
        print(R, s, "r0 %.4f by-val %.4f" % (np.mean([r[0][1] for r in rs]), np.mean([r[pick(r)][1] for r in rs])))
