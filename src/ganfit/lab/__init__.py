"""The lab: ganfit's game live in a browser page (`ganfit lab`), on the real engine, in 1-D and 2-D.

session.py plays a game a few epochs at a time as training.py would; driver.py is the thread that plays
one page's session; frames.py turns the game into what the page draws; games.py checks what a page may
start; server.py serves the page (static/) on 127.0.0.1 with an access token; notebook.py shows the same
page inline in Jupyter (`ganfit.lab.show()`).
"""

from .notebook import show
from .session import Session

__all__ = ["Session", "show"]
