"""partrace report against synthetic runs with exactly known truth (tests/tools/gen_trace): the
wait, transfer, bandwidths, straggler and attribution must come out to the nanosecond."""
import json
import os
import shutil
import subprocess
from unittest import mock

from harness import BUILD, TraceTest, cli, main

GEN = os.path.join(BUILD, "tools", "gen_trace")


class ReportExact(TraceTest):
    def generate(self, *args):
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, *map(str, args)], check=True)
        return json.loads(cli("report", "--json", self.run_dir).stdout)

    def test_server_metrics_in_a_window(self):
        # A TP run with a server's scraped metrics beside it: 8 scrapes 1 ms apart, each adding
        # 10 requests (TTFT 5 up to 0.1 s, 3 to 0.5 s, 2 to 1 s), 100 tokens, 40 prefix-cache
        # queries with 10 hits. Over the whole run: 7 increments; in a window holding the scrapes
        # at 2, 3, 4 and 5 ms: 3.
        self.generate("tp", 2, 20, 100_000, 20_000, 1 << 20, 0, 0)
        subprocess.run([GEN, self.run_dir, "metrics", "8", "1000000"], check=True)
        whole = json.loads(cli("report", "--json", self.run_dir).stdout)["serving"]
        self.assertEqual(whole["source"], "prometheus")
        self.assertEqual(whole["requests"], 70)
        self.assertEqual(whole["ttft_ms"], {"p50": 100, "p90": 750, "p99": 975})
        self.assertEqual(whole["kv_hit_rate"], 0.25)
        self.assertEqual(whole["output_tokens_per_s"], 100_000)  # 700 tokens over 7 ms
        self.assertEqual((whole["running_max"], whole["kv_usage_max"]), (6, None))
        part = json.loads(cli("report", "--json", "--from", "0.002", "--to", "0.0055",
                              self.run_dir).stdout)["serving"]
        self.assertEqual(part["requests"], 30)
        self.assertEqual(part["metric_samples"], 32)
        self.assertEqual(part["running_max"], 6)  # scrapes 3..6
        self.assertIn("KV cache use max -,", cli("report", self.run_dir).stdout)

    def test_custom_allreduce_is_tp_time(self):
        # The same TP loop with vLLM's custom all-reduce kernels in place of NCCL's: the GPU time
        # of those kernels is TP communication, exactly as the NCCL kernels' was, and the n-th
        # kernel of every rank is one instance with the NCCL one's wait, transfer and straggler.
        args = ("tp", 4, 50, 50_000, 20_000, 4 << 20, 0, 3000, 1000, 7000)
        nccl = self.generate(*args)
        os.rename(self.run_dir, self.run_dir + "-nccl")
        with mock.patch.dict(os.environ, {"GEN_CUSTOM_AR": "1"}):
            custom = self.generate(*args)
        for a, b in zip(nccl["ranks"], custom["ranks"]):
            self.assertGreater(a["attribution_ns"]["tp_comm"], 0)
            self.assertEqual(b["attribution_ns"], a["attribution_ns"])
            self.assertEqual(b["attribution_ns"]["other_comm"], 0)
        (row,) = [r for r in custom["collectives"] if r["role"] == "TP"]
        (want,) = nccl["collectives"]
        self.assertEqual((row["op"], row["bytes"], row["busbw_gbps"]), ("AllReduce", 0, 0))  # size unknown
        for key in ("count", "gpu_timed", "transfer_ns", "wait_ns"):
            self.assertEqual(row[key], want[key], key)
        comm = next(c for c in custom["communicators"] if c["outside_nccl"])
        self.assertEqual((comm["role"], comm["nranks"], comm["instances"], comm["incomplete"]), ("TP", 4, 50, 0))
        self.assertEqual(comm["outside_nccl"]["class"], "custom_allreduce")
        self.assertEqual(comm["outside_nccl"]["end_spread_ns"], 0)
        self.assertIn("outside NCCL", comm["evidence"])
        self.assertIn("(made, no calls)", comm["evidence"])  # the TP communicator has no call
        text = cli("report", self.run_dir).stdout
        self.assertRegex(text, r"\nTP +[0-9a-f]{8} AllReduce +- +50 +50 +[0-9.]+ +- +- ")
        (strag,) = [s for s in custom["stragglers"] if s["comm"] == comm["id"]]
        (want_strag,) = nccl["stragglers"]
        self.assertEqual((strag["rank"], strag["last"], strag["cost_ns"]),
                         (want_strag["rank"], want_strag["last"], want_strag["cost_ns"]))
        self.assertEqual(custom["layout"]["tp"], 4)

    def test_custom_allreduce_groups_by_ends(self):
        # TP2 x DP2, the TP all-reduces custom (no NCCL call on the TP communicators, which are
        # only made), the DP ones NCCL: each replica's pair of ranks ends its kernels together, so
        # the groups are the made TP communicators' ranks, not the DP communicators' nor all four.
        # Per instance the TP rank 1 of each pair arrives 500 ns late: wait 500, transfer 9500.
        steps = 40
        with mock.patch.dict(os.environ, {"GEN_CUSTOM_AR": "1"}):
            rep = self.generate("mixed", 2, 1, 2, steps)
        outside = [c for c in rep["communicators"] if c["outside_nccl"]]
        self.assertEqual([c["outside_nccl"]["follows"] for c in outside],
                         ["0000000000007100", "0000000000007101"])
        self.assertEqual([c["role"] for c in rep["communicators"] if not c["outside_nccl"]], ["DP", "DP"])
        self.assertEqual((rep["layout"]["tp"], rep["layout"]["dp"]), (2, 2))
        for c in outside:
            (row,) = [r for r in rep["collectives"] if r["comm"] == c["id"]]
            self.assertEqual((row["count"], row["wait_ns"], row["transfer_ns"]), (steps, steps * 500, steps * 9500))
        ids = [c["id"] for c in outside]
        self.assertEqual(sorted(s["rank"] for s in rep["stragglers"] if s["comm"] in ids), [1, 3])

    def test_custom_allreduce_with_forged_communicator_sizes(self):
        # The made communicator's init says more ranks than the run has: its ranks are the group's,
        # the members it lacks missing; past the report's key room (or absurd), it is no
        # candidate and the group is every rank running the kernels. Never a huge allocation.
        for said, nranks, incomplete in ((8, 8, 10), (100_000, 2, 0), (2_000_000_000, 2, 0)):
            with mock.patch.dict(os.environ, {"GEN_CUSTOM_AR": "1", "GEN_INIT_NRANKS": str(said)}):
                rep = self.generate("tp", 2, 10, 50_000, 20_000, 1 << 20, 0, 3000)
            (comm,) = [c for c in rep["communicators"] if c["outside_nccl"]]
            self.assertEqual((comm["nranks"], comm["ranks_in_run"], comm["instances"], comm["incomplete"]),
                             (nranks, 2, 10, incomplete), said)
            self.assertEqual(comm["outside_nccl"]["follows"] is None, said > 65536, said)
            shutil.rmtree(self.run_dir)

    def test_custom_allreduce_missing_rank(self):
        # One rank's file of the custom TP loop gone: the group keeps the made communicator's four
        # ranks, every instance lacks one, and every output says so.
        with mock.patch.dict(os.environ, {"GEN_CUSTOM_AR": "1"}):
            self.generate("tp", 4, 20, 50_000, 20_000, 4 << 20, 0, 3000, 1000, 7000)
        victim = sorted(os.listdir(self.run_dir))[2]
        os.remove(os.path.join(self.run_dir, victim))
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        (comm,) = [c for c in rep["communicators"] if c["outside_nccl"]]
        self.assertEqual((comm["nranks"], comm["ranks_in_run"], comm["instances"], comm["incomplete"]),
                         (4, 3, 20, 20))
        for fmt in ([], ["--markdown"]):
            out = cli("report", *fmt, self.run_dir).stdout
            self.assertIn(f"communicator {comm['id']} has 4 ranks, 3 of them in this run", out)

    def test_graph_replays(self):
        # 4 ranks capture 3 all-reduces into a CUDA graph and replay it 50 times: each replay's
        # all-reduce is an instance of its own, matched across ranks by (capture, replay number);
        # the capture itself ran nothing and is no instance.
        ranks, k_calls, replays, period, transfer, nbytes = 4, 3, 50, 100_000, 20_000, 1 << 20
        skew = [0, 3000, 1000, 7000]
        rep = self.generate("graph", ranks, k_calls, replays, period, transfer, nbytes, *skew)
        (comm,) = rep["communicators"]
        self.assertEqual((comm["instances"], comm["incomplete"], comm["gpu_timed"]),
                         (replays * k_calls, 0, replays * k_calls))
        (row,) = rep["collectives"]
        n = replays * k_calls
        self.assertEqual((row["op"], row["bytes"], row["count"]), ("AllReduce", nbytes, n))
        self.assertEqual(row["transfer_ns"], n * transfer)
        self.assertEqual(row["wait_ns"], n * sum(max(skew) - s for s in skew))
        self.assertAlmostEqual(row["busbw_gbps"], nbytes / transfer * 2 * 3 / 4, places=6)
        (strag,) = rep["stragglers"]
        self.assertEqual((strag["rank"], strag["last"], strag["cost_ns"]), (3, n, row["wait_ns"]))

    def test_custom_allreduce_in_graph_replays(self):
        # The graph scenario with the captured all-reduces custom ones: each replayed kernel is
        # an instance by order, with the waits, transfers and straggler the NCCL replays have.
        ranks, k_calls, replays, period, transfer = 4, 3, 50, 100_000, 20_000
        skew = [0, 3000, 1000, 7000]
        with mock.patch.dict(os.environ, {"GEN_CUSTOM_AR": "1"}):
            rep = self.generate("graph", ranks, k_calls, replays, period, transfer, 1 << 20, *skew)
        (comm,) = [c for c in rep["communicators"] if c["outside_nccl"]]
        n = replays * k_calls
        self.assertEqual((comm["role"], comm["instances"], comm["incomplete"]), ("TP", n, 0))
        (row,) = [r for r in rep["collectives"] if r["comm"] == comm["id"]]
        self.assertEqual((row["count"], row["gpu_timed"]), (n, n))
        self.assertEqual(row["transfer_ns"], n * transfer)
        self.assertEqual(row["wait_ns"], n * sum(max(skew) - s for s in skew))
        (strag,) = [s for s in rep["stragglers"] if s["comm"] == comm["id"]]
        self.assertEqual((strag["rank"], strag["last"], strag["cost_ns"]), (3, n, row["wait_ns"]))

    def test_tp_skew(self):
        ranks, steps, compute, transfer, nbytes = 4, 100, 50_000, 20_000, 4 << 20
        skew = [0, 3000, 1000, 7000]
        rep = self.generate("tp", ranks, steps, compute, transfer, nbytes, *skew)
        self.assertEqual(rep["fidelity"], "gpu")
        self.assertEqual((rep["layout"]["tp"], rep["layout"]["world"]), (4, 4))
        (row,) = rep["collectives"]
        self.assertEqual((row["op"], row["bytes"], row["count"]), ("AllReduce", nbytes, steps))
        self.assertEqual(row["transfer_ns"], steps * transfer)
        self.assertEqual(row["wait_ns"], steps * sum(max(skew) - s for s in skew))
        self.assertAlmostEqual(row["algbw_gbps"], nbytes / transfer, places=6)
        self.assertAlmostEqual(row["busbw_gbps"], nbytes / transfer * 2 * 3 / 4, places=6)
        (strag,) = rep["stragglers"]
        self.assertEqual((strag["rank"], strag["last"]), (3, steps))
        self.assertEqual(strag["cost_ns"], row["wait_ns"])
        period = compute + max(skew) + transfer + 1000
        span = (steps - 1) * period + compute + max(skew) + transfer
        for r in rep["ranks"]:
            a = r["attribution_ns"]
            self.assertEqual(r["gpu_span_ns"], span)
            self.assertEqual(a["compute"], steps * compute)
            self.assertEqual(a["tp_comm"], steps * (max(skew) - skew[r["rank"]] + transfer))
            self.assertEqual(a["idle"], span - a["compute"] - a["tp_comm"])
            self.assertEqual(r["hidden_comm_ns"], 0)

    def test_hosts_with_clock_offsets(self):
        ranks, steps, compute, transfer = 4, 200, 50_000, 20_000
        skew = [0, 3000, 1000, 7000]
        offsets = [0, 0, 5_000_000, 5_000_000]  # ranks 2 and 3 on a host 5 ms ahead
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "tp", str(ranks), str(steps), str(compute), str(transfer),
                        "1048576", *map(str, skew)], check=True,
                       env=dict(os.environ, GEN_HOST_OFFSETS=",".join(map(str, offsets))))
        proc = cli("report", "--json", self.run_dir)
        rep = json.loads(proc.stdout)
        hosts = {h["host"]: h for h in rep["clocks"]["hosts"]}
        self.assertEqual(set(hosts), {"gen-0", "gen-5000000"})
        # Recovered within 5 us (here exactly: every rank's kernel ends together).
        self.assertLessEqual(abs(hosts["gen-5000000"]["offset_ns"] + 5_000_000), 5000)
        self.assertEqual(hosts["gen-5000000"]["samples"], steps)
        (row,) = rep["collectives"]
        self.assertEqual(row["transfer_ns"], steps * transfer)
        self.assertEqual(row["wait_ns"], steps * sum(max(skew) - s for s in skew))
        # Trusting the clocks instead gives nonsense waits: the offset is what made them right.
        trusted = json.loads(cli("report", "--json", "--trust-clocks", self.run_dir).stdout)
        self.assertTrue(trusted["clocks"]["trusted"])
        self.assertGreater(trusted["collectives"][0]["wait_ns"], 100 * row["wait_ns"])

    def test_missing_rank(self):
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir] + [str(a) for a in ("tp", 4, 5, 1000, 500, 1024, 0, 0, 0, 0)], check=True)
        os.remove(os.path.join(self.run_dir, "gen-102.ptrace"))
        proc = cli("report", "--json", self.run_dir)
        self.assertIn("communicator 0000007e57c0ffee has 4 ranks, 3 of them in this run: 5 of 5 "
                      "collectives lack a rank", proc.stderr)
        rep = json.loads(proc.stdout)
        self.assertEqual(rep["layout"]["world"], 3)
        self.assertEqual(rep["communicators"][0]["incomplete"], 5)

    def window_truth(self, *window, phase=None):
        """Steps 10..29 of 50 inside the window: counts and attribution of exactly those."""
        ranks, steps, compute, transfer, nbytes = 4, 50, 50_000, 20_000, 1 << 20
        skew = [0, 3000, 1000, 7000]
        os.makedirs(self.run_dir)
        env = dict(os.environ, GEN_PHASE=phase) if phase else None
        subprocess.run([GEN, self.run_dir, "tp", str(ranks), str(steps), str(compute), str(transfer),
                        str(nbytes), *map(str, skew)], check=True, env=env)
        return json.loads(cli("report", "--json", *window, self.run_dir).stdout), compute, transfer, skew

    def check_steps_10_to_30(self, rep, compute, transfer, skew, clipped_compute=0):
        n = 20
        period = compute + max(skew) + transfer + 1000
        (row,) = rep["collectives"]
        self.assertEqual(row["count"], n)
        self.assertEqual(row["transfer_ns"], n * transfer)
        self.assertEqual(row["wait_ns"], n * sum(max(skew) - s for s in skew))
        for r in rep["ranks"]:
            a = r["attribution_ns"]
            self.assertEqual(r["gpu_span_ns"], n * period - clipped_compute)
            self.assertEqual(a["compute"], n * compute - clipped_compute)
            self.assertEqual(a["tp_comm"], n * (max(skew) - skew[r["rank"]] + transfer))
            self.assertEqual(a["idle"], r["gpu_span_ns"] - a["compute"] - a["tp_comm"])

    def test_phase_window(self):
        rep, compute, transfer, skew = self.window_truth("--phase", "decode", phase="10,30")
        self.assertEqual(rep["window"], {"from_s": 0, "to_s": None, "phase": "decode"})
        self.check_steps_10_to_30(rep, compute, transfer, skew)

    def test_time_window_clips_at_its_edges(self):
        # The run's first event is each rank's CUDA status, 500 ns before step 0; a step lasts
        # 78 us. The window opens half-way through step 10's compute kernel, which is clipped.
        period, half = 78_000, 25_000
        start = 500 + 10 * period
        rep, compute, transfer, skew = self.window_truth(
            "--from", "%.9f" % ((start + half) / 1e9), "--to", "%.9f" % ((start + 20 * period) / 1e9))
        self.assertEqual(rep["window"]["to_s"], (start + 20 * period) / 1e9)
        self.check_steps_10_to_30(rep, compute, transfer, skew, clipped_compute=half)

    def test_empty_window_is_an_error(self):
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "tp", "2", "5", "1000", "500", "1024", "0", "0"], check=True)
        proc = cli("report", "--from", "100", self.run_dir, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("nothing of the run falls inside the window (from 100 s after the run's "
                      "first event)", proc.stderr)
        proc = cli("report", "--phase", "prefill", self.run_dir, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("in NVTX ranges 'prefill'", proc.stderr)
        for opt in ("--from", "--to", "--phase", "--layout", "--html"):
            proc = cli("report", self.run_dir, opt, check=False)
            self.assertEqual(proc.returncode, 2, opt)
            self.assertIn(f"report: {opt} needs a value", proc.stderr)
        for bad in (["--from", "soon"], ["--to", "-1"], ["--from", "2", "--to", "1"]):
            proc = cli("report", *bad, self.run_dir, check=False)
            self.assertEqual(proc.returncode, 2, bad)
            self.assertIn("--", proc.stderr)

    def test_pp_bubble_of_the_ideal_schedule(self):
        """PP over p stages with m micro-batches: bubble = (p-1)/(m+p-1) of every stage's time,
        measured over whole periods after the first (the window starts the steady state)."""
        f_ns, steps = 100_000, 6
        for p in (2, 4):
            for m in (1, 2, 4, 8):
                with self.subTest(p=p, m=m):
                    run = os.path.join(self.run_dir, f"p{p}m{m}")
                    os.makedirs(run)
                    subprocess.run([GEN, run, "pp", str(p), str(m), str(f_ns), str(steps)], check=True)
                    period = (m + p - 1) * f_ns
                    n = steps - 2  # periods 1 .. steps-2, from the run's first event (+500 ns)
                    rep = json.loads(cli("report", "--json", "--from", "%.9f" % ((period + 500) / 1e9),
                                         "--to", "%.9f" % (((steps - 1) * period + 500) / 1e9),
                                         run).stdout)
                    self.assertEqual((rep["layout"]["pp"], rep["layout"]["tp"]), (p, 1))
                    self.assertEqual(rep["communicators"][0]["role"], "PP")
                    self.assertEqual(len(rep["ranks"]), p)
                    for r in rep["ranks"]:
                        a = r["attribution_ns"]
                        self.assertEqual(r["gpu_span_ns"], n * period)
                        self.assertEqual(a["compute"], n * m * f_ns)
                        self.assertEqual(a["pp_bubble"], n * (p - 1) * f_ns)
                        self.assertAlmostEqual(r["attribution_pct"]["pp_bubble"],
                                               100.0 * (p - 1) / (m + p - 1), delta=0.0005)
                    gate = cli("report", "--fail-if", "pp_bubble_pct > 30", run, check=False)
                    whole = json.loads(cli("report", "--json", run).stdout)
                    mean = sum(r["attribution_pct"]["pp_bubble"] for r in whole["ranks"]) / p
                    self.assertEqual(gate.returncode, 3 if mean > 30 else 0, (mean, gate.stderr))

    def test_coords_and_layout_override(self):
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "pp", "4", "2", "10000", "3"], check=True)
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        self.assertEqual(rep["layout"], {"tp": 1, "pp": 4, "dp": 1, "ep": 1, "world": 4, "given": False})
        # Send/recv rows: every call counted; receives timed by their kernels, which here are
        # all waiting, so their time is the PP bubble of all stages together.
        rows = {row["op"]: row for row in rep["collectives"]}
        self.assertEqual((rows["Send"]["count"], rows["Recv"]["count"]), (3 * 2 * 3 + 3, 2 + 3 * 2 * 3))
        self.assertEqual(rows["Recv"]["bytes"], 1 << 20)
        self.assertEqual(rows["Recv"]["transfer_ns"],
                         sum(r["attribution_ns"]["pp_bubble"] for r in rep["ranks"]))
        # Every send is paired with its receive by (sender, receiver, per-peer seq), except the
        # last stage's hand-back of the last step, which stage 0 never receives.
        (pp_comm,) = rep["communicators"]
        self.assertEqual((pp_comm["pairs"], pp_comm["unpaired"]), (3 * 2 * 3 + 3, 1))
        self.assertGreater(rows["Recv"]["wait_ns"], 0)
        for r in rep["ranks"]:
            self.assertEqual(r["coords"], {"tp": 0, "pp": r["rank"], "dp": 0, "ep": 0})
            self.assertEqual((r["host"], r["gpu"]), ("gen-0", 0))
        proc = cli("report", "--json", "--layout", "tp=2,pp=2", self.run_dir)
        self.assertEqual(json.loads(proc.stdout)["layout"],
                         {"tp": 2, "pp": 2, "dp": 1, "ep": 1, "world": 4, "given": True})
        self.assertIn("--layout sets PP=2; the run's communicators suggest PP=4", proc.stderr)
        self.assertIn("--layout sets TP=2; the run's communicators suggest TP=1", proc.stderr)
        proc = cli("report", "--layout", "pp=4", self.run_dir)  # agrees: nothing to warn of
        self.assertIn("layout: TP=1 PP=4 DP=1 EP=1 (given by --layout)", proc.stdout)
        self.assertEqual(proc.stderr, "")
        for bad, where in (("tp=x", "at offset 3"), ("zz=2", "at offset 0"), ("tp=2,pp=0", "at offset 8"),
                           ("tp=2;pp=2", "at offset 3")):
            proc = cli("report", "--layout", bad, self.run_dir, check=False)
            self.assertEqual(proc.returncode, 2, bad)
            self.assertIn(f"--layout '{bad}': {where}", proc.stderr)

    def test_requests_ttft_tpot(self):
        n, tokens, steps = 10, 5, 40
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "tp", "2", str(steps), "50000", "20000", "1024", "0", "0"],
                       check=True, env=dict(os.environ, GEN_REQUESTS=f"{n},{tokens}"))
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        period = 50_000 + 20_000 + 1000
        ttft = sorted((period - (i % 4) * 1000) / 1e6 for i in range(n))
        nearest = lambda v, p: v[max(1, -(-int(p * len(v) * 1000) // 1000)) - 1]
        q = rep["summary"]["requests"]
        self.assertEqual((q["count"], q["tokens"], q["ttft_ms"]["n"], q["tpot_ms"]["n"]),
                         (n, n * tokens, n, n))
        for p, key in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            self.assertAlmostEqual(q["ttft_ms"][key], nearest(ttft, p), places=6)
            self.assertAlmostEqual(q["tpot_ms"][key], 2 * period / 1e6, places=6)
        last_token = (n - 1 + 1 + 2 * (tokens - 1)) * period
        self.assertAlmostEqual(q["tokens_per_s"], n * tokens / (last_token / 1e9), places=1)
        # Seed metrics: both ranks compute 50 of every 71 us and all-reduce 20.
        s = rep["summary"]
        span = (steps - 1) * period + 70_000
        self.assertAlmostEqual(s["exposed_comm_pct"], 100.0 * steps * 20_000 / span, places=2)
        self.assertAlmostEqual(s["gpu_busy_pct"], 100.0 * steps * 70_000 / span, places=2)
        out = cli("report", self.run_dir).stdout
        self.assertIn(f"requests {n}, tokens {n * tokens}", out)
        self.assertLessEqual(max(map(len, out.splitlines())), 100)
        # Data-parallel replicas each mark their own requests; ranks that all mark the same
        # requests count them once.
        for who in ("split", "all"):
            other = os.path.join(self.run_dir, who)
            os.makedirs(other)
            subprocess.run([GEN, other, "tp", "2", str(steps), "50000", "20000", "1024", "0", "0"],
                           check=True, env=dict(os.environ, GEN_REQUESTS=f"{n},{tokens},{who}"))
            q2 = json.loads(cli("report", "--json", other).stdout)["summary"]["requests"]
            self.assertEqual((q2["count"], q2["tokens"]), (n, n * tokens), who)
            self.assertEqual(q2["ttft_ms"], q["ttft_ms"], who)
        # Without marks the report says how to get them.
        plain = os.path.join(self.run_dir, "plain")
        os.makedirs(plain)
        subprocess.run([GEN, plain, "tp", "2", "3", "1000", "500", "1024", "0", "0"], check=True)
        self.assertIsNone(json.loads(cli("report", "--json", plain).stdout)["summary"]["requests"])
        self.assertIn("requests: none marked", cli("report", plain).stdout)

    def test_mixed_layouts(self):
        """TP x PP x DP runs: every TP group (not only the busiest) is TP, pipelines of 2-rank or
        wider groups give PP, the rest is DP; each rank's coordinates follow its rank."""
        for tp, pp, dp in ((2, 2, 1), (2, 2, 2), (4, 2, 1), (2, 1, 2), (2, 4, 1)):
            with self.subTest(tp=tp, pp=pp, dp=dp):
                run = os.path.join(self.run_dir, f"{tp}x{pp}x{dp}")
                os.makedirs(run)
                subprocess.run([GEN, run, "mixed", str(tp), str(pp), str(dp), "20"], check=True)
                rep = json.loads(cli("report", "--json", run).stdout)
                self.assertEqual(rep["layout"], {"tp": tp, "pp": pp, "dp": dp, "ep": 1,
                                                 "world": tp * pp * dp, "given": False})
                roles = sorted(c["role"] for c in rep["communicators"])
                self.assertEqual(roles, sorted(["TP"] * (pp * dp if tp > 1 else 0) +
                                               ["PP"] * (tp * dp if pp > 1 else 0) +
                                               ["DP"] * (tp * pp if dp > 1 else 0)))
                text = cli("report", run).stdout.splitlines()
                self.assertLessEqual(max(map(len, text)), 100, "the terminal table fits 100 columns")
                for r in rep["ranks"]:
                    g = r["rank"]
                    self.assertEqual(r["coords"], {"tp": g % tp, "pp": g // tp % pp,
                                                   "dp": g // (tp * pp), "ep": 0})

    def test_ep_hot_expert(self):
        """EP by grouped send/recv to every peer, rank 2 the hot expert getting 3x the bytes."""
        experts, steps, compute, d_ns, nbytes, hot, factor = 4, 10, 50_000, 20_000, 4096, 2, 3
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "ep", *map(str, (experts, steps, compute, d_ns, nbytes,
                                                            hot, factor))], check=True)
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        (comm,) = rep["communicators"]
        self.assertEqual(comm["role"], "EP")
        self.assertIn("up to 3 peers per rank", comm["evidence"])
        self.assertEqual(rep["layout"]["ep"], experts)
        imb = comm["recv_imbalance"]
        self.assertEqual((imb["rank"], imb["member"]), (hot, hot))
        self.assertAlmostEqual(imb["max_over_mean"], factor * experts / (factor + experts - 1), places=6)
        rows = {(r["op"], r["bytes"]): r["count"] for r in rep["collectives"]}
        self.assertEqual(rows, {("Send", nbytes): steps * 3 * 3, ("Send", factor * nbytes): steps * 3,
                                ("Recv", nbytes): steps * 3 * 3, ("Recv", factor * nbytes): steps * 3})
        for r in rep["ranks"]:
            self.assertEqual(r["attribution_ns"]["ep_comm"], steps * d_ns)
            self.assertEqual(r["attribution_ns"]["compute"], steps * compute)
        self.assertIn("rank 2 received 2.00x the mean (a hot expert?)", cli("report", self.run_dir).stdout)
        page = os.path.join(self.run_dir, "r.html")
        cli("report", "--html", page, self.run_dir)
        self.assertIn("rank 2 received 2.00&times; the mean", open(page, encoding="utf-8").read())
        # A pipeline talks to its neighbours only: still PP, no imbalance line for it.
        pp = os.path.join(self.run_dir, "pp")
        os.makedirs(pp)
        subprocess.run([GEN, pp, "pp", "4", "2", "10000", "3"], check=True)
        self.assertNotIn("imbalance", cli("report", pp).stdout)

    def test_ep_group_kernel_times_every_call(self):
        # The all-to-all as one NCCL group, its one kernel tied to the GroupEnd (as NCCL does):
        # that kernel times each send and receive of the group, and every pair is timed on the GPU.
        experts, steps, compute, d_ns, nbytes, hot, factor = 4, 10, 50_000, 20_000, 4096, 2, 3
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "ep", *map(str, (experts, steps, compute, d_ns, nbytes,
                                                            hot, factor))], check=True,
                       env=dict(os.environ, GEN_EP_GROUPED="1"))
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        (comm,) = rep["communicators"]
        self.assertEqual((comm["role"], comm["pairs"], comm["unpaired"]), ("EP", 120, 0))
        rows = [r for r in rep["collectives"] if r["op"] in ("Send", "Recv")]
        self.assertEqual(sum(r["count"] for r in rows), 2 * 120)
        for r in rows:
            self.assertEqual(r["gpu_timed"], r["count"], r)
            self.assertEqual(r["transfer_ns"], r["count"] * d_ns, r)
            self.assertEqual(r["wait_ns"], 0, r)  # every rank's kernel starts at once

    def test_ep_with_count_gathers(self):
        """An all-to-all of uneven sizes also all-gathers its counts (1 call in 7 here): still EP,
        by bytes, where the call count alone says mixed traffic."""
        os.makedirs(self.run_dir)
        subprocess.run([GEN, self.run_dir, "ep", "4", "10", "50000", "20000", "4096", "2", "3"], check=True,
                       env=dict(os.environ, GEN_EP_COUNTS="1"))
        (comm,) = json.loads(cli("report", "--json", self.run_dir).stdout)["communicators"]
        self.assertEqual(comm["role"], "EP")
        self.assertIn("send/recv 240 of 280 calls, 100% of the bytes, up to 3 peers per rank", comm["evidence"])

    def test_send_recv_hops(self):
        # mixed TP=2 x PP=2: each step every stage-0 rank sends 1 MiB to its stage-1 twin, which
        # posts its receive 100 ns later: the senders wait 100 ns per pair, the receivers never.
        rep = self.generate("mixed", 2, 2, 1, 20)
        hops = sorted((h["from"], h["to"], h["pairs"], h["bytes"], h["recv_wait_ns"], h["send_wait_ns"])
                      for c in rep["communicators"] for h in c["hops"])
        self.assertEqual(hops, [(0, 2, 20, 20 << 20, 0, 2000), (1, 3, 20, 20 << 20, 0, 2000)])
        self.assertEqual([c["hops"] for c in rep["communicators"] if c["role"] == "TP"], [[], []])
        text = cli("report", self.run_dir).stdout
        self.assertIn("send/recv hops (who waited for whom", text)
        self.assertRegex(text, r"PP +0000000000009900 +0 -> 2 +20 +20.000 +0.000 +0.002")

    def test_pp_hops_show_the_late_upstream(self):
        # The ideal pipeline: every stage after the first waits for its upstream stage.
        rep = self.generate("pp", 4, 2, 100_000, 10)
        (pp,) = [c for c in rep["communicators"] if c["role"] == "PP"]
        hops = {(h["from"], h["to"]): h for h in pp["hops"]}
        self.assertEqual(sorted(hops), [(0, 1), (1, 2), (2, 3), (3, 0)])
        for s in range(3):
            self.assertEqual(hops[(s, s + 1)]["pairs"], 2 * 10)
            self.assertGreater(hops[(s, s + 1)]["recv_wait_ns"], 0)

    def test_no_skew_no_straggler_cost(self):
        rep = self.generate("tp", 2, 10, 1000, 500, 1024, 0, 0)
        (row,) = rep["collectives"]
        self.assertEqual((row["wait_ns"], row["transfer_ns"]), (0, 10 * 500))
        self.assertTrue(all(s["cost_ns"] == 0 for s in rep["stragglers"]))

    def test_frame_size_does_not_change_the_report(self):
        # The same run written in the recorder's half-megabyte frames and in 4 KiB ones: deltas
        # restart at every frame, and records cross many more arenas of the reorder window, yet
        # the report must be the same to the byte.
        for scenario in (["tp", 4, 20000, 50000, 20000, 1 << 20, 0, 3000, 1000, 7000],
                         ["pp", 4, 8, 30000, 3000]):
            reports, frames = [], []
            for frame_bytes in ("", "4096"):
                run = f"{self.run_dir}-{scenario[0]}-{frame_bytes or 'default'}"
                os.makedirs(run)
                subprocess.run([GEN, run, *map(str, scenario)], check=True, stdout=subprocess.DEVNULL,
                               env=dict(os.environ, GEN_FRAME_BYTES=frame_bytes))
                reports.append(cli("report", "--json", run).stdout)
                info = cli("info", run).stdout
                frames.append(sum(int(line.split(",")[1].split()[0])
                                  for line in info.splitlines() if line.strip().startswith("format")))
            self.assertGreater(frames[1], 50 * frames[0], scenario)
            self.assertEqual(reports[0], reports[1], scenario)
        bad = subprocess.run([GEN, self.run_dir + "-bad", "tp", "2", "1", "1", "1", "1", "0", "0"],
                             env=dict(os.environ, GEN_FRAME_BYTES="64k"), capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("GEN_FRAME_BYTES='64k'", bad.stderr)

    def test_turns_do_not_change_the_report(self):
        # The report's pass takes the files in turns of 1 ms (faster: one file at a time in
        # cache); nothing it reports may depend on that. Strict time order
        # (PARTRACE_REPORT_TURNS=0) against turns, on every layout the generator makes (in the
        # mixed one, communicators are first used by different files within a turn, and the
        # order they are listed in is that of their first calls) and on every GPU sample.
        runs = []
        for scenario in (["tp", 8, 3000, 50000, 20000, 1 << 20, 0, 100, 200, 300, 400, 500, 600, 7000],
                         ["pp", 4, 8, 30000, 3000], ["ep", 4, 2000, 40000, 10000, 1 << 20, 2, 3],
                         ["mixed", 2, 2, 2, 2000]):
            run = f"{self.run_dir}-{scenario[0]}"
            os.makedirs(run)
            subprocess.run([GEN, run, *map(str, scenario)], check=True, stdout=subprocess.DEVNULL)
            runs.append(run)
        samples = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
        runs += sorted({os.path.dirname(os.path.join(d, f)) for d, _, files in os.walk(samples)
                        for f in files if f.endswith(".ptrace")})
        self.assertGreater(len(runs), 12)
        for run in runs:
            for args in (["--json"], [], ["--json", "--phase", "decode"], ["--json", "--from", "0.001"]):
                turns = cli("report", *args, run, check=False)
                with mock.patch.dict(os.environ, {"PARTRACE_REPORT_TURNS": "0"}):
                    strict = cli("report", *args, run, check=False)
                self.assertEqual((turns.returncode, turns.stdout, turns.stderr),
                                 (strict.returncode, strict.stdout, strict.stderr), (run, args))


if __name__ == "__main__":
    main()
