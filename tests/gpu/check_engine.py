"""Checks `partrace report --json` of a pt_engine run against the engine's own numbers:
the trace-derived TTFT and TPOT p50 within 5 % of the engine's, the request count equal. The
engine's p50 is taken from its per-request times (requests-*.tsv beside summary.json) as the
report takes percentiles, nearest-rank (summary.json's interpolate between ranks, which differs
when the requests fall in groups); with --straggle RANK:US, the report's straggler is RANK and the delay it recovers (the
others' waiting per collective it was last in, per waiting rank) is within 10 % of US.
Prints one JSON line; exit 1 when a check fails.
    python3 check_engine.py REPORT.json ENGINE_SUMMARY.json [--straggle RANK:US]"""
import glob
import json
import math
import os
import sys


def nearest_rank_p50(values):
    v = sorted(values)
    return v[max(1, math.ceil(0.5 * len(v))) - 1] if v else None


def engine_p50s(summary_path):
    """TTFT and TPOT p50 (ms) from the engine's per-request times, nearest-rank."""
    ttft, tpot = [], []
    for path in glob.glob(os.path.join(os.path.dirname(summary_path), "requests-*.tsv")):
        with open(path) as f:
            next(f)
            for line in f:
                _, arrive, first, end, out, *_ = line.split()
                ttft.append((float(first) - float(arrive)) * 1e3)
                if int(out) > 1:
                    tpot.append((float(end) - float(first)) * 1e3 / (int(out) - 1))
    return nearest_rank_p50(ttft), nearest_rank_p50(tpot)


def main():
    report = json.load(open(sys.argv[1]))
    engine = json.load(open(sys.argv[2]))
    out, ok = {}, True
    q = report["summary"]["requests"] or {}
    out["requests"] = [q.get("count"), engine["requests"]]
    ok &= q.get("count") == engine["requests"]
    for key, ours in zip(("ttft_ms", "tpot_ms"), engine_p50s(sys.argv[2])):
        trace = q.get(key, {}).get("p50")
        rel = abs(trace - ours) / ours if trace is not None and ours else None
        out[key + "_p50"] = {"trace": trace, "engine": ours, "rel_diff": rel}
        ok &= rel is not None and rel <= 0.05
    if len(sys.argv) > 4 and sys.argv[3] == "--straggle":
        rank, us = (int(x) for x in sys.argv[4].split(":"))
        worst = max(report["stragglers"], key=lambda s: s["cost_ns"])
        comm = next(c for c in report["communicators"] if c["id"] == worst["comm"])
        recovered = worst["cost_ns"] / worst["last"] / (comm["nranks"] - 1) / 1e3
        out["straggler"] = {"rank": worst["rank"], "injected_us": us, "recovered_us": recovered,
                            "last_in": worst["last"], "of": comm["instances"]}
        ok &= worst["rank"] == rank and abs(recovered - us) <= 0.1 * us
    out["ok"] = bool(ok)
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
