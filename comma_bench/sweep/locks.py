"""One driver per run: a non-blocking file lock per run id.

Two `comma-bench run` processes on the same output folder must never run (or write) the same run twice. The driver
that is about to execute a run takes `runs/.locks/<run_id>.lock`; a driver that finds it held skips the run and
reports it as running elsewhere. The locks are OS-level (`flock`), so a driver killed with SIGKILL releases them and
a rerun can take over its unfinished runs.
"""

from __future__ import annotations

import resource

from filelock import FileLock, Timeout

from comma_bench.sweep.layout import SweepLayout


class RunLocks:
    def __init__(self, layout: SweepLayout) -> None:
        self.layout = layout
        self.held: dict[str, FileLock] = {}

    def try_acquire(self, run_id: str) -> bool:
        """Take the run's lock if nobody holds it; True on success."""
        if run_id in self.held:
            return True
        self.layout.locks.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.layout.lock(run_id)), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        self.held[run_id] = lock
        return True

    def release(self, run_id: str) -> None:
        lock = self.held.pop(run_id, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for run_id in list(self.held):
            self.release(run_id)

    @staticmethod
    def raise_fd_limit(n_locks: int) -> None:
        """Each held lock keeps a file descriptor open; a large Ray sweep holds all of its locks at once."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = n_locks + 512
        if soft != resource.RLIM_INFINITY and soft < want:
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
