import threading
import time

import pytest
import uvicorn

from ganfit import Config
from ganfit.lab.server import Lab, free_port, make_app


class Served:
    """A lab served by uvicorn in a thread of the test process, on 127.0.0.1, a free port."""

    def __init__(self, lab: Lab):
        self.lab, self.port = lab, free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(make_app(lab), host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        t = time.time()
        while not self.server.started:
            assert time.time() - t < 30, "the lab server did not start"
            time.sleep(0.02)

    def url(self, path: str = "/", token: bool = True) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}{path}" + (f"{sep}token={self.lab.token}" if token else "")

    def ws(self, token: bool = True) -> str:
        return f"ws://127.0.0.1:{self.port}/ws" + (f"?token={self.lab.token}" if token else "")

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(tmp_path):
    s = Served(Lab(Config(epochs=20_000, log_every=100), tmp_path / "runs"))
    yield s
    s.close()


def threads_of_the_lab() -> list[str]:
    return [
        t.name for t in threading.enumerate() if t.name.startswith(("ganfit-lab", "ganfit-metrics")) and t.is_alive()
    ]


@pytest.fixture
def lab_threads():
    return threads_of_the_lab
