"""partrace report on a 4-rank run of the test NCCL with a known straggler and a known call
duration: the communicator and its role, every collective matched across the ranks, nccl-tests'
bus bandwidth factors, and the straggler named."""
import json
import os
import subprocess

from harness import DRIVER, TraceTest, cli, main, traced_env


class Report(TraceTest):
    def run_ranks(self, iters=20, straggler=2, straggle_us=30000, **env):
        # The straggler falls behind by straggle_us each iteration: far more than the ranks'
        # start-up skew, even on a loaded machine or under sanitizers.
        uid = os.urandom(128).hex()
        procs = []
        for r in range(4):
            args = [DRIVER, "--rank", str(r), "--nranks", "4", "--id", uid, "--iters", str(iters)]
            if r == straggler:
                args += ["--straggle-us", str(straggle_us)]
            procs.append(subprocess.Popen(args, env=traced_env(self.run_dir, RANK=r, **env)))
        self.assertEqual([p.wait(timeout=120) for p in procs], [0] * 4)

    def test_matching_roles_and_straggler(self):
        self.run_ranks(FAKE_NCCL_DELAY_US=1000)
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        self.assertEqual((rep["schema"], rep["fidelity"]), ("partrace.report/0", "host"))
        self.assertEqual(rep["layout"]["world"], 4)
        comms = {c["id"]: c for c in rep["communicators"]}
        world = [c for c in comms.values() if c["nranks"] == 4 and c["instances"] > 100]
        self.assertEqual(len(world), 1)
        w = world[0]
        self.assertEqual(w["role"], "other")  # every kind of collective: not a TP/DP pattern
        self.assertEqual(w["incomplete"], 0)
        self.assertEqual(w["instances"], 20 * 9)  # 9 collectives in the mix, matched on 4 ranks
        rows = {(r["op"], r["bytes"]): r for r in rep["collectives"] if r["comm"] == w["id"]}
        # Send/recv rows: every call of every rank (one send and one receive of 10 bytes per
        # iteration), timed by the host calls here (no GPU side).
        self.assertEqual((w["pairs"], w["unpaired"]), (4 * 20, 0))  # each send met its receive
        for op in ("Send", "Recv"):
            p2p = rows.pop((op, 10))
            self.assertEqual(p2p["count"], 4 * 20)
            self.assertGreater(p2p["transfer_ns"], 0)
        # Total bytes as nccl-tests counts them: per-rank counts times the ranks where due.
        self.assertEqual(set(rows), {("AllReduce", 4096), ("Broadcast", 512), ("Bcast", 128),
                                     ("Reduce", 128), ("AllGather", 512), ("ReduceScatter", 256),
                                     ("AlltoAll", 128), ("Gather", 128), ("Scatter", 64)})
        for (op, _), r in rows.items():
            self.assertEqual(r["count"], 20)
            factor = {"AllReduce": 1.5, "AllGather": 0.75, "ReduceScatter": 0.75,
                      "AlltoAll": 0.75}.get(op, 1.0)
            self.assertAlmostEqual(r["busbw_gbps"], r["algbw_gbps"] * factor,
                                   delta=1e-6 * max(1.0, r["busbw_gbps"]))
            # Each call takes >= 1 ms in the test NCCL: the last arrival's call bounds transfer.
            self.assertGreaterEqual(r["transfer_ns"], 20 * 1_000_000)
        # The rank that sleeps before each AllReduce arrives last and costs the others most.
        strag = sorted((s for s in rep["stragglers"] if s["comm"] == w["id"]),
                       key=lambda s: -s["cost_ns"])
        self.assertEqual(strag[0]["rank"], 2)
        self.assertGreater(strag[0]["last"], 0.8 * w["instances"])
        self.assertEqual(sorted(r["rank"] for r in rep["ranks"]), [0, 1, 2, 3])

    def test_text_report(self):
        self.run_ranks(iters=5, straggler=1)
        out = cli("report", self.run_dir).stdout
        self.assertIn("run: 4 ranks in 4 files; timing from host calls only", out)
        # 45 collectives and 20 send/recv pairs (5 iterations of a 4-rank ring) matched.
        self.assertRegex(out, r"rank 1, last in \d+ of 65 collectives and send/recv pairs")
        self.assertRegex(out, r"other [0-9a-f]{8} AllReduce +4096 +5 +0 ")  # comm, on GPU: 0

    def test_fail_if_needs_gpu_records_and_good_expressions(self):
        self.run_ranks(iters=2, straggle_us=1000)
        proc = cli("report", "--fail-if", "idle_pct > 50", self.run_dir, check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("no GPU attribution in this run", proc.stderr)
        for expr, message in (("bogus_pct > 1", "unknown metric at offset 0"),
                              ("max(idle_pct) > 1", "expected 'rank.' at offset 4"),
                              ("max(rank.idle_pct > 1", "expected ')' at offset 18"),
                              ("idle_pct => 1", "expected a comparison"),
                              ("idle_pct > lots", "expected a number at offset 11"),
                              ("idle_pct > 1 and more", "unexpected 'and more'")):
            proc = cli("report", "--fail-if", expr, self.run_dir, check=False)
            self.assertEqual(proc.returncode, 2, expr)
            self.assertIn(message, proc.stderr, expr)
        self.assertEqual(cli("report", self.run_dir, "--fail-if", check=False).returncode, 2)
        proc = cli("report", "--json", "--markdown", self.run_dir, check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("choose one of --json and --markdown", proc.stderr)

    def test_bad_usage(self):
        proc = cli("report", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("report: which run?", proc.stderr)
        proc = cli("report", "--html", self.tmp, check=False)
        self.assertEqual(proc.returncode, 2)
        proc = cli("report", self.tmp, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no .ptrace files", proc.stderr)


if __name__ == "__main__":
    main()
