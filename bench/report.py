#!/usr/bin/env python3
"""Markdown tables from attn-bench JSON output.

    attn-bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
               --benchmark_report_aggregates_only=true \
               --benchmark_out=run1.json --benchmark_out_format=json
    python3 bench/report.py run1.json [run2.json ...]

Takes the `median` aggregate of every benchmark in every file; with several
files, each number is the median over the files of those medians, and
`spread` is (max - min) / median of the GFLOP/s over the files. Prints the
context (CPU, peak, library kernels), a table with one row per benchmark and
tables of the ratios of attnc's MLIR and Halide backends (baseline time /
its time: > 1 means faster; the MLIR lines also against the Halide ones),
and the performance targets those lines measure, met or not.

Rows come in attn-bench's registration order and every ratio is computed
here from the lines' median times, so runs with
`--benchmark_enable_random_interleaving=true` (repetitions of all lines
shuffled together) read the same as runs in order.
"""

import json
import re
import statistics
import sys

SUFFIX = re.compile(r"/(iterations:\d+|manual_time|real_time|repeats:\d+|min_time:[0-9.]+)")


def clean(name):
    return SUFFIX.sub("", name)


def registrationOrder(b):
    """Where attn-bench registered the line; files written without these
    fields (before Google Benchmark 1.6) keep their own order."""
    return (b.get("family_index", 0), b.get("per_family_instance_index", 0))


def load(paths):
    runs, context, repetitions = [], None, set()
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        medians = {}
        for b in sorted(data["benchmarks"], key=registrationOrder):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            if b.get("error_occurred"):
                continue
            if "repetitions" in b:
                repetitions.add(b["repetitions"])
            medians[clean(b["run_name"] if "run_name" in b else b["name"])] = b
        rescalePeakPercentages(medians, data.get("context", {}))
        runs.append(medians)
    return runs, context, repetitions


def rescalePeakPercentages(medians, context):
    """Makes every `pct_peak` of a run relative to the higher of the run's
    start-up peak (best of 5 short FMA runs, before any benchmark) and its
    peak line's median: when another tenant held the core during the start-up
    measurement, that one came out low (277 instead of 421 GFLOP/s on two
    threads in one run) and every percentage of the run with it."""
    for t in ("t1", "t2"):
        peak = float(context.get(f"fma_peak_gflops_{t}", 0) or 0)
        line = next((b for n, b in medians.items()
                     if n.startswith("peak/") and n.endswith("/" + t)), None)
        if line is not None and "GFLOPs" in line:
            peak = max(peak, line["GFLOPs"])
        if peak <= 0:
            continue
        for n, b in medians.items():
            if n.endswith("/" + t) and "GFLOPs" in b and "pct_peak" in b:
                b["pct_peak"] = 100.0 * b["GFLOPs"] / peak


def combine(runs, name, key):
    values = [r[name][key] for r in runs if name in r and key in r[name]]
    return statistics.median(values) if values else None


def fmt(x, digits=1):
    if x is None:
        return ""
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def milliseconds(runs, name):
    t = combine(runs, name, "real_time")
    unit = next((r[name].get("time_unit") for r in runs if name in r), "ms")
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}.get(unit, 1.0)
    return None if t is None else t * scale


# The performance issue's targets: shapes of at least S1024 against the
# faster composed library, the masks at S2048, threads, memory, the block.
LONG_SHAPES = ("H12_S1024_D64", "H32_S2048_D128")
S2048 = "H32_S2048_D128"


