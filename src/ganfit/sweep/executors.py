"""Where sweep tasks run. Each executor yields one result per task, in the order they finish.

- local: a pool of worker processes, one per core, each torch at one thread;
- ray: one Ray task per point on an existing cluster (`address`), or on one started here (loopback
  only). A task whose worker dies is retried by Ray (`RAY_RETRIES`) and resumes from the point's last
  checkpoint.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..errors import GanfitError
from ..files import io_reason
from .tasks import run_task

RAY_RETRIES = 3
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def local(tasks: list[dict], workers: int) -> Iterator[dict]:
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(t)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that has torch's threads running
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # the workers' OpenMP/BLAS pools: one thread each, as Ray's workers have
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx)
    futures = {pool.submit(run_task, t): t for t in tasks}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield _future_result(f, futures[f])
    except KeyboardInterrupt:  # the workers got SIGINT too: they checkpoint and return "interrupted"
        for f in pending:
            f.cancel()
        for f in pending:
            if not f.cancelled():
                yield _future_result(f, futures[f])
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _future_result(f, task: dict) -> dict:
    try:
        return f.result()
    except BaseException as e:  # a worker process died (BrokenProcessPool) or was interrupted
        return {"id": task["id"], "status": "error", "error": f"worker process failed: {type(e).__name__}: {e}"}


def ray(tasks: list[dict], address: str | None, workers: int) -> Iterator[dict]:
    host = None if address in (None, "auto") else reachable(address)
    if address is None or host in ("127.0.0.1", "localhost", "::1"):
        # Loopback stays loopback: without this Ray swaps 127.0.0.1 for the machine's own address, and a
        # cluster started here listens on 127.0.0.1 only (Ray's switch for one-machine clusters).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:  # Ray is optional (ganfit[ray]), and reads the environment above when it is imported
        import ray
    except ImportError:
        raise GanfitError("--executor ray needs Ray: pip install 'ganfit[ray]'") from None
    started = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise GanfitError(f"Ray: cannot start or reach a cluster at {address or 'a new local one'} ({e})") from None
        started = True
    remote = ray.remote(num_cpus=1, max_retries=RAY_RETRIES, retry_exceptions=False)(run_task)
    refs = {remote.remote(t): t for t in tasks}
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            for r in ready:
                task = refs.pop(r)
                try:
                    result = ray.get(r)
                except ray.exceptions.RayError as e:  # retries exhausted: recorded, the rest go on
                    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    result = {"id": task["id"], "status": "error", "error": f"Ray: {first}"}
                yield result
    except KeyboardInterrupt:
        for r in refs:
            ray.cancel(r)
        raise
    finally:
        if started:
            ray.shutdown()


def reachable(address: str) -> str:
    """HOST of HOST:PORT, after checking that something listens there (Ray itself retries for minutes)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise GanfitError(f"--address {address!r}: expected auto or HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise GanfitError(f"--address {address}: no Ray cluster answers there ({io_reason(e)})") from None
    return host
