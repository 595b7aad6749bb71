import threading

import pytest

from ganfit import Config
from ganfit.lab.server import Background, Lab


class Served(Background):
    """A lab served by uvicorn in a thread of the test process, on 127.0.0.1, a free port."""

    def at(self, path: str = "/", token: bool = True) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}{path}" + (f"{sep}token={self.lab.token}" if token else "")

    def ws(self, token: bool = True) -> str:
        return f"ws://127.0.0.1:{self.port}/ws" + (f"?token={self.lab.token}" if token else "")


@pytest.fixture
def serve():
    """serve(lab) -> Served, closed after the test."""
    made = []
    yield lambda lab: made.append(Served(lab)) or made[-1]
    for s in made:
        s.close()


@pytest.fixture
def served(serve, tmp_path):
    return serve(Lab(Config(epochs=20_000, log_every=100), tmp_path / "runs"))


def threads_of_the_lab() -> list[str]:
    names = ("ganfit-lab", "ganfit-metrics")
    return [t.name for t in threading.enumerate() if t.name.startswith(names) and t.is_alive()]


@pytest.fixture
def lab_threads():
    return threads_of_the_lab
