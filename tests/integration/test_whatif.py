"""partrace whatif: a generated one-GPU server whose step costs are known exactly
(tests/tools/gen_serving.c) gives back those costs, and its predictions for other layouts equal
docs/WHATIF.md's formulas worked out here by hand; a bundled engine sample predicts the 4-GPU
layouts; bad layouts, configs and runs are one clear line."""
import json
import os
import re
import subprocess
import sys

from harness import BUILD, TraceTest, cli, main

GEN_SERVING = os.path.join(BUILD, "tools", "gen_serving")
GEN = os.path.join(BUILD, "tools", "gen_trace")
MODEL_CONFIG = os.path.join(BUILD, "pt_model_config")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SAMPLES = os.path.join(ROOT, "samples")

# The generated server's costs in ns (gen_serving.c): class → (fixed, per token / pair, per ctx).
GEMM, ATT, HEAD, REPL = (100e3, 500.0), (20e3, 2.0, 300.0), (5e3, 50.0), (8e3, 20.0)
GAPS, HOST = (3e3, 30.0), (40e3, 5.0)
TINY = {"num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 4,
        "head_dim": 32, "intermediate_size": 512, "vocab_size": 512, "torch_dtype": "bfloat16",
        "rope_scaling": {"type": "linear", "factor": [1, 2, {"x": "}"}]}}
AR, P2P = (9.0, 200.0), (10.0, 110.0)  # built-in links: latency us, bus GB/s


def step_ns(tp, pp, tokens, pairs, ctx, layers=4, h=256, b=2):
    """docs/WHATIF.md, "A step under a layout", for a dense model; returns (step, shares)."""
    m = min(pp, tokens) if pp > 1 else 1
    t1, a1, s = tokens / m, pairs / m, 1.0 / pp
    compute = s * (GEMM[0] + GEMM[1] * t1 / tp + ATT[0] + ATT[1] * a1 / tp + ATT[2] * ctx +
                   HEAD[0] + HEAD[1] * t1 / tp + REPL[0] + REPL[1] * t1)
    gaps = s * (GAPS[0] + GAPS[1] * t1)
    tp_comm = s * 2 * layers * 1e3 * (AR[0] + t1 * h * b * 2 * (tp - 1) / tp / (AR[1] * 1e3)) if tp > 1 else 0
    tau = compute + gaps + tp_comm
    host = HOST[0] + HOST[1] * tokens
    if pp > 1:
        hop = 1e3 * (P2P[0] + t1 * h * b / (P2P[1] * 1e3))
        total = host + m * tau + (pp - 1) * (tau + hop) + 1e3 * P2P[0]
    else:
        total = host + tau
    return total, {"compute": m * compute, "tp": m * tp_comm, "idle": host + m * gaps,
                   "pp": total - host - m * tau}


def predict(tp, pp, dp, n, conc, prompt, output):
    """The waves of gen_serving's closed loop on each of dp replicas: TTFT, TPOT, tokens/s, shares."""
    c = conc // dp
    prefill, sh = step_ns(tp, pp, c * prompt, c * prompt * (prompt + 1) / 2, prompt)
    shares = dict(sh)
    decodes = []
    for j in range(1, output):
        d, sh = step_ns(tp, pp, c, c * (prompt + j), prompt + j)
        decodes.append(d)
        for k in shares:
            shares[k] += sh[k]
    wave = prefill + sum(decodes)
    waves = n // dp // c
    total = prefill + sum(decodes)
    return {"ttft": prefill / 1e6, "tpot": sum(decodes) / (output - 1) / 1e6,
            "tokens_per_s": n * output / (waves * wave / 1e9),
            "shares": {k: 100 * v / total for k, v in shares.items()}}


