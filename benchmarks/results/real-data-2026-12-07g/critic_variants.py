"""How much the critics' minibatches alone move a fit: fit's steps after training (critics, kernel, kind,
comparison) again on the runs the screen kept, with the critics' batches drawn as fit draws them
(`as-is`, which must give the screen's scores) and from other seeds (sampler.batches' seed + OFFSET);
one JSON line per run and variant, its test scores.

    python critic_variants.py /tmp/keep-g quakes-depth,rivers 0:20 OUT.jsonl
"""

import json
import sys
from pathlib import Path

import torch
from again import conclude_again

from ganfit import fitting, sampler

VARIANTS = {"as-is": 0, "batches+1000": 1000, "batches+2000": 2000, "bagged3": None}  # the batches' seed offset
batches, fit_critics = sampler.batches, sampler.fit_critics


class Mean(torch.nn.Module):
    """The mean logit of several critics (bagged3: each spec's critic on three draws of its batches)."""

    def __init__(self, critics):
        super().__init__()
        self.critics = torch.nn.ModuleList(critics)

    def forward(self, x):
        return sum(c(x) for c in self.critics) / len(self.critics)


def bagged(real, fakes, frame, seed, specs):
    draws = [fit_critics(real, fakes, frame, seed + o, specs) for o in (0, 1000, 2000)]
    return [Mean(list(cs)) for cs in zip(*draws)]


keep, sets, (first, n), out = Path(sys.argv[1]), sys.argv[2].split(","), map(int, sys.argv[3].split(":")), sys.argv[4]
for name in sets:
    for s in range(first, first + n):
        for variant, offset in VARIANTS.items():
            sampler.batches = lambda n_real, n_fake, seed, steps, o=offset or 0: batches(
                n_real, n_fake, seed + o, steps
            )
            fitting.sampler_critics = bagged if offset is None else fit_critics
            run = conclude_again(keep / f"{name}-split{s}")
            comp = run.summary["comparison"]
            scores = {r["key"]: r[comp["metric"]] for r in comp["rows"]}
            s_ = run.summary["sampler"]
            line = {
                "set": name,
                "split": s,
                "variant": variant,
                "scores": scores,
                "critic": s_.get("critic", {}).get("name"),
                "kind": s_["kind"],
                "g": s_.get("g_activation"),
            }
            with open(out, "a") as fh:
                fh.write(json.dumps(line) + "\n")
            print(name, s, variant, round(scores["ganfit"], 4), line["critic"], line["kind"], flush=True)
