#!/usr/bin/env python3
"""The error table of docs/WHATIF.md: `partrace whatif` from one-GPU runs of the engine against
the 4-GPU layouts measured in docs/MATRIX.md (its "Results" table, read as it stands).

    scripts/whatif_errors.py BUILD RUNS [--matrix MATRIX.md] [--write DOC]

RUNS holds one folder per model and concurrency, named MODEL-cCONC (small-c4, moe-small-c64, ...),
each with the run's trace folder `traced/` (samples/gpu-whatif, made by tests/gpu/whatif_runs.sh).
Prints a Markdown table, one row per measured layout: measured and predicted TTFT p50 and p99,
TPOT p50 and output tokens/s with the errors, then the median absolute error of each, over all
rows and by model. With --write, the tables replace what stands between DOC's
`<!-- whatif-errors begin -->` and `<!-- whatif-errors end -->` lines instead."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

LAYOUTS = {"TP4": "tp=4", "TP2×DP2": "tp=2,dp=2", "DP4": "dp=4", "PP4": "pp=4", "TP2×PP2": "tp=2,pp=2",
           "EP4": "dp=4,ep=4"}
FIGURES = [("ttft_p50_ms", "TTFT p50 ms"), ("ttft_p99_ms", "TTFT p99 ms"), ("tpot_p50_ms", "TPOT p50 ms"),
           ("output_tokens_per_s", "out tok/s")]


def number(cell):
    return float(cell.replace(",", ""))


def matrix_rows(path):
    """The Results table: (model, layout label, concurrency, {figure: value})."""
    lines = open(path, encoding="utf-8").read().split("## Results", 1)[1].splitlines()
    head = None
    for line in lines:
        if not line.startswith("|"):
            if head:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if head is None:
            head = cells
            continue
        if set(cells[0]) <= set("-"):
            continue
        row = dict(zip(head, cells))
        model, label = row["model, layout"].split(" ", 1)
        yield model, label, int(row["concurrency"]), {
            "ttft_p50_ms": number(row["TTFT p50 ms"]), "ttft_p99_ms": number(row["TTFT p99 ms"]),
            "tpot_p50_ms": number(row["TPOT p50 ms"]), "output_tokens_per_s": number(row["output tokens/s"])}


def predict(build, run, model, layout, config_dir):
    config = os.path.join(config_dir, model + ".json")
    if not os.path.exists(config):
        with open(config, "w") as f:
            subprocess.run([os.path.join(build, "pt_model_config"), model], stdout=f, check=True)
    out = subprocess.run([os.path.join(build, "partrace"), "whatif", "--json", "--model-config", config,
                          "--gpus", "4", "--layout", layout, run], capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)["compare"]["runs"]
    return rows[-1]["serving"]


def error_tables(build, runs, matrix):
    """The two tables as Markdown lines."""
    errors, lines = {}, []
    lines.append("| model, layout | concurrency | " + " | ".join(f"{name} measured / predicted (error)"
                                                            for _, name in FIGURES) + " |")
    lines.append("|---|---|" + "---|" * len(FIGURES))
    with tempfile.TemporaryDirectory() as tmp:
        for model, label, conc, measured in matrix_rows(matrix):
            run = os.path.join(runs, f"{model}-c{conc}", "traced")
            predicted = predict(build, run, model, LAYOUTS[label], tmp)
            cells = []
            for key, _ in FIGURES:
                err = 100.0 * (predicted[key] - measured[key]) / measured[key]
                errors.setdefault(key, {}).setdefault(model, []).append(abs(err))
                digits = 0 if key == "output_tokens_per_s" else 2
                cells.append(f"{measured[key]:,.{digits}f} / {predicted[key]:,.{digits}f} ({round(err):+d} %)")
            lines.append(f"| {model} {label} | {conc} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| median absolute error | " + " | ".join(name for _, name in FIGURES) + " |")
    lines.append("|---|" + "---|" * len(FIGURES))
    models = sorted({m for by in errors.values() for m in by})
    for who in ["all"] + models:
        cells = []
        for key, _ in FIGURES:
            values = [e for m, es in errors[key].items() if who in ("all", m) for e in es]
            cells.append(f"{statistics.median(values):.0f} %")
        lines.append(f"| {who} | " + " | ".join(cells) + " |")
    return lines


BEGIN, END = "<!-- whatif-errors begin -->", "<!-- whatif-errors end -->"


def write_into(doc, lines):
    text = open(doc, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        sys.exit(f"whatif_errors: {doc} has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(doc, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("runs")
    ap.add_argument("--matrix", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                     "MATRIX.md"))
    ap.add_argument("--write", metavar="DOC")
    args = ap.parse_args()
    lines = error_tables(args.build, args.runs, args.matrix)
    if args.write:
        write_into(args.write, lines)
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
