"""What a person sees while a run trains: a tqdm bar on a terminal, the seed's status lines elsewhere."""

from __future__ import annotations

import sys

from tqdm import tqdm as text_bar
from tqdm.auto import tqdm


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (its progress bar is then a widget, or plain text)."""
    return "ipykernel" in sys.modules


class Progress:
    """On a terminal or in a notebook: a progress bar whose postfix is member 0's latest status. On a pipe
    or a file: the seed's status line (and an ensemble digest) at every log row, so logs stay readable;
    with lines=False (the library's default), nothing there."""

    def __init__(self, stream=None, bar: bool | None = None, lines: bool = True):
        self.stream = stream or sys.stderr
        self.bar_wanted = (self.stream.isatty() or in_notebook()) if bar is None else bar
        self.lines = lines
        self.bar: tqdm | None = None
        self.last = 0

    def start(self, total: int, done: int = 0) -> None:
        self.last = done
        if self.bar_wanted:
            opts = dict(total=total, initial=done, unit="epoch", file=self.stream, dynamic_ncols=True)
            try:
                self.bar = tqdm(**opts)  # a widget in a notebook (it needs ipywidgets)
            except ImportError:
                self.bar = text_bar(**opts)

    def update(self, epoch: int, line: str) -> None:
        if self.bar is None:
            if self.lines:
                print(line, file=sys.stdout, flush=True)
            return
        self.bar.update(epoch + 1 - self.last)
        self.last = epoch + 1
        self.bar.set_postfix_str(line.splitlines()[0].split(" (")[0], refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
