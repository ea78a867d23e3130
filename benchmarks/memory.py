"""Peak memory of one call of a benchmarked function: RSS of a forked child on CPU, the allocator's peak on CUDA.

Why a forked child on CPU: a process's peak RSS (`ru_maxrss`, Linux's VmHWM) only ever grows, so measuring several
variants in the pytest process would report the largest one for all of them. A child forked just for the measurement
starts from the parent's state (models, data, no copies: fork is copy-on-write) and its peak belongs to one variant.

What is subtracted (measured, not assumed): the brief's first idea was "child's ru_maxrss minus the parent's RSS
before the fork", but on Linux a forked child's RSS does *not* start at the parent's RSS: the file-backed pages of
the parent (libtorch's code, mapped files) are not copied into the child's page tables, so the child starts hundreds
of MB lower (517 MB parent vs 289 MB child in a probe on this machine) and the difference came out negative. The
child therefore measures against itself:

1. it runs the function once (warm-up: faults in the code it needs, fills lazily built caches such as COMMA's KD
   reference), frees what it can (`gc.collect()`, `malloc_trim(0)`),
2. takes its current RSS as the baseline and resets its high-water mark to it (`/proc/self/clear_refs` "5"),
3. runs the function again and reports `VmHWM - baseline` (VmHWM is what `ru_maxrss` reports).

glibc's dynamic mmap threshold is pinned (`mallopt(M_MMAP_THRESHOLD, 128 KiB)`) so that large tensors freed in the
warm-up go back to the OS instead of being kept in the heap, where the measured call could reuse them unseen. A probe
allocating three 16 MB tensors reports 45.75 MiB with this procedure (exact: 3 x 15.26 MiB). The expensive cases skip
the warm-up (`warmup=False`): their baseline is the child's RSS at start, so the number also contains the code pages
the call faults in (tens of MB, small next to their activations); RESULTS.md says which cases did.

The child runs torch with one thread: GNU OpenMP's thread pool does not survive fork (a child that uses the
parent's pool hangs), and the thread count changes timing, not the tensors that are alive.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import torch

M_MMAP_THRESHOLD = -3  # glibc mallopt parameter number
CHILD_TIMEOUT_S = 1800.0  # a measurement that has not answered by then is reported as failed, not waited for


@dataclass(frozen=True)
class PeakMemory:
    mb: float | None  # peak extra memory of one call in MiB; None when it could not be measured
    kind: str  # what was measured: "rss" (CPU, forked child) or "cuda" (max_memory_allocated)
    warmup: bool  # whether a warm-up call ran before the measured one
    baseline_mb: float | None = None  # RSS (CPU) or allocated bytes (CUDA) the peak is measured from
    error: str | None = None  # why `mb` is None

    def as_info(self) -> dict[str, object]:
        info: dict[str, object] = {
            "peak_mem_mb": None if self.mb is None else round(self.mb, 2),
            "peak_mem_kind": self.kind,
            "peak_mem_warmup": self.warmup,
            "peak_mem_baseline_mb": None if self.baseline_mb is None else round(self.baseline_mb, 2),
        }
        if self.error:
            info["peak_mem_error"] = self.error
        return info


def _status_mb(key: str) -> float:
    """A `kB` field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _child(fn: Callable[[], object], warmup: bool, conn) -> None:
    try:
        torch.set_num_threads(1)
        libc = _libc()
        if libc is not None:
            libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        if warmup:
            fn()
        gc.collect()
        if libc is not None:
            libc.malloc_trim(0)
        baseline = _status_mb("VmRSS")
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM (and so ru_maxrss) to the current RSS
        fn()
        conn.send(("ok", _status_mb("VmHWM") - baseline, baseline))
    except BaseException as exc:  # the parent reports it; the benchmark itself still runs in the parent
        conn.send(("error", f"{exc.__class__.__name__}: {exc}", traceback.format_exc(limit=3)))
    finally:
        conn.close()


def _peak_rss(fn: Callable[[], object], warmup: bool) -> PeakMemory:
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, warmup, send), daemon=True)
    proc.start()
    send.close()
    try:
        if not recv.poll(CHILD_TIMEOUT_S):
            return PeakMemory(None, "rss", warmup, error=f"no answer within {CHILD_TIMEOUT_S:.0f} s")
        status, value, extra = recv.recv()
    except EOFError:
        return PeakMemory(None, "rss", warmup, error=f"child exited with code {proc.exitcode} before answering")
    finally:
        if proc.is_alive():
            proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if status != "ok":
        return PeakMemory(None, "rss", warmup, error=str(value))
    return PeakMemory(float(value), "rss", warmup, baseline_mb=float(extra))


def _peak_cuda(fn: Callable[[], object], device: torch.device, warmup: bool) -> PeakMemory:
    if warmup:
        fn()
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - base
    return PeakMemory(peak / 2**20, "cuda", warmup, baseline_mb=base / 2**20)


def peak_memory(fn: Callable[[], object], device: torch.device, *, warmup: bool = True) -> PeakMemory:
    """Extra memory one call of `fn` needs at its peak, on `device` (see the module docstring for how)."""
    if device.type == "cuda":
        return _peak_cuda(fn, device, warmup)
    return _peak_rss(fn, warmup)


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids of every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue  # exited meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may contain spaces and parentheses
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process (shared pages split between their users), RSS where PSS is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def tree_pss_mb(root_pid: int) -> tuple[float, int]:
    """(summed PSS in MiB, number of processes) of `root_pid` and all its descendants right now."""
    tree = _children_map()
    todo, total, count = [root_pid], 0.0, 0
    while todo:
        pid = todo.pop()
        total += _pss_mb(pid)
        count += 1
        todo.extend(tree.get(pid, []))
    return total, count


class TreeMemorySampler:
    """Peak summed PSS of a process tree (a CLI that starts Ray workers), sampled by a background thread.

    PSS rather than RSS so that libraries shared by many workers count once in total. Sampling misses peaks shorter
    than the interval; the number is a lower bound of the true peak, and RESULTS.md says so.
    """

    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        import threading

        self.pid = pid
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self.max_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            mb, count = tree_pss_mb(self.pid)
            self.peak_mb = max(self.peak_mb, mb)
            self.max_processes = max(self.max_processes, count)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
