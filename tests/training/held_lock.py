"""The state a fork copies into DataLoader workers: a lock at module level, as library code has, that a thread of the
training process holds when the workers start, and a collator that takes it."""

import threading
from contextlib import contextmanager

from hf_behavior.training.collator import BehaviorLlavaCollator

LOCK = threading.Lock()


class LockingCollator(BehaviorLlavaCollator):
    def __call__(self, examples):
        with LOCK:
            return super().__call__(examples)


@contextmanager
def lock_held_by_a_thread():
    taken, release = threading.Event(), threading.Event()

    def hold():
        with LOCK:
            taken.set()
            release.wait()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    taken.wait()
    try:
        yield
    finally:
        release.set()
        thread.join()
