"""Checks `partrace report --json` of a pt_engine run against the engine's own numbers:
the trace-derived TTFT and TPOT p50 within 5 % of the engine's (summary.json), the request count
equal; with --straggle RANK:US, the report's straggler is RANK and the delay it recovers (the
others' waiting per collective it was last in, per waiting rank) is within 10 % of US.
Prints one JSON line; exit 1 when a check fails.
    python3 check_engine.py REPORT.json ENGINE_SUMMARY.json [--straggle RANK:US]"""
import json
import sys


def main():
    report = json.load(open(sys.argv[1]))
    engine = json.load(open(sys.argv[2]))
    out, ok = {}, True
    q = report["summary"]["requests"] or {}
    out["requests"] = [q.get("count"), engine["requests"]]
    ok &= q.get("count") == engine["requests"]
    for key, ours in (("ttft_ms", "ttft_p50_ms"), ("tpot_ms", "tpot_p50_ms")):
        trace = q.get(key, {}).get("p50")
        rel = abs(trace - engine[ours]) / engine[ours] if trace is not None and engine[ours] else None
        out[key + "_p50"] = {"trace": trace, "engine": engine[ours], "rel_diff": rel}
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


main()
