"""Atlas execution: rendering items here, in worker processes or on a Dask cluster, each failure confined to its map."""

from __future__ import annotations

import collections
import functools
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from cqgis.errors import one_line
from cqgis.maps.atlas.previews import write_previews
from cqgis.maps.atlas.outcome import BUILT, FAILED, Outcome
from cqgis.maps.atlas.items import AtlasItem
from cqgis.maps.errors import MapError

#: The renderer used when none is given, as "module:function".
DEFAULT_RENDERER = "cqgis.maps.themes:render_item"


def run_item(item: AtlasItem, renderer: Callable[[AtlasItem], Sequence[Path]]) -> Outcome:
    """Render one item and its previews, turning any error into a failed :class:`Outcome` with a one-line reason.

    The previews (:func:`write_previews`) are made here, so that workers
    make them in parallel rather than the main process one by one.

    Ctrl-C is not caught: it stops the run. The same function runs in this
    process, in worker processes and on Dask workers.

    Parameters
    ----------
    item : AtlasItem
        The map to draw.
    renderer : callable
        ``renderer(item)`` writes every path of ``item``.

    Returns
    -------
    Outcome
        ``built``, or ``failed`` when the renderer raised or left a path
        unwritten.
    """
    try:
        renderer(item)
    except Exception as exc:
        return Outcome(item, FAILED, one_line(exc))
    missing = [output for output, path in zip(item.outputs, item.paths) if not path.is_file()]
    if missing:
        return Outcome(item, FAILED, f"the renderer wrote no {missing[0]}")
    try:
        write_previews(item)
    except Exception as exc:
        return Outcome(item, FAILED, f"cannot shrink {item.page}: {one_line(exc)}")
    return Outcome(item, BUILT)


