"""The thread that plays one session for one page: commands in, frames out.

Each page (each browser tab) gets a Driver: one thread that owns its Session, takes the page's
commands from a queue (play, pause, step, D only, G only, change settings, new game, speed, save) and, while
playing, plays epochs and hands the page a frame at most FPS times a second, and only once the page's
connection has sent the last one (`sent`), so a slow page slows the frames, never training. `stop`
ends the thread within one chunk of epochs; nothing else runs for the session after it.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import GanfitError
from . import frames
from .session import LIVE, Session

FPS = 30  # frames a second at most while playing
TICK = 1 / FPS
SPEEDS = (1, 3, 10, 30, 100, 300, 1000, 0)  # epochs a second the page may ask for; 0: as fast as it goes
SLOW = 3  # at this speed or less, slow motion: each epoch as D's steps, a frame, G's steps, a frame
MAX_CHUNK = 512  # epochs between looks at the queue when playing flat out
LAYERS = ("warp", "arrows")  # the 2-D layers off by default, made for live frames only when the page shows them
FRAME_SHARE = 1 / 3  # of the time playing flat out, at most this goes to frames (training keeps >= 2/3)
MEMBERS_EVERY = 0.2  # seconds between refreshes of the small multiples (K members' samples: most of a frame)


class Driver:
    """One session's thread (see the module's doc). `make(msg, current)` builds a Session from a page's
    `new` command and the config of the game it replaces (None, None: the starting one); `send` is called,
    from this thread, with each message as JSON text."""

    def __init__(self, make: Callable[..., Session], send: Callable[[str], None], saver=None):
        self.make, self.send, self.saver = make, send, saver
        self.commands: queue.Queue = queue.Queue()
        self.halt = threading.Event()  # stop() was called: a long step ends at its next chunk
        self.running, self.speed = False, 0
        self.ready = threading.Event()  # the page has taken the last frame
        self.ready.set()
        self.session: Session | None = None
        self.frame_cost = 0.0  # seconds the last frame took to make
        self.debt = 0.0  # epochs owed to the page's speed (a fraction of one per tick at slow speeds)
        self.shown: tuple = ()  # the (epoch, halfway) of the last frame sent
        self.members_at = -math.inf  # when the small multiples were last sent
        self.layers = dict.fromkeys(LAYERS, False)  # what the page shows beyond its default layers
        self.thread = threading.Thread(target=self._main, name="ganfit-lab", daemon=True)
        self.thread.start()

    def command(self, msg: dict) -> None:
        self.commands.put(msg)

    def sent(self) -> None:
        self.ready.set()

    def stop(self, wait: float = 10.0) -> None:
        self.halt.set()
        self.commands.put({"cmd": "_stop"})
        self.thread.join(wait)

    # ---- the thread

    def _main(self) -> None:
        try:
            self._new(None)
            self._frame(force=True)
            while True:
                timeout = 0 if self.running else None
                try:
                    msg = self.commands.get(timeout=timeout) if timeout is None else self.commands.get_nowait()
                except queue.Empty:
                    msg = None
                if msg is not None and msg.get("cmd") == "_stop":
                    break
                if msg is not None:
                    self._handle(msg)
                elif self.running:
                    self._run_for(TICK)
        except Exception as e:  # the page hears of it; the server goes on serving other pages
            self._say("error", f"the session stopped: {type(e).__name__}: {e}")
        finally:
            if self.session is not None:
                self.session.close()

    def _handle(self, msg: dict) -> None:
        cmd = msg.get("cmd")
        try:
            if cmd == "play":
                self.running = not self.session.finished
            elif cmd == "pause":
                self.running = False
            elif cmd == "step":
                self.running = False
                self._step(_count(msg.get("n", 1)))
            elif cmd == "step_d":
                self.running = False
                self.session.d_only()
            elif cmd == "step_g":
                self.running = False
                self.session.g_only()
            elif cmd == "layers":  # only what the page draws is made and sent: a third of a ring frame
                shown = msg.get("shown")
                if not isinstance(shown, list) or not set(shown) <= set(LAYERS):
                    raise GanfitError(f"layers: a list of {', '.join(LAYERS)}")
                self.layers = {k: k in shown for k in LAYERS}
            elif cmd == "speed":
                speed = msg.get("value")
                if speed not in SPEEDS:
                    raise GanfitError(f"speed {speed!r}: one of {', '.join(map(str, SPEEDS))} epochs/s")
                self.speed = speed
            elif cmd == "set":
                self.session.retune(**_values(msg.get("values")))
                self._setup()
            elif cmd == "new":
                self.running = False
                self._new(msg)
            elif cmd == "member":
                k = msg.get("value")
                if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < self.session.config.seeds:
                    raise GanfitError(f"member {k!r}: this game has members 0 to {self.session.config.seeds - 1}")
                self.session.live.member = k
            elif cmd == "_again":  # a page came back after its connection dropped
                self._setup()
            elif cmd == "save":
                self._save(msg.get("name"))
            else:
                raise GanfitError(f"unknown command {cmd!r}")
        except GanfitError as e:
            self._say("error", str(e))
        except Exception as e:  # a fault, not bad input: said in the page, the game paused, the thread kept
            self.running = False
            self._say("error", f"{cmd}: {type(e).__name__}: {e}")
        self._frame(force=True)

    def _new(self, msg: dict | None) -> None:
        current = self.session.config if self.session is not None else None
        session = self.make(msg, current)  # a bad config raises here, and the game before it goes on
        if self.session is not None:
            self.session.close()
        self.session = session
        self._setup()

    def _where(self) -> tuple:
        return self.session.epoch, self.session.half is not None

    def _step(self, n: int) -> None:
        """n epochs in chunks, so that a page closed meanwhile ends this thread within a chunk."""
        while n > 0 and not self.halt.is_set():
            played = self.session.play(min(n, MAX_CHUNK))
            if not played:
                return
            n -= played

    def _run_for(self, seconds: float) -> None:
        """Play for about `seconds` at the page's speed, then a frame if the page is ready for one."""
        s, end = self.session, time.perf_counter() + seconds
        if self.speed and self.speed <= SLOW:  # slow motion: half an epoch at a time, a frame after each
            self.debt += 2 * self.speed * seconds
            while self.debt >= 1 and not s.finished:
                self.debt -= 1
                s.g_half() if s.half is not None else s.d_half()
            left = end - time.perf_counter()
            if left > 0:
                time.sleep(left)
        elif self.speed:
            self.debt += self.speed * seconds
            n = int(self.debt)
            self.debt -= n
            s.play(n)
            left = end - time.perf_counter()
            if left > 0:
                time.sleep(left)
        else:
            # a frame every `seconds`, its own time taken out of them; but frames take at most FRAME_SHARE
            # of the time: costly frames come less often than FPS
            share = self.frame_cost * (1 - FRAME_SHARE) / FRAME_SHARE
            end = time.perf_counter() + max(seconds - self.frame_cost, share)
            n = 1
            # then on, in short chunks, until the page has taken the last frame (at most one more tick)
            while not s.finished and (
                time.perf_counter() < end or not self.ready.is_set() and time.perf_counter() < end + seconds
            ):
                n = min(MAX_CHUNK, max(n, 1))
                t0 = time.perf_counter()
                s.play(n)
                dt = time.perf_counter() - t0
                n = n * 2 if dt < seconds / 8 else n  # grow the chunk until a look at the queue costs nothing
        if s.finished:
            self.running = False
        self._frame()

    # ---- messages

    def _say(self, kind: str, text: str) -> None:
        self.send(json.dumps({"type": kind, "text": text}))

    def _setup(self) -> None:
        s = self.session
        cap = s.capture
        arrays = {k: v.float().cpu().numpy() for k, v in cap.take().items()}
        meta, fixed = cap.meta(), cap.fixed()
        self.view_setup = frames.setup(meta, fixed, s.game.target, arrays)
        self.pdf = np.array(self.view_setup["pdf"], dtype=float) if "pdf" in self.view_setup else None
        c = s.config
        msg = {
            "type": "setup",
            "config": {
                k: getattr(c, k) for k in c.__dataclass_fields__ if isinstance(getattr(c, k), int | float | str)
            },
            "live": list(LIVE),
            "members": c.seeds,
            "engine": s.game.engine.name,
            "speeds": list(SPEEDS),
            "speed": self.speed,
            "views": self.view_setup,
            "rows": frames.history_rows(s.history, c.seeds),
            "snapshots": (frames.past_views(s.past, self.pdf) if s.past else [])
            + [frames.main_view(meta, fixed, x.arrays, x.epoch, self.pdf) for x in s.snapshots],
            "notes": s.notes,
        }
        self.send(json.dumps(msg))
        self.snaps_sent = len(s.snapshots)

    def _frame(self, force: bool = False) -> None:
        """The current state to the page, if it has taken the last one (or `force`: after a command)."""
        if not force and (not self.ready.is_set() or self._where() == self.shown):
            return
        self.ready.clear()
        started = time.perf_counter()
        s = self.session
        cap = s.live
        verdict = s.game.target.dim == 1 and not cap.per_sample  # the only live view that draws it
        arrays = {k: v.float().cpu().numpy() for k, v in cap.take(verdict, **self.layers).items()}
        meta, fixed = cap.meta(), cap.fixed()
        msg = {
            "type": "frame",
            "epoch": s.epoch,
            "epochs": s.config.epochs,
            "running": self.running,
            "half": "d" if s.half is not None else "g" if self.running and self.speed and self.speed <= SLOW else None,
            "finished": s.finished,
            "main": frames.main_view(meta, fixed, arrays, s.epoch, self.pdf),
            "member": cap.member,
            "losses": frames.numbers(s.losses()) if s.last is not None else None,
            "rows": frames.rows_view(s.rows),
            "snapshots": [
                frames.main_view(meta, fixed, x.arrays, x.epoch, self.pdf) for x in s.snapshots[self.snaps_sent :]
            ],
        }
        if force or started - self.members_at >= MEMBERS_EVERY or not self.running:
            msg["members"], self.members_at = frames.members_view(s, self.view_setup["extent"]), started
        s.rows.clear()
        self.snaps_sent, self.shown = len(s.snapshots), self._where()
        self.send(json.dumps(msg))
        self.frame_cost = time.perf_counter() - started

    def _save(self, name) -> None:
        if self.saver is None:
            raise GanfitError("this lab has no folder to save runs in")
        out = self.saver(name)
        self.session.save(out)
        self._say("saved", str(out))


def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1_000_000:
        raise GanfitError(f"step: a whole number of epochs from 1 to 1,000,000, got {n!r}")
    return n


def _values(values) -> dict:
    """A `set` command's settings, checked to be LIVE fields with plain values (Config checks the rest)."""
    if not isinstance(values, dict) or not values:
        raise GanfitError("set: give the settings to change")
    out = {}
    for k, v in values.items():
        if k not in LIVE:
            raise GanfitError(f"{k!r} cannot change mid-run: start a new game")
        if not isinstance(v, int | float | str) or isinstance(v, bool):
            raise GanfitError(f"{k}: {v!r} is not a value")
        out[k] = v
    return out


def save_name(root: Path, name) -> Path:
    """Where save-as-run writes: a plain name inside the lab's runs folder (never a path from the page)."""
    if not isinstance(name, str) or not name or len(name) > 100:
        raise GanfitError("save: give the run a name (letters, digits, - _ .)")
    if name.startswith(".") or not all(c.isalnum() or c in "-_." for c in name):
        raise GanfitError(f"save: {name!r} is not a plain name (letters, digits, - _ . ; no folders)")
    return root / name
