"""partrace compare: generated runs whose truth is known (a TP run with one late rank, a
pipeline, an EP run) and the bundled GPU samples, side by side: layouts, figures equal to each
run's own report, the best of each column, findings ordered by cost; the text, Markdown and HTML
forms; bad input."""
import json
import math
import os
import subprocess

from harness import BUILD, PARTRACE, TraceTest, cli, main

GEN = os.path.join(BUILD, "tools", "gen_trace")
SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples")


class Compare(TraceTest):
    def gen(self, name, *args):
        path = os.path.join(self.tmp, name)
        os.makedirs(path)
        subprocess.run([GEN, path, *map(str, args)], check=True, capture_output=True)
        return path

    def compare(self, *args):
        """compare --json, each run's figures gathered into "metrics" for the checks below."""
        cmp = json.loads(cli("compare", "--json", *args).stdout)
        for run in cmp["runs"]:
            serving = run["serving"] or {}
            self.assertEqual(set(run["shares"]), {"gpu_busy_pct", "exposed_comm_pct", "tp_comm_pct",
                                                  "pp_bubble_pct", "ep_comm_pct", "idle_pct"})
            run["metrics"] = {**{k: serving.get(k) for k in ("ttft_p50_ms", "ttft_p99_ms", "tpot_p50_ms",
                                                           "tpot_p99_ms", "output_tokens_per_s",
                                                           "kv_hit_rate")},
                              **run["shares"], **run["memory"]}
            run["serving_source"] = serving.get("source")
        return cmp

    def assert_like_reports(self, cmp):
        """Every run's figures are its own report's."""
        for run in cmp["runs"]:
            rep = json.loads(cli("report", "--json", run["dir"]).stdout)
            m = run["metrics"]
            self.assertAlmostEqual(m["gpu_busy_pct"], rep["summary"]["gpu_busy_pct"], places=2)
            self.assertAlmostEqual(m["exposed_comm_pct"], rep["summary"]["exposed_comm_pct"], places=2)
            lay = rep["layout"]
            self.assertEqual((run["layout"]["tp"], run["layout"]["pp"], run["layout"]["dp"],
                              run["layout"]["ep"]), (lay["tp"], lay["pp"], lay["dp"], lay["ep"]))
            worst = max(rep["stragglers"], key=lambda s: s["cost_ns"], default=None)
            if worst and worst["cost_ns"]:
                self.assertEqual(run["straggler"]["rank"], worst["rank"])
                self.assertAlmostEqual(run["straggler"]["wait_ms"], worst["cost_ns"] / 1e6, places=6)
            else:
                self.assertIsNone(run["straggler"])
            serving = rep["serving"]
            self.assertEqual(run["serving_source"], serving and serving["source"])
            if serving:
                self.assertEqual(m["ttft_p50_ms"], serving["ttft_ms"]["p50"])
                self.assertEqual(m["tpot_p99_ms"], serving["tpot_ms"]["p99"])

    def assert_best(self, cmp):
        higher = {"output_tokens_per_s", "kv_hit_rate", "gpu_busy_pct"}
        for name in cmp["runs"][0]["metrics"]:
            values = [(r["metrics"][name], r["dir"]) for r in cmp["runs"] if r["metrics"][name] is not None]
            if not values:
                self.assertNotIn(name, cmp["best"])
                continue
            want = (max if name in higher else min)(values, key=lambda v: v[0])[0]
            self.assertEqual([v for v, d in values if d == cmp["best"][name]][0], want, name)

    def test_generated_layouts(self):
        tp = self.gen("tp", "tp", 4, 20, 100_000, 20_000, 1 << 20, 0, 0, 300_000, 0)
        pp = self.gen("pp", "pp", 4, 8, 50_000, 3)
        ep = self.gen("ep", "ep", 4, 10, 80_000, 20_000, 65536, 1, 3)
        cmp = self.compare(tp, pp, ep)
        self.assertEqual(cmp["schema"], "partrace.compare/0")
        self.assertEqual([r["layout"]["label"] for r in cmp["runs"]], ["TP4", "PP4", "DP4×EP4"])
        # Rank 2 of the TP run is 300 us late at each of 20 all-reduces: 3 ranks wait 18 ms.
        self.assertEqual(cmp["runs"][0]["straggler"], {"rank": 2, "role": "TP", "wait_ms": 18.0})
        self.assert_like_reports(cmp)
        self.assert_best(cmp)
        costs = [f["cost"] for f in cmp["findings"]]
        self.assertEqual(costs, sorted(costs, reverse=True))
        texts = {f["run"]: [] for f in cmp["findings"]}
        for f in cmp["findings"]:
            texts[f["run"]].append(f["text"])
        self.assertTrue(any("rank 2 is the busiest straggler" in t and "18.000 ms" in t for t in texts[tp]))
        # The bubble as (p-1)/(m+p-1): the m that gives the measured share.
        b = cmp["runs"][1]["metrics"]["pp_bubble_pct"] / 100
        m = 3 * (1 - b) / b
        bubble = [t for t in texts[pp] if "pipeline bubble" in t]
        self.assertEqual(len(bubble), 1)
        self.assertIn(f"m = {m:.1f} micro-batches", bubble[0])
        self.assertIn(f"{100 * b:.1f} % of GPU time", bubble[0])
        self.assertTrue(any("receives" in t and "hot experts" in t for t in texts[ep]))

    def test_bundled_samples(self):
        runs = [os.path.join(SAMPLES, s, "traced") for s in
                ("gpu-engine-straggle", "gpu-engine-ep-skew", "gpu-pp-ep", "gpu-recorder-one-gpu")]
        cmp = self.compare(*runs)
        self.assertEqual([r["layout"]["label"] for r in cmp["runs"]], ["TP4", "DP4×EP4", "PP4×EP4", "1 GPU"])
        self.assert_like_reports(cmp)
        self.assert_best(cmp)
        # The engine's straggle sample: rank 2 is slowed on purpose.
        self.assertEqual(cmp["runs"][0]["straggler"]["rank"], 2)
        text = cli("compare", *runs).stdout.splitlines()
        self.assertEqual(text[0], "runs:")
        self.assertTrue(text[1].startswith("  A  TP4              4 ranks  serving from nvtx"))
        self.assertTrue(text[2].startswith("  B  DP4×EP4          4 ranks  serving from nvtx"))
        busy = [l for l in text if l.startswith("D ")][-1].split()
        self.assertEqual(busy[1], "%.1f*" % cmp["runs"][3]["metrics"]["gpu_busy_pct"])
        md = cli("compare", "--markdown", *runs).stdout
        self.assertIn("| run | layout | ranks | TTFT p50 ms |", md)
        self.assertEqual(md.count("\n1. "), len(cmp["findings"]))

    def test_html_page(self):
        tp = self.gen("tp", "tp", 4, 10, 100_000, 20_000, 1 << 20, 0, 0, 300_000, 0)
        pp = self.gen("pp", "pp", 4, 8, 50_000, 3)
        page = os.path.join(self.tmp, "c.html")
        cli("compare", "--html", page, tp, pp)
        html = open(page).read()
        self.assertEqual(html.count("<svg"), 2)  # GPU busy and exposed comm: no serving figures
        self.assertIn("class=best", html)
        self.assertNotIn("http", html.split("<body>")[1].split("partrace;")[0])
        again = cli("compare", "--html", page, tp, pp, check=False)
        self.assertEqual(again.returncode, 2)
        self.assertIn("exists", again.stderr)
        self.assertEqual(cli("compare", "--html", page, "--force", tp, pp, check=False).returncode, 0)

    def test_run_metrics_gate_ci_and_show_in_diff(self):
        straggle = os.path.join(SAMPLES, "gpu-engine-straggle", "traced")
        timeline = os.path.join(SAMPLES, "gpu-cuda-timeline", "traced")
        ttft = self.compare(straggle)["runs"][0]["metrics"]["ttft_p50_ms"]
        proc = cli("report", "--fail-if", f"ttft_p50_ms > {ttft - 0.001}", straggle, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn(f"holds: {ttft:.3f}", proc.stderr)
        self.assertEqual(cli("report", "--fail-if", f"ttft_p50_ms > {ttft + 0.001}",
                             "--fail-if", "gpu_busy_pct < 1", straggle, check=False).returncode, 0)
        proc = cli("report", "--fail-if", "tpot_p99_ms > 1", timeline, check=False)
        self.assertEqual(proc.returncode, 3)  # a gate on a figure the run lacks fails, loudly
        self.assertIn("does not tell tpot_p99_ms", proc.stderr)
        self.assertEqual(cli("report", "--fail-if", "max(rank.ttft_p50_ms) > 1", straggle,
                             check=False).returncode, 2)
        ep = os.path.join(SAMPLES, "gpu-engine-ep-skew", "traced")
        diff = json.loads(cli("diff", "--json", straggle, ep).stdout)["serving"]
        cmp = self.compare(straggle, ep)
        for name in ("ttft_p50_ms", "tpot_p99_ms", "output_tokens_per_s"):
            self.assertEqual(diff[name]["base"], cmp["runs"][0]["metrics"][name])
            self.assertEqual(diff[name]["new"], cmp["runs"][1]["metrics"][name])
        self.assertIsNone(diff["kv_hit_rate"]["change_pct"])
        text = cli("diff", straggle, ep).stdout
        self.assertIn("TTFT p50 ms", text)
        proc = cli("diff", "--max-regression", "10", straggle, ep, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("ttft_p50_ms got worse", proc.stderr)

    def test_reports_show_each_phase(self):
        # The text and Markdown reports carry the per-phase table the HTML page has: each phase's
        # shares are those of `report --phase NAME`.
        straggle = os.path.join(SAMPLES, "gpu-engine-straggle", "traced")
        text = cli("report", straggle).stdout.split("per phase")[1].splitlines()[2:5]
        md = cli("report", "--markdown", straggle).stdout
        for line, phase in zip(text, ("warmup", "prefill", "decode")):
            rep = json.loads(cli("report", "--json", "--phase", phase, straggle).stdout)
            pcts = [r["attribution_pct"] for r in rep["ranks"] if r.get("attribution_pct")]
            idle = sum(p["idle"] for p in pcts) / len(pcts)
            cells = line.split()
            self.assertEqual(cells[0], phase)
            self.assertEqual(cells[-1], "%.1f%%" % idle)
            self.assertIn("| %s |" % phase, md)

    def test_bad_input(self):
        tp = self.gen("tp", "tp", 2, 5, 100_000, 20_000, 1 << 20, 0, 0)
        missing = os.path.join(self.tmp, "nope")
        proc = cli("compare", tp, missing, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("nope", proc.stderr)
        for args, said in [(("--json", "--markdown", tp), "choose one"), ((), "which runs"),
                           (("--phase",), "needs a value"), (("--bogus", tp), "unknown option")]:
            proc = cli("compare", *args, check=False)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(said, proc.stderr)


if __name__ == "__main__":
    main()