def _worker_context(preload: str) -> multiprocessing.context.BaseContext:
    """Where the platform allows, a fork server that has imported the module ``preload`` once.

    Each spawned worker would spend seconds importing geopandas, matplotlib
    and folium before its first map; workers forked from a server that
    preloaded them start at once, and the server is single-threaded, so the
    fork is safe (the process that plans the atlas has library threads, and
    is not forked). The server outlives a pool, so the theme PDFs' workers,
    started after the maps', fork from the same warm server. Windows has
    no fork server: its workers are spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([preload])
    return context


def start_server(preload: str | None = None) -> None:
    """Start the server worker processes are forked from, and return while it imports the module ``preload``.

    A pool started later forks its workers from this server; started early,
    the server's imports (seconds: geopandas, matplotlib, folium) overlap
    the work this process does before the first map. Where there is no fork
    server (Windows), nothing happens: workers are spawned.

    Parameters
    ----------
    preload : str, optional
        Module name; default: that of :data:`DEFAULT_RENDERER`.
    """
    context = _worker_context(preload or DEFAULT_RENDERER.partition(":")[0])
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_jobs(
    function: Callable,
    jobs: Sequence[tuple],
    workers: int = 1,
    scheduler: str | None = None,
    preload: str | None = None,
) -> Iterator[tuple[int, Callable[[], object]]]:
    """Run ``function(*job)`` for each job, here, in worker processes or on Dask, yielding each as it finishes.

    Parameters
    ----------
    function : callable
        Importable by name (it is sent to workers by reference).
    jobs : sequence of tuple
        The arguments of each call; picklable.
    workers : int
        1 runs here, one job after another; more runs in that many worker
        processes (a single job runs here), this process taking jobs too
        until the first worker has finished one.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.
    preload : str, optional
        Module the worker processes' server imports once, before the first
        worker starts (default: the module of ``function``).

    Returns
    -------
    iterator of (int, callable)
        The index of a finished job and a function returning its result,
        or raising what the job (or the worker running it) raised.

    Raises
    ------
    MapError
        While iterating, when the Dask scheduler cannot be reached.
    """
    if not jobs:
        return iter(())
    if scheduler is not None:
        return _dask(function, jobs, scheduler)
    # A single job runs here: a fresh worker would only add its start-up to it.
    if workers > 1 and len(jobs) > 1:
        return _processes(function, jobs, min(workers, len(jobs)), preload or function.__module__)
    return _serial(function, jobs)


def _serial(function: Callable, jobs: Sequence[tuple]) -> Iterator[tuple[int, Callable[[], object]]]:
    for index, job in enumerate(jobs):
        yield index, _call(function, job)


def _call(function: Callable, job: tuple) -> Callable[[], object]:
    """Run ``function(*job)`` here; return a function that returns its result or raises what it raised."""
    try:
        result = function(*job)
    except Exception as exc:
        return functools.partial(_raise, exc)
    return functools.partial(_identity, result)


def _identity(value: object) -> object:
    return value


def _raise(exc: Exception) -> object:
    raise exc


def _processes(
    function: Callable, jobs: Sequence[tuple], workers: int, preload: str
) -> Iterator[tuple[int, Callable[[], object]]]:
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(preload))
    waiting = collections.deque(range(len(jobs)))
    # Each worker is kept one job ahead; the rest wait here, for whoever is free.
    ahead = 2 * workers
    pending: dict[Future, int] = {}
    # Starting a worker waits for the server's imports (seconds): a thread
    # hands out the first jobs while this process, idle otherwise, runs jobs itself.
    first = [waiting.popleft() for _ in range(min(ahead, len(waiting)))]
    starter = _Starter(executor, function, jobs, first, pending)
    starter.start()
    # Until a worker has finished a job the workers are still starting: this process goes on too.
    running = False
    try:
        while waiting or pending or starter.is_alive():
            if not starter.is_alive() and starter.error is not None:
                raise starter.error
            if waiting and (starter.is_alive() or not running):
                index = waiting.popleft()
                yield index, _call(function, jobs[index])
                running = not starter.is_alive() and any(future.done() for future in pending)
                continue
            # The thread is done with ``pending`` from here on.
            starter.join()
            if starter.error is not None:
                continue  # raised at the top of the loop
            while waiting and len(pending) < ahead:
                index = waiting.popleft()
                pending[executor.submit(function, *jobs[index])] = index
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            running = True
            for future in finished:
                yield pending.pop(future), future.result
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


class _Starter(threading.Thread):
    """Submits the first jobs to a pool, which starts its workers; keeps the error that stopped it."""

    def __init__(
        self, executor: ProcessPoolExecutor, function: Callable, jobs: Sequence[tuple], first: list[int],
        pending: dict[Future, int],
    ) -> None:
        super().__init__(name="cqgis-worker-start", daemon=True)
        self.executor, self.function, self.jobs, self.first, self.pending = executor, function, jobs, first, pending
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for index in self.first:
                self.pending[self.executor.submit(self.function, *self.jobs[index])] = index
        except BaseException as exc:
            self.error = exc


def _dask(function: Callable, jobs: Sequence[tuple], scheduler: str) -> Iterator[tuple[int, Callable[[], object]]]:
    from dask.distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        msg = f"cannot reach the Dask scheduler at {scheduler}: {one_line(exc)}"
        raise MapError(msg) from exc
    with client:
        futures = [client.submit(function, *job, pure=False) for job in jobs]
        index = {future.key: number for number, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result
        except BaseException:
            client.cancel(futures)
            raise


def _collect(result: Callable[[], Outcome], item: AtlasItem) -> Outcome:
    """Return a worker's outcome; a worker that died or could not run the item fails that item only."""
    try:
        return result()
    except Exception as exc:
        return Outcome(item, FAILED, one_line(exc))


def execute(
    items: Sequence[AtlasItem], renderer: Callable, workers: int = 1, scheduler: str | None = None
) -> Iterator[Outcome]:
    """Render items and yield their outcomes as they finish.

    Parameters
    ----------
    items : sequence of AtlasItem
        What to render; their folders must exist.
    renderer : callable
        ``renderer(item)`` writes the item's paths; it must be importable by
        name for processes and Dask.
    workers : int
        1 renders here; more renders in that many worker processes.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.

    Returns
    -------
    iterator of Outcome
        One per item, in the order they finish.

    Raises
    ------
    MapError
        While iterating, when the Dask scheduler cannot be reached.
    """
    # The renderer's module holds the heavy imports (run_item's own are light).
    finished = run_jobs(run_item, [(item, renderer) for item in items], workers, scheduler, renderer.__module__)
    return (_collect(result, items[index]) for index, result in finished)


def load_renderer(target: str | None = None) -> Callable[[AtlasItem], Sequence[Path]]:
    """Import a renderer given as ``"module:function"`` (default :data:`DEFAULT_RENDERER`).

    Parameters
    ----------
    target : str, optional
        ``"module:function"``; the module is imported now.

    Returns
    -------
    callable
        The renderer.

    Raises
    ------
    MapError
        When the module or function does not exist.
    """
    import importlib

    target = target or DEFAULT_RENDERER
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        msg = f"the atlas renderer {target} is not available: {one_line(exc)}"
        raise MapError(msg) from exc
