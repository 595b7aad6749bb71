"""examples/notebook.ipynb runs in a real Jupyter kernel: no errors, the live view's pictures, the Run's
HTML, the samples, the report."""

import base64
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
NOTEBOOK = Path(__file__).parents[1] / "examples" / "notebook.ipynb"


def test_the_example_notebook_runs_and_shows_the_game(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    started = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    print(f"notebook executed in {time.perf_counter() - started:.1f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    train, shown, sampled, saved = (c.outputs for c in nb.cells if c.cell_type == "code")
    pngs = [o for o in train if "image/png" in o.get("data", {})]
    assert pngs and base64.b64decode(pngs[-1]["data"]["image/png"]).startswith(b"\x89PNG")  # the live view
    html = next(o["data"]["text/html"] for o in shown if "text/html" in o.get("data", {}))
    assert "ganfit run" in html and "<svg" in html and "<table>" in html and len(html) < 20_000
    text = "".join(o.get("text", "") for o in sampled)
    mean = float(text.split("mean ")[1].split(",")[0])
    assert 2 < mean < 6
    written = "".join(o.get("text", "") for o in saved) + str([o.get("data") for o in saved])
    assert "weights.safetensors" in written and "report.html" in written
