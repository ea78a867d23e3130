"""Render pytest-benchmark's JSON as `RESULTS.md`: every group side by side, its ratios, peak memory, the machine.

`make bench` produces both files in one go (benchmarks/conftest.py calls `render` just before pytest-benchmark writes
its JSON). To re-render an existing JSON:

    .venv/bin/python -m benchmarks.summarize benchmarks/results.json -o benchmarks/RESULTS.md

Later JSON arguments replace whole groups of earlier ones (a quick-start run added afterwards); `--supplement FILE`
reports another run in its own section (e.g. a subset with one torch thread), never mixed into the main ratios.

Nothing here is estimated: every time is a median of measured rounds, every ratio is a quotient of two medians from
the same run, every memory figure was measured by `benchmarks/memory.py`. Benchmarks that did not run are listed as
not measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

COMMAND = (
    "make bench   # = .venv/bin/python -m pytest benchmarks -q --benchmark-only "
    "--benchmark-json=benchmarks/results.json"
)


@dataclass(frozen=True)
class Headline:
    group_prefix: str  # every group whose name starts with this gets a row
    slow: str  # variant whose time is divided ...
    fast: str  # ... by this variant's time
    what: str  # what the ratio shows
    target: float | None  # the target for it, if any


HEADLINES = (
    Headline("text tower", "full-77 (official)", "truncated (ours)", "exact truncation vs full 77 tokens", 3.0),
    Headline(
        "cocoop eval:", "per-image, full-77 (official)", "batched, truncated (ours)", "batched vs official loop", 5.0
    ),
    Headline("cocoop eval:", "per-image, truncated", "batched, truncated (ours)", "batching alone", None),
    Headline("cocoop eval:", "per-image, full-77 (official)", "per-image, truncated", "truncation alone", None),
    Headline("test-split decoding", "decoded per run (official)", "cached (ours)", "decoded-image cache", None),
)

DETAIL_KEYS = (
    "positions",
    "tokens",
    "sequences",
    "text_calls",
    "images_per_pass",
    "chunk_activation_mb",
    "unchunked_full77_activation_mb",
    "trainable_params",
    "runs",
    "jpeg_mb",
    "max_processes",
)

MEMORY_NOTE = """\
**Peak memory.** CPU: each variant runs once more in a child process forked for the measurement (torch with one
thread there: GNU OpenMP's pool does not survive fork). The child first calls the function once (warm-up), frees
what it can (`gc.collect()`, `malloc_trim`), takes its RSS as the baseline, resets its high-water mark
(`/proc/self/clear_refs` = 5), calls the function again and reports `VmHWM - baseline` (VmHWM is `ru_maxrss`).
glibc's mmap threshold is pinned at 128 KiB so that large tensors are really returned to the OS between the calls.
Why not "the child's `ru_maxrss` minus the parent's RSS before the fork": a forked child does not start at its
parent's RSS (file-backed pages such as libtorch's code are not copied into its page tables): a probe measured
517 MB in the parent and 289 MB in the fresh child, so that difference is off by hundreds of MB. Cases marked
"no warm-up" (the most expensive ones) skip the first call; their baseline is the child's RSS at start, so their
figure also holds the code pages the call faults in (tens of MB). CUDA: `torch.cuda.max_memory_allocated` minus
the memory allocated before the call, after a warm-up call. Quick-start sweep: summed PSS of the whole process tree
(CLI, Ray daemons and workers) sampled every 0.5 s, a lower bound of the true peak."""


def _fmt_time(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _fmt_mem(info: dict) -> str:
    mb = info.get("peak_mem_mb")
    if mb is None:
        err = info.get("peak_mem_error")
        return f"not measured ({err})" if err else "not measured"
    kind = info.get("peak_mem_kind", "rss")
    suffix = "" if info.get("peak_mem_warmup", True) else ", no warm-up"
    label = {"rss": "RSS", "cuda": "CUDA alloc", "tree-pss": "tree PSS"}.get(kind, kind)
    return f"{mb:,.1f} MB ({label}{suffix})"


def _variant(bench: dict) -> str:
    return str(bench.get("extra_info", {}).get("variant") or bench.get("param") or bench["name"])


def _groups(data: dict) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data.get("benchmarks", []):
        groups[bench.get("group") or bench["name"]].append(bench)
    return groups


def _baseline(benches: list[dict]) -> dict | None:
    marked = [b for b in benches if b.get("extra_info", {}).get("baseline")]
    return marked[0] if marked else None


def _median(bench: dict) -> float:
    return float(bench["stats"]["median"])


def _machine(data: dict) -> list[str]:
    mi = data.get("machine_info", {})
    cb = mi.get("comma_bench", {})
    cpu = cb.get("cpu_model") or mi.get("cpu", {}).get("brand_raw") or mi.get("processor") or "unknown"
    lines = [
        f"- CPU: {cpu}; `nproc` = {cb.get('nproc', mi.get('cpu', {}).get('count', '?'))}"
        + (f", {cb['mem_total_gb']} GB RAM" if cb.get("mem_total_gb") else ""),
        f"- torch {cb.get('torch', '?')} with {cb.get('torch_threads', '?')} intra-op threads, device "
        f"`{cb.get('device', 'cpu')}`" + (f" ({cb['cuda_device']})" if cb.get("cuda_device") else ""),
        f"- Python {mi.get('python_version', '?')} on {mi.get('system', '?')} {mi.get('release', '')}".rstrip(),
    ]
    if cb.get("loadavg_start") is not None:
        lines.append(
            f"- 1-minute load average: {cb['loadavg_start']:.2f} at the start, {cb.get('loadavg_end', 0):.2f} at the "
            "end (the machine's cores are shared; a load above the core count means other processes competed)"
        )
    for extra in data.get("comma_bench_merged") or []:
        load = extra.get("loadavg_start")
        lines.append(
            f"- groups {', '.join(extra['groups'])} come from a separate run (`{extra['file']}`, {extra['datetime']}, "
            f"{extra.get('cpu_model')}, {extra.get('torch_threads')} threads"
            + (f", load {load:.2f} at its start" if load is not None else "")
            + ")"
        )
    commit = data.get("commit_info", {})
    if commit.get("id"):
        dirty = " (with uncommitted changes)" if commit.get("dirty") else ""
        lines.append(f"- commit {commit['id'][:12]}{dirty}, run at {data.get('datetime', '?')}")
    return lines


def _headlines(groups: dict[str, list[dict]]) -> list[str]:
    rows = []
    for h in HEADLINES:
        for group, benches in groups.items():
            if not group.startswith(h.group_prefix):
                continue
            by_variant = {_variant(b): b for b in benches}
            if h.slow not in by_variant or h.fast not in by_variant:
                continue
            slow, fast = by_variant[h.slow], by_variant[h.fast]
            ratio = _median(slow) / _median(fast)
            cpu = _cpu_ratio(slow, fast)
            target = "–" if h.target is None else f"≥ {h.target:g}×"
            met = "–" if h.target is None else ("met" if ratio >= h.target else "**not met**")
            rows.append(f"| {group} | {h.what}: {h.slow} ÷ {h.fast} | **{ratio:.2f}×** | {cpu} | {target} | {met} |")
    if not rows:
        return []
    return [
        "| benchmark | ratio (time ÷ time) | wall-time ratio | CPU-time ratio | target (wall) | |",
        "|---|---|---:|---:|---:|---|",
        *rows,
    ]


def _cpu_ratio(slow: dict, fast: dict) -> str:
    a, b = slow.get("extra_info", {}).get("cpu_s_median"), fast.get("extra_info", {}).get("cpu_s_median")
    return f"{a / b:.2f}×" if a and b else "–"


def _train_table(groups: dict[str, list[dict]]) -> list[str]:
    rows = []
    for group, benches in groups.items():
        base = _baseline(benches)
        if not group.startswith("train step") or base is None:
            continue
        for b in benches:
            if b is base:
                continue
            rows.append(f"| {group} | {_variant(b)} | {_median(b) / _median(base):.2f}× |")
    if not rows:
        return []
    return ["| benchmark | method | step time ÷ zero-shot forward time |", "|---|---|---:|", *rows]


def _group_table(benches: list[dict]) -> list[str]:
    base = _baseline(benches)
    lines = [
        "| variant | median | min – max | rounds | median CPU time | time ÷ baseline | speed-up vs baseline "
        "| peak memory | details |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for b in benches:
        st, info = b["stats"], b.get("extra_info", {})
        rel = speed = "baseline" if b is base else "no baseline in this run"
        if base is not None and b is not base:
            rel = f"{_median(b) / _median(base):.2f}×"
            speed = f"{_median(base) / _median(b):.2f}×"
        details = ", ".join(f"{k}={info[k]}" for k in DETAIL_KEYS if k in info)
        cpu = _fmt_time(info["cpu_s_median"]) if info.get("cpu_s_median") else "–"
        lines.append(
            f"| {_variant(b)} | {_fmt_time(st['median'])} | {_fmt_time(st['min'])} – {_fmt_time(st['max'])} | "
            f"{st['rounds']} | {cpu} | {rel} | {speed} | {_fmt_mem(info)} | {details} |"
        )
    return lines


def _context(benches: list[dict]) -> str:
    info = benches[0].get("extra_info", {})
    parts = [f"backbone `{info['backbone']}`"] if "backbone" in info else []
    for key in ("n_classes", "images", "batch", "text_chunk", "n_images", "image_size", "command"):
        if key in info and not (key == "text_chunk" and "images_per_pass" in info):
            parts.append(f"{key}={info[key]}")
    return "; ".join(parts)


def _sections(groups: dict[str, list[dict]], level: str) -> list[str]:
    """Headline ratios, the training-step table and every group's table, with headings at `level` ("##")."""
    out: list[str] = []
    heads = _headlines(groups)
    if heads:
        out += [f"{level} Headline ratios", "", *heads, ""]
    train = _train_table(groups)
    if train:
        out += [f"{level} Training step cost relative to a zero-shot forward", "", *train, ""]
    out += [f"{level} All benchmarks", ""]
    for group, benches in groups.items():
        out += [f"{level}# {group}", ""]
        ctx = _context(benches)
        if ctx:
            out += [ctx, ""]
        out += [*_group_table(benches), ""]
    return out


