"""The lab in a notebook, in a real Jupyter kernel: `ganfit.lab.show()` serves the page from the kernel
and shows it in an iframe; the page's URL answers, with its token, and its game plays."""

import json
import re
import urllib.request

import pytest
from websockets.sync.client import connect

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_show_serves_the_lab_from_the_kernel(tmp_path):
    code = "import ganfit\nshown = ganfit.lab.show(ganfit.Config(epochs=500, log_every=100), runs='saved')\nshown"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        outputs = nb.cells[0].outputs
        assert not [o for o in outputs if o.output_type == "error"], outputs
        html = next(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
        url = re.search(r'<iframe src="(http://127\.0\.0\.1:\d+/\?token=[^"]+)"', html).group(1).replace("&amp;", "&")
        assert urllib.request.urlopen(url, timeout=30).status == 200
        ws_url = url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
        with connect(ws_url) as ws:
            ws.send(json.dumps({"cmd": "step", "n": 4}))
            for _ in range(20):
                m = json.loads(ws.recv(timeout=60))
                if m["type"] == "frame" and m["epoch"] == 4:
                    break
            else:
                raise AssertionError("the kernel's lab did not step")
