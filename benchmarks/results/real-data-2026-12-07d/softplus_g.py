"""A screen: fit1d with G monotone in its 1-D noise, its weights softplus(V) > 0 and tanh between
(a g_model, so torch's autograd plays it: about 2.5x a fit's time), one JSON line per set and split.

    FIELDS='{"lr_g": 1e-3}' python softplus_g.py quakes-depth,rivers 0:5 OUT.jsonl
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import real_data as RD  # noqa: E402


class MonoG(nn.Module):
    """1 -> 50 -> 50 -> 1, tanh, every weight softplus of a parameter: increasing in z."""

    def __init__(self, hidden: int = 50):
        super().__init__()
        self.w1, self.b1 = nn.Parameter(torch.empty(hidden, 1)), nn.Parameter(torch.empty(hidden))
        self.w2, self.b2 = nn.Parameter(torch.empty(hidden, hidden)), nn.Parameter(torch.empty(hidden))
        self.w3, self.b3 = nn.Parameter(torch.empty(1, hidden)), nn.Parameter(torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self):
        h = self.w2.shape[0]
        with torch.no_grad():  # softplus(w) about 2/sqrt(fan_in) (2/fan_in on the last layer)
            for w, scale in ((self.w1, 1.0), (self.w2, h**-0.5), (self.w3, 1.0 / h)):
                w.normal_(float(torch.log(torch.expm1(torch.tensor(2 * scale)))), 0.5)
            self.b1.uniform_(-2, 2)
            self.b2.normal_(0, 1)
            self.b3.zero_()

    def forward(self, z):
        h = torch.tanh(z @ F.softplus(self.w1).T + self.b1)
        h = torch.tanh(h @ F.softplus(self.w2).T + self.b2)
        return h @ F.softplus(self.w3).T + self.b3


def main() -> None:
    sets, (first, n), out = sys.argv[1].split(","), map(int, sys.argv[2].split(":")), sys.argv[3]
    fields = json.loads(os.environ.get("FIELDS", "{}"))
    keep = Path(tempfile.mkdtemp())
    for name in sets:
        for s in range(first, first + n):
            r = RD.one(name, s, keep, fields={"g_model": MonoG(), **fields})
            r.pop("validation", None)
            with open(out, "a") as fh:
                fh.write(json.dumps(r) + "\n")
            print(name, s, round(r["wall"], 1), {k: round(v, 4) for k, v in r["scores"].items()}, flush=True)


if __name__ == "__main__":
    main()