def _supplement(name: str, doc: dict) -> list[str]:
    cb = doc.get("machine_info", {}).get("comma_bench", {})
    env = " ".join(f"{k}={v}" for k, v in sorted((cb.get("env") or {}).items()))
    command = f"{env} {cb['command']}".strip() if cb.get("command") else "(not recorded)"
    return [
        f"## Supplementary run: `{name}` ({cb.get('torch_threads', '?')} torch threads)",
        "",
        "A separate run of some of the benchmarks, reported beside the main run, never mixed into its ratios. Command:",
        "",
        "```bash",
        command,
        "```",
        "",
        "Machine:",
        "",
        *_machine(doc),
        "",
        *_sections(_groups(doc), "###"),
    ]


def render(data: dict, *, json_name: str = "results.json", supplements: list[tuple[str, dict]] = ()) -> str:
    """RESULTS.md for one pytest-benchmark JSON document (plus separately reported supplementary runs)."""
    groups = _groups(data)
    out = [
        "# comma-bench performance results",
        "",
        "Generated by `benchmarks/summarize.py` from `" + json_name + "`; do not edit by hand. Command:",
        "",
        "```bash",
        COMMAND,
        "```",
        "",
        "Machine:",
        "",
        *_machine(data),
        "",
        "Every ratio below divides two medians measured side by side in this one run (wall time is pytest-benchmark's "
        "timer; CPU time is the process's user+system time over all its threads, shown because other processes "
        "share the cores and can inflate wall time but not CPU time); random-init backbones "
        "(`test-tiny`: 2 layers, width 64; `golden-vitb16-32`: ViT-B/16's widths and depths, so its text tower is "
        "exactly ViT-B/16's, with 32 px images so the vision tower is cheap). Each variant was checked to compute "
        "the same values as its baseline inside the benchmark before it was timed.",
        "",
    ]
    out += _sections(groups, "##")
    quickstart_failed = any("test_quickstart" in f["test"] for f in data.get("comma_bench_failures") or [])
    if not any(g.startswith("quickstart") for g in groups) and not quickstart_failed:
        out += [
            "### quickstart sweep (wall time)",
            "",
            "Not measured in this run (it takes minutes): `COMMA_BENCH_BENCH_QUICKSTART=1 make bench` times "
            "`comma-bench run sweeps/quickstart.yaml` once.",
            "",
        ]
    failures = data.get("comma_bench_failures") or []
    if failures:
        out += ["## Failed benchmarks (not measured)", ""]
        out += [f"- `{f['test']}` ({f['when']}): {f['message']}" for f in failures]
        out += [""]
    for name, doc in supplements:
        out += _supplement(name, doc)
    out += ["## How memory was measured", "", MEMORY_NOTE, ""]
    return "\n".join(out)


