"""The lab inside a notebook: the same page, served from the kernel's process, shown in an iframe.

    import ganfit.lab
    ganfit.lab.show(ganfit.Config(target="ring", noise="normal:dim=2", d_view="sample", seeds=4))

Why an iframe of the page rather than a widget: the page is the one front end (plain canvas and one
script), and its WebSocket carries frames straight from the training thread; an anywidget would need
the same drawing code repackaged as an ES module and every frame relayed through the kernel's comm
channel, which queues behind the cells the kernel is running. The iframe needs the notebook's browser
to reach 127.0.0.1 of the kernel's machine: a local Jupyter, not a remote hub (there, `ganfit lab` and
an SSH tunnel).
"""

from __future__ import annotations

import html
from pathlib import Path

from ..config import Config
from .server import Background, Lab
from .session import Session

SHOWN: list[Background] = []  # the labs this kernel serves (each until stop() or the kernel's end)


class Shown:
    """What `show` returns: the iframe in a notebook's output (`_repr_html_`), the URL, and `stop()`."""

    def __init__(self, served: Background, height: int):
        self.served, self.url, self.height = served, served.url, height

    def _repr_html_(self) -> str:
        src = html.escape(self.url, quote=True)
        return (
            f'<iframe src="{src}" width="100%" height="{self.height}" style="border:1px solid #ddd"></iframe>'
            f'<div style="font-size:12px;color:#777">ganfit lab at <a href="{src}" target="_blank">{src}</a></div>'
        )

    def __repr__(self) -> str:
        return f"ganfit lab at {self.url}"

    def stop(self) -> None:
        """Stop serving: every page's training thread ends with its connection."""
        self.served.close()
        if self.served in SHOWN:
            SHOWN.remove(self.served)


def show(config: Config | None = None, runs: str | Path = "runs", height: int = 760) -> Shown:
    """Serve the lab for `config` (default: the article's game) from this process and show it inline."""
    config = config or Config()
    Session(config).close()  # a config the engine refuses, or one past the budget, is one line now
    served = Background(Lab(config, Path(runs)))
    SHOWN.append(served)
    return Shown(served, height)