def targets(runs):
    """Rows (target, measured, met) for the targets whose lines the runs
    have; every time is the median over the runs of each run's median."""
    ms = lambda name: milliseconds(runs, name)
    rows = []

    def ratios(pairs):
        """'1.32x (t1), 1.38x (t2)' and whether all are known."""
        values = [(t, num / den) for t, num, den in pairs if num and den]
        text = ", ".join(f"{v:.2f}x ({t})" for t, v in values)
        return text, [v for _, v in values], len(values) == len(pairs)

    for case, need in zip(LONG_SHAPES, (75, 80)):
        pct = combine(runs, f"{case}/none/attnc/t1", "pct_peak")
        if pct is not None:
            rows.append((f"non-causal, 1 thread, >= {need} % of peak at {case}",
                         f"{pct:.1f} %", pct >= need))
    for mask, need in (("none", 1.4), ("causal", 2.8)):
        for case in LONG_SHAPES:
            pairs = []
            for t in ("t1", "t2"):
                libs = [x for x in (ms(f"{case}/{mask}/openblas/{t}"),
                                    ms(f"{case}/{mask}/onednn/{t}")) if x]
                pairs.append((t, min(libs) if libs else None,
                              ms(f"{case}/{mask}/attnc/{t}")))
            text, values, complete = ratios(pairs)
            if values:
                rows.append((f">= {need}x the faster library, {mask}, {case}",
                             text, complete and min(values) >= need))
    for mask, label, need in (("causal", "causal", 1.85),
                              ("window256", "window(256)", 5.0)):
        text, values, complete = ratios(
            [(t, ms(f"{S2048}/none/attnc/{t}"), ms(f"{S2048}/{mask}/attnc/{t}"))
             for t in ("t1", "t2")])
        if values:
            rows.append((f"{label} >= {need}x faster than non-causal at {S2048}",
                         text, complete and min(values) >= need))
    for case in LONG_SHAPES:
        pairs = [(mask, ms(f"{case}/{mask}/attnc/t1"), ms(f"{case}/{mask}/attnc/t2"))
                 for mask in ("none", "causal", "window256")]
        text, values, complete = ratios(pairs)
        if values:
            rows.append((f"2 threads >= 1.85x one thread at {case}", text,
                         complete and min(values) >= 1.85))
    memory = [n for r in runs for n in r if n.startswith("memory/")]
    per_thread = [combine(runs, n, "scratch_MB_per_thread") for n in set(memory)]
    per_thread = [x for x in per_thread if x is not None]
    if per_thread:
        rows.append(("extra memory <= 1 MB per thread (memory line)",
                     f"{max(per_thread):.3f} MB", max(per_thread) <= 1.0))
    text, values, complete = ratios(
        [(t, ms(f"gpt2_block_1024/openblas/{t}"), ms(f"gpt2_block_1024/attnc/{t}"))
         for t in ("t1", "t2")])
    if values:
        rows.append(("GPT-2-size block >= 1.3x its OpenBLAS twin", text,
                     complete and min(values) >= 1.3))
    return rows