def merge(docs: list[tuple[str, dict]]) -> dict:
    """One document from several runs: later files replace whole groups of earlier ones (e.g. a later quick-start run).

    Ratios stay within one run, because every group (and so every ratio) comes from exactly one file.
    """
    name0, base = docs[0]
    merged = {**base, "benchmarks": list(base.get("benchmarks", [])), "comma_bench_merged": []}
    failures = list(base.get("comma_bench_failures") or [])
    for name, doc in docs[1:]:
        new_groups = {b.get("group") or b["name"] for b in doc.get("benchmarks", [])}
        merged["benchmarks"] = [b for b in merged["benchmarks"] if (b.get("group") or b["name"]) not in new_groups]
        merged["benchmarks"] += doc.get("benchmarks", [])
        tests = {b["fullname"] for b in doc.get("benchmarks", []) if "fullname" in b}
        failures = [f for f in failures if f["test"] not in tests] + list(doc.get("comma_bench_failures") or [])
        cb = doc.get("machine_info", {}).get("comma_bench", {})
        merged["comma_bench_merged"].append(
            {
                "file": name,
                "datetime": doc.get("datetime"),
                "groups": sorted(new_groups),
                "loadavg_start": cb.get("loadavg_start"),
                "torch_threads": cb.get("torch_threads"),
                "cpu_model": cb.get("cpu_model"),
            }
        )
    merged["comma_bench_failures"] = failures
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render pytest-benchmark JSON as RESULTS.md")
    parser.add_argument(
        "json", type=Path, nargs="+", help="pytest-benchmark --benchmark-json output(s); later files replace groups"
    )
    parser.add_argument(
        "--supplement",
        type=Path,
        action="append",
        default=[],
        help="another run reported in its own section (e.g. with other thread counts); repeatable",
    )
    parser.add_argument("-o", "--output", type=Path, default=None, help="default: RESULTS.md next to the first JSON")
    args = parser.parse_args(argv)
    docs, extra = [], []
    for path in [*args.json, *args.supplement]:
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{path}: not a readable pytest-benchmark JSON ({exc})", file=sys.stderr)
            return 2
        (docs if path in args.json else extra).append((path.name, doc))
    target = args.output or args.json[0].with_name("RESULTS.md")
    data = merge(docs) if len(docs) > 1 else docs[0][1]
    target.write_text(render(data, json_name=" + ".join(name for name, _ in docs), supplements=extra))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
