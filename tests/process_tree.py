"""Killing a launched job the way a crash or an OOM killer would: the launcher and every process under it."""

import signal

import psutil


def kill_tree(pid: int) -> None:
    """SIGKILL the launcher and every process under it (torchrun starts its workers in their own session)."""
    launcher = psutil.Process(pid)
    for process in [launcher, *launcher.children(recursive=True)]:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
