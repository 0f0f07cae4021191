"""The table of tests/gpu/ab_overhead.sh: per phase and tracer, the median over pairs (and ranks
and rounds) of on/off - 1, with the quartiles of that ratio, and partrace's slowdown as a
fraction of torch.profiler's.   python3 ab_table.py WORK_DIR"""
import glob
import json
import os
import statistics
import sys

work = sys.argv[1]
ratios = {}  # (mode, phase) -> [on/off of each pair]
for path in sorted(glob.glob(os.path.join(work, "*", "rank*.json"))):
    d = json.load(open(path))
    for phase, v in d["phases"].items():
        pairs = list(zip(v["off_us"], v["on_us"]))[1:]  # the first pair warms the tracer up
        ratios.setdefault((d["ab"], phase), []).extend(on / off for off, on in pairs)


def quartiles(v):
    q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
    return q[0] - 1, q[1] - 1, q[2] - 1


phases = sorted({p for _, p in ratios}, key=["eager", "graph", "launch", "small"].index)
print("| phase | none (spread) | partrace | torch.profiler | partrace / torch |")
print("|---|---|---|---|---|")
for phase in phases:
    cells, mid = [], {}
    for mode in ("none", "partrace", "torch"):
        v = ratios.get((mode, phase))
        if not v:
            cells.append("—")
            continue
        lo, m, hi = quartiles(v)
        mid[mode] = m
        cells.append(f"{m * 100:+.2f} % ({lo * 100:+.1f}..{hi * 100:+.1f}, n={len(v)})")
    frac = f"{mid['partrace'] / mid['torch']:.3f}" if mid.get("torch", 0) > 0 and "partrace" in mid else "—"
    print(f"| {phase} | " + " | ".join(cells) + f" | {frac} |")
