"""Checks the serving figures partrace gives for a pt_engine run recorded with --metrics against
the engine's own summary: from the scraped Prometheus metrics (the metrics file alone, source
prometheus) and from the engine's NVTX marks (the whole run, source nvtx): TTFT p50 within 5 %
of the engine's (the scraped histogram's against the engine's interpolated p50, the marks'
against its nearest-rank p50, as each is computed) and the KV hit rate within 5 % (relative);
requests equal. Prints one JSON line;
exit 1 when a check fails.
    python3 check_metrics.py METRICS_REPORT.json RUN_REPORT.json ENGINE_SUMMARY.json"""
import json
import sys

from check_engine import engine_p50s


def close(a, b, rel):
    return a is not None and b is not None and abs(a - b) <= rel * abs(b)


def main():
    prom = json.load(open(sys.argv[1]))["serving"]
    nvtx = json.load(open(sys.argv[2]))["serving"]
    engine = json.load(open(sys.argv[3]))
    nearest_ttft, _ = engine_p50s(sys.argv[3])
    out, ok = {}, True
    for name, s in (("prometheus", prom), ("nvtx", nvtx)):
        if not s or s["source"] != name:
            out[name] = f"no serving figures from {name}"
            ok = False
            continue
        want = engine["ttft_p50_ms"] if name == "prometheus" else nearest_ttft
        got = {"ttft_p50_ms": [s["ttft_ms"]["p50"], want],
               "kv_hit_rate": [s["kv_hit_rate"], engine["kv_hit_rate"]],
               "requests": [s["requests"], engine["requests"]]}
        ok &= close(*got["ttft_p50_ms"], 0.05) and close(*got["kv_hit_rate"], 0.05)
        ok &= got["requests"][0] == got["requests"][1]
        out[name] = got
    out["ok"] = bool(ok)
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


main()
