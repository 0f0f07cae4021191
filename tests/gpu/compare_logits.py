"""Compares the logits pt_engine --dump-logits PREFIX wrote (PREFIX.0, PREFIX.1, ...: one file per
replica; each request's first token) for two runs of the same model and load (two layouts, or
prefix caching on and off):
per request (matched by id), the largest absolute difference relative to the largest logit, and
whether the greedy token agrees. Prints one JSON line; exit 1 when a request is missing, the
relative difference is over TOL (default 0.05: bf16 partial sums in another order) or fewer than
MIN_AGREE (default 0.9) of the tokens agree.
    python3 compare_logits.py BASE_PREFIX OTHER_PREFIX [TOL] [MIN_AGREE]"""
import glob
import json
import struct
import sys


def read(prefix):
    rows = {}
    for path in sorted(glob.glob(glob.escape(prefix) + ".*")):
        rows.update(read_file(path))
    return rows


def read_file(path):
    """pt_engine's dump: "PTLG", the vocabulary size, then (request id, vocab floats) to the end."""
    rows = {}
    with open(path, "rb") as f:
        magic, vocab = struct.unpack("<2I", f.read(8))
        if magic != 0x474C5450:
            raise SystemExit(f"{path}: not a pt_engine logits file")
        while head := f.read(4):
            (rid,) = struct.unpack("<I", head)
            rows[rid] = struct.unpack(f"<{vocab}f", f.read(4 * vocab))
    return rows


def argmax(v):
    return max(range(len(v)), key=lambda i: (v[i], -i))


def main():
    base, other = read(sys.argv[1]), read(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    min_agree = float(sys.argv[4]) if len(sys.argv) > 4 else 0.9
    missing = sorted(set(base) ^ set(other))
    worst, agree = 0.0, 0
    for rid in sorted(set(base) & set(other)):
        a, b = base[rid], other[rid]
        scale = max(abs(x) for x in a) or 1.0
        worst = max(worst, max(abs(x - y) for x, y in zip(a, b)) / scale)
        agree += argmax(a) == argmax(b)
    n = len(set(base) & set(other))
    result = {"requests": n, "missing": missing, "max_rel_diff": worst,
              "token_agreement": agree / n if n else 0.0}
    print(json.dumps(result))
    ok = not missing and n > 0 and worst <= tol and result["token_agreement"] >= min_agree
    sys.exit(0 if ok else 1)


main()
