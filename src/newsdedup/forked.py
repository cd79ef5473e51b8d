"""Run a function over blocks of work in forked worker processes.

The large read-only inputs of the work (texts, shingle sets, a
:class:`~newsdedup.score.Judge`) are not pickled: they are module state that
the forked children inherit. Only the blocks (small) and the results go
through pipes. Where fork is unavailable (not POSIX, or other threads run in
this process, which fork would not copy) or one worker is asked for, the
blocks run here, in order. The results are the same either way: each block's
result depends only on the state and the block.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from .errors import WorkerError

S = TypeVar("S")
B = TypeVar("B")
R = TypeVar("R")

_STATE: tuple[Callable[[Any, Any], Any], Any] | None = None

#: How often a worker process checks that the process that started it still runs.
PARENT_POLL_SECONDS = 1.0
#: A worker's exit status when it stops because that process is gone.
ORPHAN_EXIT_CODE = 70


#: The signal mask interrupts_held replaced (None outside it): forked workers
#: inherit the blocked mask and restore this one (see watch_parent).
_MASK_BEFORE: set[int | signal.Signals] | None = None


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes are forked (around the submit
    that starts a fork pool): a SIGINT that comes during ``fork()`` is raised in
    Python's at-fork handlers, which ignore exceptions, and so was lost (the
    run went on). Blocked here, it stays pending and is raised once the block
    ends. The workers, which inherit the blocked mask, restore the one before
    (:func:`watch_parent`). A no-op outside the main thread or without
    ``pthread_sigmask``."""
    global _MASK_BEFORE
    if (not hasattr(signal, "pthread_sigmask") or _MASK_BEFORE is not None
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    held = _MASK_BEFORE = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        _MASK_BEFORE = None
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def watch_parent(parent: int) -> None:
    """In a worker process (at its start): exit once ``parent``, the process that
    started it (its pid taken there, before the fork: a parent killed before this
    runs is seen too), is gone.

    A pool's workers wait for work on a pipe whose writing end they hold
    themselves (inherited when forked), so a parent that ends without closing
    its pools (killed: SIGKILL, the kernel's out-of-memory killer, a notebook
    kernel restarted) would leave them waiting forever, each holding its share
    of the run's memory. A daemon thread compares the parent's pid every
    :data:`PARENT_POLL_SECONDS` (the orphan is adopted by another process) and
    ends this one with :data:`ORPHAN_EXIT_CODE`. (Not ``PR_SET_PDEATHSIG``: it
    fires when the *thread* that forked ends, and a stream's pool outlives the
    thread that started it.)"""
    if _MASK_BEFORE is not None:  # forked inside interrupts_held
        signal.pthread_sigmask(signal.SIG_SETMASK, _MASK_BEFORE)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(ORPHAN_EXIT_CODE)

    threading.Thread(target=watch, name="newsdedup-parent-watch", daemon=True).start()


def fork_available() -> bool:
    """Whether worker processes can be forked from this process now (not in a
    daemonic process, such as a ``multiprocessing.Pool`` worker, which may not
    have children)."""
    return (
        "fork" in mp.get_all_start_methods() and threading.active_count() == 1
        and not mp.current_process().daemon
    )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector inside a block (its state is restored after).

    The work of a block (a chunk to prepare, pairs to judge) allocates millions
    of short-lived containers (line records, tuples, dicts, verdicts) that
    reference counting frees, and makes no reference cycles: the collector's
    passes over them, and over every cache entry and result that survived
    earlier passes, only cost time (10,000 articles prepared in one process:
    3.3-4.3 instead of 4.1-5.3 CPU-s). Cycles a block might still make are
    collected after it. ``NEWSDEDUP_GC=on`` leaves the collector running (to
    measure the difference)."""
    was = gc.isenabled()
    if os.environ.get("NEWSDEDUP_GC") != "on":
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _call(block: Any) -> Any:
    assert _STATE is not None, "forked worker without state"
    fn, state = _STATE
    with paused_gc():
        return fn(state, block)


def fork_map(
    fn: Callable[[S, B], R], state: S, blocks: Sequence[B], workers: int, *,
    here: bool = False,
) -> list[R]:
    """``[fn(state, b) for b in blocks]``, computed by up to ``workers`` forked
    processes (``fn`` and ``state`` are inherited, the blocks and results pickled).

    ``here``: this process computes the first block itself while ``workers - 1``
    forked processes compute the others (for work that leaves caches behind
    which this process, or processes forked from it later, will use)."""
    global _STATE
    if workers <= 1 or len(blocks) <= 1 or not fork_available():
        with paused_gc():
            return [fn(state, b) for b in blocks]
    _STATE = (fn, state)
    # Objects that exist now are left out of the workers' garbage collections,
    # which would otherwise write to (and so copy) every page they live on.
    gc.freeze()
    try:
        ctx = mp.get_context("fork")
        rest = blocks[1:] if here else blocks
        size = min(workers - 1 if here else workers, len(rest))
        with ProcessPoolExecutor(max_workers=size, mp_context=ctx,
                                 initializer=watch_parent, initargs=(os.getpid(),)) as pool:
            try:
                # (the workers are forked at the first submit: before this
                # process computes its own block)
                with interrupts_held():
                    futures = [pool.submit(_call, b) for b in rest]
                own = []
                if here:
                    with paused_gc():
                        own = [fn(state, blocks[0])]
                return own + [f.result() for f in futures]
            except BrokenExecutor as err:
                raise WorkerError(f"running {getattr(fn, '__name__', fn)!s}") from err
    finally:
        gc.unfreeze()
        _STATE = None
