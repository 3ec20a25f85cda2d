"""DataLoader workers that deliver nothing stop the run with their stacks, rather than leave it waiting forever.

Each worker registers faulthandler on SIGUSR1 with a file named after it in a folder of the training process. When
no batch arrives within the DataLoader's timeout (torch's own), the trainer signals every worker still running, and
the error gives each one's process state and the Python stack of each of its threads: a worker forked from a
training process waits forever on a lock that one of that process's threads held at the fork, and its stack says
which.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path

TIMED_OUT = "DataLoader timed out"  # the start of torch's error when a batch does not come within `timeout`
PROCESS_STATES = {"R": "running", "S": "sleeping", "D": "in uninterruptible I/O wait", "T": "stopped",
                  "t": "stopped by a debugger"}  # fmt: skip

_stack_file = None  # the worker's, open for as long as the worker lives (faulthandler writes to its descriptor)


class WorkerStacks:
    """A DataLoader's worker_init_fn: registers the worker's stack file, then runs the Trainer's own (seeding)."""

    def __init__(self, folder: str, loader: str, init_fn=None):
        self.folder, self.loader, self.init_fn = folder, loader, init_fn

    def __call__(self, worker_id: int) -> None:
        global _stack_file
        _stack_file = open(Path(self.folder) / f"{self.loader}-worker-{worker_id}-{os.getpid()}.txt", "w")
        faulthandler.register(signal.SIGUSR1, file=_stack_file, all_threads=True)
        if self.init_fn is not None:
            self.init_fn(worker_id)


class WorkersStalled(RuntimeError):
    """No batch came from a DataLoader's workers within its timeout."""


def stalled_workers_report(folder: str, wait: float = 1.0) -> str:
    """Each running worker's state and thread stacks (those of exited workers, a finished loader's, are left out)."""
    running = []
    for path in sorted(Path(folder).glob("*-worker-*.txt")):
        loader, _, worker_id, pid = path.stem.rsplit("-", 3)
        state = process_state(int(pid))
        if state is not None:
            with contextlib.suppress(ProcessLookupError):  # it may exit meanwhile
                os.kill(int(pid), signal.SIGUSR1)
            running.append((f"{loader} worker {worker_id} (pid {pid}): {state}", path))
    if not running:
        return "no DataLoader worker is running"
    time.sleep(wait)  # faulthandler writes from the signal handler, even in a thread blocked on a lock
    return "\n\n".join(f"{title}\n{path.read_text().strip() or '(no stack written)'}" for title, path in running)


def process_state(pid: int) -> str | None:
    """"sleeping in futex_wait_queue" and the like, from /proc; None once the process has exited."""
    try:
        os.kill(pid, 0)
    except OSError:  # exited (or its pid is another user's process now)
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS): alive, state unknown
        return "running or waiting"
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X"):
        return None
    try:
        wait_channel = Path(f"/proc/{pid}/wchan").read_text().strip()
    except OSError:
        wait_channel = ""
    where = f" in {wait_channel}" if wait_channel not in ("", "0") else ""
    return PROCESS_STATES.get(state, state) + where


def process_threads() -> str:
    """This process's other threads, each with where it is outside the threading module: a forked worker holds a copy of
    every lock they held at the fork, so the one holding what a worker waits for is among them."""
    frames = sys._current_frames()
    lines = []
    for thread in threading.enumerate():
        if thread is threading.current_thread():  # the one writing this report
            continue
        frame = frames.get(thread.ident)
        while frame is not None and frame.f_back is not None and frame.f_code.co_filename == threading.__file__:
            frame = frame.f_back
        where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}" if frame else "not running"
        lines.append(f"  {thread.name}: {where}")
    return "\n".join(lines)
