"""The lab's web server: one page, its assets, a WebSocket per tab, an upload endpoint; loopback only.

Starlette (routing, WebSockets, static files) on uvicorn: a small, well-kept pair (Encode's), pure
Python, with the WebSocket protocol from the `websockets` package. A WebSocket, not Server-Sent
Events: the page's commands and the frames go over one connection, and its close is how the server
knows at once that a tab went away and stops that tab's training thread.

Safety, as Jupyter does it: the server binds 127.0.0.1 on a free port; every request must carry the
access token (in the URL, `?token=`, or the cookie the page gets from its first load); a request for
another host name (DNS rebinding) or a WebSocket from another origin is refused. The page names no
file: it uploads CSV text, draws points, and saves under a plain name inside the lab's runs folder.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..config import Config
from ..errors import GanfitError
from .driver import Driver, save_name
from .games import MAX_UPLOAD, open_run, page_config, read_upload
from .session import Session

STATIC = Path(__file__).parent / "static"
COOKIE = "ganfit_lab_token"
MAX_TABS = 4  # pages playing at once: each has its own training thread
GRACE = 30.0  # seconds a page whose connection dropped has to come back to its game (paused meanwhile)
MAX_MESSAGE = 8 << 20  # bytes of one message from a page (drawn points)
MAX_UPLOADS = 8  # uploads held in memory for new games (the older ones are forgotten)


@dataclass
class Lab:
    """What the server serves: the starting game (a config, or a session on an opened run), the runs
    folder that save-as-run writes in, the last uploads, and the tabs that are open or dropped."""

    config: Config
    runs: Path
    opener: object = None  # a function returning the starting Session (an opened run), or None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    uploads: dict[str, tuple] = field(default_factory=dict)  # id -> (data [n, dim], column names)
    upload_count: int = 0
    drivers: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    parked: dict = field(default_factory=dict)  # session id -> (driver, its timer): pages whose connection dropped

    def park(self, sid: str, driver: Driver, loop) -> None:
        """Keep a dropped page's driver, paused, for GRACE seconds, then stop it."""

        def expire():
            with self.lock:
                if self.parked.get(sid, (None,))[0] is not driver:
                    return
                del self.parked[sid]
            threading.Thread(target=driver.stop, daemon=True).start()

        with self.lock:
            old = self.parked.get(sid)
            self.parked[sid] = (driver, loop.call_later(GRACE, expire))
        if old is not None and old[0] is not driver:  # two tabs with one id (a duplicated tab): both end
            old[1].cancel()
            threading.Thread(target=old[0].stop, daemon=True).start()

    def unpark(self, sid: str) -> Driver | None:
        with self.lock:
            driver, timer = self.parked.pop(sid, (None, None))
        if timer is not None:
            timer.cancel()
        return driver

    def session(self, msg: dict | None, current: Config | None = None) -> Session:
        """The starting game (msg None), or the one a page's `new` asks for, from the game it replaces."""
        if msg is None:
            return self.opener() if self.opener else Session(self.config)
        return Session(page_config(current or self.config, msg, self.uploads))


