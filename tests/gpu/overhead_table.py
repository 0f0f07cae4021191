"""The overhead table of tests/gpu/cuda_timeline.sh, from the rank<R>.json files of its runs.

Each configuration ran once per round, rounds interleaved. Per run, a rank's step time is the median
of its blocks (tp_loop.py, TP_BLOCKS); a run's time is the median over its ranks. The table gives,
per configuration, the median over rounds of the run times and its slowdown against no partrace,
plus the spread of the per-round paired slowdowns (this round's run against this round's plain
run), for wall time and for the main thread's CPU time per step.

usage: overhead_table.py WORK_DIR"""
import glob
import json
import os
import statistics
import sys

CONFIGS = (("plain", "no partrace"), ("nccl_only", "partrace, PARTRACE_CUDA=off"),
           ("kernels", "partrace, kernels (default records, tie)"),
           ("kernels_notie", "partrace, kernels (default records, no tie)"),
           ("kernelsonly", "partrace, kernels: kernel+memcpy records, tie"),
           ("notie", "partrace, kernels: kernel+memcpy records, no tie"),
           ("rec_kernel", "records kernel, no tie"),
           ("rec_kernel_memcpy_memset", "records kernel+memcpy+memset, no tie"),
           ("rec_kernel_memory", "records kernel+memory, no tie"),
           ("rec_kernel_sync", "records kernel+sync, no tie"),
           ("rec_kernel_tie", "records kernel, launch tie"),
           ("profiled", "torch.profiler (CPU+CUDA)"))
KEYS = (("eager_step_us", "eager wall"), ("eager_cpu_us", "eager CPU"), ("graph_step_us", "graph wall"),
        ("launch_step_us", "64 launches wall"), ("small_step_us", "16 launches + all_reduce wall"))


def runs(work, name):
    """{round: {key: median over ranks}} of one configuration."""
    out = {}
    for d in glob.glob(os.path.join(work, name + "*")):
        tail = os.path.basename(d)[len(name):]
        if not (tail.isdigit() or (tail == "" and name == "profiled")) or not os.path.isdir(d):
            continue
        ranks = [json.load(open(p)) for p in glob.glob(os.path.join(d, "rank*.json"))]
        if ranks:
            out[int(tail or 0)] = {k: statistics.median(r[k] for r in ranks if k in r)
                                   for k, _ in KEYS if any(k in r for r in ranks)}
    return out


def main():
    work = sys.argv[1]
    base = runs(work, "plain")
    if not base:
        print("no plain runs")
        return 1
    print(f"rounds: {len(base)}; per run: median over ranks of each rank's median block")
    keys = [(k, t) for k, t in KEYS if any(k in r for r in base.values())]
    print("| configuration | " + " | ".join(f"{t} (µs) | slowdown | paired min..max" for _, t in keys) + " |")
    print("|---" * (1 + 3 * len(keys)) + "|")
    for name, label in CONFIGS:
        got = runs(work, name)
        if not got:
            continue
        cells = []
        for key, _ in keys:
            vals = [r[key] for r in got.values() if key in r]
            ref = statistics.median(r[key] for r in base.values())
            if not vals:
                cells += ["—"] * 3
                continue
            mid = statistics.median(vals)
            paired = [100 * (got[k][key] / base[k][key] - 1) for k in got if k in base and key in got[k]]
            spread = f"{min(paired):+.1f}..{max(paired):+.1f} %" if paired and name != "plain" else "—"
            cells += [f"{mid:.1f}", f"{100 * (mid / ref - 1):+.2f} %", spread]
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
