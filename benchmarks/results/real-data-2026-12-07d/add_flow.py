"""The flow's column for runs made without --flow: the flow `ganfit fit --flow` would fit (same train
rows, same random stream, as real_data.one), scored on the same test rows; the GAN's cells unchanged.

    python add_flow.py IN.json OUT.json
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402

from ganfit.config import Config  # noqa: E402
from ganfit.fitting import scored_samples, split  # noqa: E402
from ganfit.measure import baselines as B  # noqa: E402
from ganfit.measure import metrics as M  # noqa: E402


def main() -> None:
    rows = json.loads(Path(sys.argv[1]).read_text())
    n = scored_samples(Config())
    for r in rows:
        x = np.asarray(RD.SETS[r["set"]](), dtype=np.float64)
        x = x.reshape(len(x), -1)
        tr, _, te = split(len(x), 0.2, r["split"], 0.2)
        started = time.perf_counter()
        samples, _ = B.fit_flow(x[tr], n, np.random.default_rng([r["split"], B.STREAMS["flow"]]))
        r["flow_wall"] = None  # timed on this process's threads, not a fit's: kept apart from the table's
        r["flow_wall_here"] = time.perf_counter() - started
        metric = r["metric"].replace("test_", "val_")
        r["scores"]["flow"] = float(M.against(samples[None], x[te], x[tr].std(0))[metric][0])
        print(r["set"], r["split"], round(r["scores"]["flow"], 4), round(r["flow_wall_here"], 1), flush=True)
    Path(sys.argv[2]).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