class Whatif(TraceTest):
    def setUp(self):
        super().setUp()
        self.config = os.path.join(self.tmp, "config.json")
        with open(self.config, "w") as f:
            json.dump(TINY, f)

    def serving_run(self, n=32, conc=4, prompt=64, output=16):
        path = os.path.join(self.tmp, f"serving-{len(os.listdir(self.tmp))}")
        os.makedirs(path)
        subprocess.run([GEN_SERVING, path, str(n), str(conc), str(prompt), str(output)], check=True)
        return path

    def whatif(self, *args):
        return json.loads(cli("whatif", "--json", "--model-config", self.config, *args).stdout)

    def row(self, w, label):
        rows = [r for r in w["compare"]["runs"] if r["layout"]["label"] == label and r["serving"]["source"] == "whatif"]
        self.assertEqual(len(rows), 1, label)
        return rows[0]

    def test_fit_gives_back_the_costs(self):
        w = self.whatif(self.serving_run())
        costs = w["costs"]
        self.assertAlmostEqual(costs["gemm"]["fixed_ns"], GEMM[0], delta=1)
        self.assertAlmostEqual(costs["gemm"]["per_token_ns"], GEMM[1], delta=0.01)
        self.assertAlmostEqual(costs["attention"]["fixed_ns"], ATT[0], delta=1)
        self.assertAlmostEqual(costs["attention"]["per_pair_ns"], ATT[1], delta=0.001)
        self.assertAlmostEqual(costs["attention"]["per_ctx_ns"], ATT[2], delta=0.01)
        self.assertAlmostEqual(costs["per_head"]["per_token_ns"], HEAD[1], delta=0.01)
        self.assertAlmostEqual(costs["replicated"]["fixed_ns"], REPL[0], delta=1)
        self.assertAlmostEqual(costs["launch_gaps"]["per_token_ns"], GAPS[1], delta=0.01)
        self.assertAlmostEqual(costs["host"]["fixed_ns"], HOST[0], delta=10)
        self.assertEqual((w["steps"]["measured"], w["steps"]["replayed"]), (128, 128))
        self.assertEqual(w["steps"]["rows_matched_pct"], 100)
        self.assertLess(w["steps"]["fit_error_pct"], 0.01)
        self.assertEqual((w["load"]["requests"], w["load"]["concurrency"], w["load"]["open_loop"]), (32, 4, False))
        self.assertEqual(w["links"]["from"], "the built-in table")

    def test_predictions_follow_the_model(self):
        n, conc, prompt, output = 32, 4, 64, 16
        w = self.whatif("--gpus", "4", "--layout", "tp=2,dp=2", "--layout", "pp=4", "--layout", "tp=4",
                        "--layout", "tp=2,pp=2", "--layout", "dp=4", self.serving_run(n, conc, prompt, output))
        measured = w["compare"]["runs"][0]
        self.assertEqual(measured["serving"]["source"], "nvtx")
        own = self.row(w, "1 GPU")  # the run's own layout through the model gives the run back
        for key in ("ttft_p50_ms", "tpot_p50_ms", "output_tokens_per_s"):
            self.assertAlmostEqual(own["serving"][key] / measured["serving"][key], 1.0, places=4, msg=key)
        for key in ("gpu_busy_pct", "idle_pct"):  # the measured shares are the serving steps' too
            self.assertAlmostEqual(own["shares"][key], measured["shares"][key], delta=0.1, msg=key)
        for label, (tp, pp, dp) in {"TP2×DP2": (2, 1, 2), "PP4": (1, 4, 1), "TP4": (4, 1, 1),
                                    "TP2×PP2": (2, 2, 1), "DP4": (1, 1, 4)}.items():
            want, got = predict(tp, pp, dp, n, conc, prompt, output), self.row(w, label)
            # (the generated steps start 2 ns after the last one's token marks: the fitted host
            # cost is 2 ns over gen_serving's)
            self.assertAlmostEqual(got["serving"]["ttft_p50_ms"] / want["ttft"], 1.0, places=4, msg=label)
            self.assertAlmostEqual(got["serving"]["ttft_p99_ms"] / want["ttft"], 1.0, places=4, msg=label)
            self.assertAlmostEqual(got["serving"]["tpot_p50_ms"] / want["tpot"], 1.0, delta=0.01, msg=label)
            self.assertAlmostEqual(got["serving"]["output_tokens_per_s"] / want["tokens_per_s"], 1.0, places=4,
                                   msg=label)
            shares = got["shares"]
            self.assertAlmostEqual(shares["tp_comm_pct"], want["shares"]["tp"], places=2, msg=label)
            self.assertAlmostEqual(shares["pp_bubble_pct"], want["shares"]["pp"], places=2, msg=label)
            self.assertAlmostEqual(shares["idle_pct"], want["shares"]["idle"], places=2, msg=label)
            self.assertEqual((got["layout"]["tp"], got["layout"]["pp"], got["layout"]["dp"]), (tp, pp, dp))
        # weights only (the generated run recorded no allocations): docs/WHATIF.md, "Memory per GPU"
        h, layers = 256, 4
        layer = h * 32 * (8 + 2 * 4) + 32 * 8 * h + 3 * h * 512 + 2 * h
        other = 2 * 512 * h + h
        for label, (tp, pp) in {"TP4": (4, 1), "PP4": (1, 4), "TP2×PP2": (2, 2)}.items():
            want = (layer / tp * layers / pp + other / tp / (2 if pp > 1 else 1)) * 2 / 2**30
            self.assertAlmostEqual(self.row(w, label)["memory"]["mem_peak_gib"], want, places=9, msg=label)

    def test_every_layout_that_fits(self):
        w = self.whatif("--gpus", "4", self.serving_run())
        labels = sorted(r["layout"]["label"] for r in w["compare"]["runs"][2:])
        self.assertEqual(labels, sorted(["DP4", "PP2×DP2", "PP4", "TP2×DP2", "TP2×PP2", "TP4"]))
        self.assertEqual(w["gpus"], 4)
        moe = dict(TINY, num_local_experts=8, num_experts_per_tok=2)
        with open(self.config, "w") as f:
            json.dump(moe, f)
        w = self.whatif("--gpus", "4", self.serving_run())
        labels = {r["layout"]["label"] for r in w["compare"]["runs"][2:]}
        self.assertIn("DP4×EP4", labels)
        self.assertIn("TP2×DP2×EP4", labels)
        self.assertIn("TP4×EP4", labels)

    def test_text_and_markdown(self):
        run = self.serving_run()
        text = cli("whatif", "--model-config", self.config, "--gpus", "2", run).stdout
        self.assertIn("closed loop at concurrency 4", text)
        self.assertIn("sampled rows equal in 100.0 %", text)
        self.assertIn("serving from whatif", text)
        self.assertNotIn("findings", text)
        md = cli("whatif", "--markdown", "--model-config", self.config, "--gpus", "2", run).stdout
        self.assertIn("| step cost (one GPU) |", md)
        self.assertIn("| GEMM | 100.00 | 500.000 |", md)

    def test_bad_input(self):
        run = self.serving_run()
        cases = [
            (["--layout", "tp=3"], "tp=3 does not divide the model's 8 attention and 4 KV heads"),
            (["--layout", "pp=3"], "pp=3 does not divide the model's 4 layers"),
            (["--gpus", "4", "--layout", "tp=2,pp=4"], "tp×pp×dp = 8, not the 4 GPUs asked for"),
            (["--layout", "ep=2"], "ep=2, but the model has no experts"),
            (["--layout", "tp=2,xp=2"], "'xp=2' is not tp=N, pp=N, dp=N or ep=N"),
            (["--gpus", "0"], "--gpus takes a whole number from 1 to 4096, not '0'"),
        ]
        for args, want in cases + [([run, "--layout"], "--layout needs a value")]:
            r = cli("whatif", "--model-config", self.config, *args, *([run] if run not in args else []),
                    check=False)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(want, r.stderr, args)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        r = cli("whatif", run, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --model-config config.json", r.stderr)
        for text, want in [("{\"num_hidden_layers\": 4", "not a JSON object"),
                           ("{\"hidden_size\": 256}", "no \"num_hidden_layers\""),
                           ("{\"num_hidden_layers\": 4.5}", "\"num_hidden_layers\" is not a positive whole number"),
                           ("[1, 2]", "not a JSON object")]:
            with open(self.config, "w") as f:
                f.write(text)
            r = cli("whatif", "--model-config", self.config, run, check=False)
            self.assertEqual(r.returncode, 2, text)
            self.assertIn(self.config + ": " + want, r.stderr, text)
        with open(self.config, "w") as f:
            json.dump(TINY, f)
        tp_run = os.path.join(self.tmp, "tp")  # collectives, no serving steps
        os.makedirs(tp_run)
        subprocess.run([GEN, tp_run, "tp", "2", "4", "1000", "1000", "1024", "0", "0"], check=True,
                       capture_output=True)
        r = cli("whatif", "--model-config", self.config, tp_run, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("whatif replays the run's requests", r.stderr)
        pp_run = os.path.join(self.tmp, "pp")
        os.makedirs(pp_run)
        subprocess.run([GEN, pp_run, "pp", "2", "2", "1000", "8"], check=True, capture_output=True)
        r = cli("whatif", "--model-config", self.config, pp_run, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("whatif predicts from a run without PP or EP; this one has PP=2 EP=1", r.stderr)

    def test_compare_shows_predictions(self):
        run = self.serving_run()
        alone = self.whatif("--gpus", "2", "--layout", "tp=2", "--layout", "dp=2", run)["compare"]["runs"]
        other = os.path.join(self.tmp, "tp")
        os.makedirs(other)
        subprocess.run([GEN, other, "tp", "2", "4", "1000", "1000", "1024", "0", "0"], check=True,
                       capture_output=True)
        cmp = json.loads(cli("compare", "--json", "--whatif", "tp=2", "--whatif", "dp=2", "--gpus", "2",
                             "--model-config", self.config, run, other).stdout)
        runs = cmp["runs"]
        self.assertEqual([r["serving"] and r["serving"]["source"] for r in runs], ["nvtx", None, "whatif", "whatif", "whatif"])
        self.assertEqual([r["layout"]["label"] for r in runs[2:]], ["1 GPU", "TP2", "DP2"])
        for got, want in zip(runs[2:], alone[1:]):  # the same rows as whatif's own
            self.assertEqual(got["serving"], want["serving"])
            self.assertEqual(got["shares"], want["shares"])
        best = cmp["best_row"]["output_tokens_per_s"]
        self.assertEqual(runs[best]["serving"]["output_tokens_per_s"],
                         max(r["serving"]["output_tokens_per_s"] for r in runs if r["serving"]))
        text = cli("compare", "--whatif", "tp=2", "--model-config", self.config, run).stdout
        self.assertIn("serving from whatif", text)
        for args, want in [(["--model-config", self.config], "--model-config is for --whatif"),
                           (["--whatif", "tp=2"], "compare: --whatif: whatif needs the model's shapes"),
                           (["--whatif", "tp=3", "--model-config", self.config],
                            "tp=3 does not divide the model's 8 attention and 4 KV heads")]:
            r = cli("compare", *args, run, check=False)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(want, r.stderr, args)

    def test_engine_sample(self):
        """The bundled one-GPU engine run (small model) predicts the 4-GPU layouts; the replay
        matches every step's sampled rows."""
        config = os.path.join(self.tmp, "small.json")
        with open(config, "w") as f:
            subprocess.run([MODEL_CONFIG, "small"], stdout=f, check=True)
        w = json.loads(cli("whatif", "--json", "--model-config", config, "--gpus", "4",
                           os.path.join(SAMPLES, "gpu-engine-metrics", "traced")).stdout)
        self.assertEqual(w["steps"]["rows_matched_pct"], 100)
        self.assertEqual(w["steps"]["measured"], w["steps"]["replayed"])
        self.assertEqual(w["load"]["concurrency"], 8)
        self.assertEqual(len(w["compare"]["runs"]), 2 + 6)
        own, measured = w["compare"]["runs"][1], w["compare"]["runs"][0]
        self.assertAlmostEqual(own["serving"]["tpot_p50_ms"] / measured["serving"]["tpot_p50_ms"], 1, delta=0.05)
        self.assertAlmostEqual(own["serving"]["output_tokens_per_s"] / measured["serving"]["output_tokens_per_s"],
                               1, delta=0.05)

    def test_error_table_against_the_matrix(self):
        """The one-GPU runs of samples/gpu-whatif predict docs/MATRIX.md's 4-GPU layouts within the
        goal (median absolute error over all pairs), and docs/WHATIF.md shows the table the script
        prints today."""
        out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "whatif_errors.py"), BUILD,
                              os.path.join(SAMPLES, "gpu-whatif")], capture_output=True, text=True, check=True).stdout
        lines = out.splitlines()
        self.assertEqual(sum(1 for l in lines if re.match(r"\| (small|moe-small) [A-Z]", l)), 14)
        median = next(l for l in lines if l.startswith("| all |"))
        ttft, _, tpot, tokens = (float(c.strip().rstrip(" %")) for c in median.strip("|").split("|")[1:])
        self.assertLessEqual(ttft, 25)
        self.assertLessEqual(tpot, 15)
        self.assertLessEqual(tokens, 15)
        doc = open(os.path.join(ROOT, "docs", "WHATIF.md"), encoding="utf-8").read()
        block = doc.split("<!-- whatif-errors begin -->\n", 1)[1].split("<!-- whatif-errors end -->", 1)[0]
        self.assertEqual(block, out, "docs/WHATIF.md: rerun scripts/whatif_errors.py BUILD samples/gpu-whatif "
                                     "--write docs/WHATIF.md")


if __name__ == "__main__":
    main()