def main(paths):
    runs, ctx, repetitions = load(paths)
    names = []
    for r in runs:
        for n in r:
            if n not in names:
                names.append(n)

    print(f"Date: {ctx.get('date', '?')}; host {ctx.get('host_name', '?')}, "
          f"{ctx.get('num_cpus', '?')} CPUs; {len(runs)} run(s), medians of "
          + (f"{'/'.join(map(str, sorted(repetitions)))} repetitions each"
             if repetitions else "each line's repetitions"))
    for key in ("fma_peak_isa", "fma_peak_gflops_t1", "fma_peak_gflops_t2",
                "attnc_threads", "openblas", "onednn"):
        if key in ctx:
            print(f"- {key}: {ctx[key]}")
    print("- % peak: of the higher of each run's start-up peak and its "
          "peak/fma line")
    print()

    multi = len(runs) > 1
    head = ["benchmark", "ms", "GFLOP/s", "useful GFLOP/s", "% peak", "max abs err", "RSS MB"]
    if multi:
        head.insert(3, "spread")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for n in names:
        t = milliseconds(runs, n)
        g = combine(runs, n, "GFLOPs")
        err = combine(runs, n, "err")
        row = [n, fmt(t, 2), fmt(g), fmt(combine(runs, n, "useful_GFLOPs")),
               fmt(combine(runs, n, "pct_peak")),
               "" if err is None else f"{err:.1e}",
               fmt(combine(runs, n, "rss_MB"), 0)]
        if multi:
            vals = [r[n]["GFLOPs"] for r in runs if n in r and "GFLOPs" in r[n]]
            row.insert(3, f"{100 * (max(vals) - min(vals)) / statistics.median(vals):.0f}%"
                       if len(vals) > 1 else "")
        print("| " + " | ".join(row) + " |")
    print()

    # The same median times as the targets below, rather than the lines'
    # vs_* counters: attn-bench computes those from the baseline repetitions
    # that ran before the line, which under random interleaving are some of
    # them or none.
    baselines = ["naive/t1", "openblas/t1", "openblas/t2", "onednn/t1",
                 "onednn/t2", "halide/t1", "halide/t2"]
    for impl in ("attnc", "halide"):
        lines = [n for n in names
                 if f"/{impl}/" in n and not n.startswith("prompt/")]
        if not lines:
            continue
        bases = [b for b in baselines if impl == "attnc" or not b.startswith("halide")]
        label = "attnc (MLIR backend)" if impl == "attnc" else "attnc's Halide backend"
        print(f"{label} relative to each baseline: baseline time / its time "
              "(> 1: faster); on 1 thread (t1) and 2 (t2).")
        print()
        head = ["case", "threads", "GFLOP/s", "% peak"] + [b.replace("/", " ") for b in bases]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for n in lines:
            case, _, threads = n.rpartition(f"/{impl}/")
            row = [case, threads, fmt(combine(runs, n, "GFLOPs")),
                   fmt(combine(runs, n, "pct_peak"))]
            mine = milliseconds(runs, n)
            for b in bases:
                theirs = milliseconds(runs, f"{case}/{b}")
                row.append(f"{theirs / mine:.3f}" if theirs and mine else "")
            print("| " + " | ".join(row) + " |")
        print()

    rows = targets(runs)
    if rows:
        print("Against the performance targets (times: medians over the runs; "
              "the faster library is the faster of openblas and onednn at the "
              "same thread count).")
        print()
        print("| target | measured | |")
        print("|---|---|---|")
        for target, measured, met in rows:
            print(f"| {target} | {measured} | {'met' if met else 'not met'} |")
        print()

    memory = [n for n in names if n.startswith("memory/")]
    if memory:
        print("Temporaries of one call (the runtime's scratch blocks, over all "
              "threads) and the RSS the call added.")
        print()
        print("| line | scratch MB | scratch MB per thread | RSS added MB |")
        print("|---|---|---|---|")
        for n in memory:
            print(f"| {n} | {fmt(combine(runs, n, 'scratch_MB'), 3)} | "
                  f"{fmt(combine(runs, n, 'scratch_MB_per_thread'), 3)} | "
                  f"{fmt(combine(runs, n, 'extra_MB'), 2)} |")
        print()

    prompts = [n for n in names if n.startswith("prompt/")]
    if prompts:
        print("A prompt through attn_decoder_prefill: a whole context from "
              "position 0 (gpt2_block_1024), 512 tokens after 256 "
              "(gpt2_block_1024_after_256) and after 1024 "
              "(gpt2_block_1024_after_1024); a step per token, or the whole "
              "model at once (NAME_prefill), or 64 tokens at a time "
              "(NAME_chunk).")
        print()
        print("| line | ms | tokens/s | steps / whole or chunks |")
        print("|---|---|---|---|")
        for n in prompts:
            mine = milliseconds(runs, n)
            faster = "/whole/" in n or "/chunks/" in n
            steps = milliseconds(runs, n.replace("/whole/", "/steps/")
                                 .replace("/chunks/", "/steps/"))
            ratio = (f"{steps / mine:.2f}" if faster and steps and mine
                     else "")
            print(f"| {n} | {fmt(mine, 1)} | "
                  f"{fmt(combine(runs, n, 'tokens_per_s'), 0)} | {ratio} |")
        print()

    pool = [n for n in names if n.startswith("pool/")]
    if pool:
        print("The thread pool's cost per parallel loop of two empty tasks.")
        print()
        print("| line | us per loop |")
        print("|---|---|")
        for n in pool:
            print(f"| {n} | {fmt(combine(runs, n, 'us_per_loop'), 3)} |")
        print()

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