def allowed(lab: Lab, scope) -> str | None:
    """Why a request is refused, or None: the token, the host name, and a WebSocket's origin."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host", "").rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        return "the lab answers only at 127.0.0.1"
    query = dict(p.split("=", 1) for p in scope.get("query_string", b"").decode().split("&") if "=" in p)
    cookies = dict(c.strip().split("=", 1) for c in headers.get("cookie", "").split(";") if "=" in c)
    token = query.get("token") or cookies.get(COOKIE, "")
    if not secrets.compare_digest(token.encode(), lab.token.encode()):
        return "no valid token: open the URL that `ganfit lab` printed"
    origin = headers.get("origin")
    if (
        scope["type"] == "websocket"
        and origin
        and origin.split("//", 1)[-1].rsplit(":", 1)[0]
        not in (
            "127.0.0.1",
            "localhost",
        )
    ):
        return "another site's page cannot connect"
    return None


class TokenGate:
    """ASGI middleware: every HTTP request and WebSocket passes `allowed` or is refused (403)."""

    def __init__(self, app, lab: Lab):
        self.app, self.lab = app, lab

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            why = allowed(self.lab, scope)
            if why is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4403, "reason": why})
                    return
                await PlainTextResponse(why + "\n", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def make_app(lab: Lab):
    async def index(request):
        # the assets carry the token too: in a notebook's iframe (another site) the cookie is not sent
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        for asset in ("static/lab.css", "static/lab.js"):
            html = html.replace(f'"{asset}"', f'"{asset}?token={lab.token}"')
        response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
        response.set_cookie(COOKIE, lab.token, httponly=True, samesite="strict")
        return response

    async def upload(request):
        columns = [c for c in request.query_params.get("columns", "").split(",") if c]
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_UPLOAD:
                return JSONResponse({"error": f"the file is over {MAX_UPLOAD:,} bytes"}, status_code=413)
        try:
            x, names = await asyncio.to_thread(read_upload, raw, columns)
        except GanfitError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        with lab.lock:
            n = lab.upload_count = lab.upload_count + 1
            lab.uploads[f"u{n}"] = x, names
            for old in list(lab.uploads)[:-MAX_UPLOADS]:  # the last few are kept for new games
                del lab.uploads[old]
        return JSONResponse({"id": f"u{n}", "rows": len(x), "columns": names})

    async def play(ws: WebSocket):
        await ws.accept()
        with lab.lock:
            full = len(lab.drivers) >= MAX_TABS
        if full:
            why = f"{MAX_TABS} lab pages are open: close one, then reload this one"
            await ws.send_text(json.dumps({"type": "error", "text": why}))
            await ws.close(code=4429, reason=why)  # a 44xx close: the page says it and does not retry
            return
        await tab(lab, ws)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/upload", upload, methods=["POST"]),
            WebSocketRoute("/ws", play),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    return TokenGate(app, lab)


async def tab(lab: Lab, ws: WebSocket) -> None:
    """One page's connection: its Driver's messages out, the page's commands in. A page that says `bye`
    (it is closing) ends its driver at once; a connection that drops parks the driver, paused, for GRACE
    seconds, and the page that reconnects with the same `session` id takes its game back."""
    loop, outbox = asyncio.get_running_loop(), asyncio.Queue()
    sid = ws.query_params.get("session", "")[:64]

    def send(text: str) -> None:
        loop.call_soon_threadsafe(outbox.put_nowait, text)

    driver = lab.unpark(sid)
    if driver is None:
        driver = Driver(lab.session, send, _saver(lab))
    else:
        driver.send = send
        driver.command({"cmd": "_again"})  # the game as it is, to the page that came back
    with lab.lock:
        lab.drivers.add(driver)

    async def sender():
        while True:
            text = await outbox.get()
            await ws.send_text(text)
            if text.startswith('{"type": "frame"'):
                driver.sent()

    task, bye = asyncio.create_task(sender()), False
    try:
        while not bye:
            msg = _command(await ws.receive_text())
            if isinstance(msg, str):
                outbox.put_nowait(json.dumps({"type": "error", "text": msg}))
            elif msg.get("cmd") == "bye":
                bye = True
            else:
                driver.command(msg)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        task.cancel()
        with lab.lock:
            lab.drivers.discard(driver)
        if sid and not bye:
            driver.command({"cmd": "pause"})
            lab.park(sid, driver, loop)
        else:
            await asyncio.to_thread(driver.stop)


def _command(text: str) -> dict | str:
    """A page's message as a command, or why it is not one (internal commands start with _)."""
    if len(text) > MAX_MESSAGE:
        return "message too large"
    try:
        msg = json.loads(text)
    except ValueError:
        return "not a command"
    if not isinstance(msg, dict) or str(msg.get("cmd", "")).startswith("_"):
        return "not a command"
    return msg


def _saver(lab: Lab):
    def where(name) -> Path:
        return save_name(lab.runs, name)

    return where


def free_port(port: int = 0) -> int:
    """`port` if it is free on 127.0.0.1 (0: any free one); one line if it is taken."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise GanfitError(f"--port {port}: cannot listen there ({e.strerror})") from None
        return s.getsockname()[1]


def _server(lab: Lab, port: int):
    import uvicorn  # the server loads with what serves, not with the package

    config = uvicorn.Config(make_app(lab), host="127.0.0.1", port=port, log_level="warning", ws_max_size=MAX_MESSAGE)
    return uvicorn.Server(config)


class Background:
    """A lab served from a thread of this process (a notebook's kernel, the tests): `url`, `close()`."""

    def __init__(self, lab: Lab, port: int = 0):
        self.lab, self.port = lab, free_port(port)
        self.server = _server(lab, self.port)
        self.thread = threading.Thread(target=self.server.run, name="ganfit-server", daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise GanfitError(f"the lab could not listen on 127.0.0.1:{self.port}")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}/?token={lab.token}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        for sid in list(self.lab.parked):  # pages that dropped and did not come back: their games end now
            driver = self.lab.unpark(sid)
            if driver is not None:
                driver.stop()


def serve(lab: Lab, port: int = 0, ready=None) -> None:
    """Serve until interrupted; `ready(url)` is called once the server listens."""
    port = free_port(port)
    server = _server(lab, port)
    url = f"http://127.0.0.1:{port}/?token={lab.token}"

    async def main():
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if ready and server.started:
            ready(url)
        await task

    asyncio.run(main())


def open_lab(config: Config, run_dir: str | None, runs: Path, port: int, browser: bool) -> int:
    """`ganfit lab`: check the starting game, serve it, print the URL and open it in a browser."""
    import webbrowser  # only the command opens a browser

    opener = None
    if run_dir:
        path = Path(run_dir)
        config = Config.from_toml(path / "config.toml") if (path / "config.toml").is_file() else config
        open_run(path).close()  # a run that cannot be opened is one line now, not a broken page

        def opener() -> Session:
            return open_run(path)
    else:
        Session(config).close()  # a config the engine refuses, or one past the budget, is one line now

    def ready(url: str) -> None:
        print(f"ganfit lab: {url}\n  (Ctrl-C stops it; saved runs go to {runs})", flush=True)
        if browser:
            webbrowser.open(url)

    try:
        serve(Lab(config, runs, opener), port, ready)
    except KeyboardInterrupt:
        pass
    return 0
