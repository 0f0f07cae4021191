"""partrace diff on generated runs of known truth: the same TP job without and with a late
rank. The diff's means must be those of the two reports, and the gate must trip exactly on
the categories that grew beyond the limit."""
import json
import os
import subprocess

from harness import BUILD, TraceTest, cli, main

GEN = os.path.join(BUILD, "tools", "gen_trace")


class Diff(TraceTest):
    def make(self, name, *skew):
        run = os.path.join(self.run_dir, name)
        os.makedirs(run)
        subprocess.run([GEN, run, "tp", "4", "50", "50000", "20000", "1048576", *map(str, skew)],
                       check=True)
        return run

    def means(self, run):
        rep = json.loads(cli("report", "--json", run).stdout)
        ranks = rep["ranks"]
        pct = {k: sum(r["attribution_pct"][k] for r in ranks) / len(ranks)
               for k in ranks[0]["attribution_pct"]}
        return sum(r["gpu_span_ns"] for r in ranks) / len(ranks) / 1e6, pct

    def test_late_rank_shows_and_gates(self):
        base, slow = self.make("base", 0, 0, 0, 0), self.make("slow", 0, 0, 0, 20000)
        diff = json.loads(cli("diff", "--json", base, slow).stdout)
        self.assertEqual(diff["schema"], "partrace.diff/0")
        for side, run in (("base", base), ("new", slow)):
            span, pct = self.means(run)
            self.assertAlmostEqual(diff[side]["span_ms"], span, places=5)
            for k, v in pct.items():
                self.assertAlmostEqual(diff[side]["attribution_pct"][k], v, delta=0.002)
        # Three ranks now wait 20 us of every 91 us step for the fourth: TP grows, compute's
        # share falls. Exactly: base step 71 us, slow step 91 us.
        self.assertAlmostEqual(diff["span_change_pct"], 100.0 * (49 * 91 + 90 - (49 * 71 + 70)) /
                               (49 * 71 + 70), places=3)
        grew = diff["attribution_change_pts"]["tp_comm"]
        self.assertGreater(grew, 10)
        self.assertEqual(diff["regressions"], 0)  # no limit given: no gate
        gate = cli("diff", "--max-regression", "10", base, slow, check=False)
        self.assertEqual(gate.returncode, 3)
        self.assertIn("tp_comm grew +%.2f points" % grew, gate.stderr)
        self.assertIn("mean span per rank regressed", gate.stderr)
        # The other way round nothing regressed; a generous limit passes too.
        self.assertEqual(cli("diff", "--max-regression", "10", slow, base, check=False).returncode, 0)
        self.assertEqual(cli("diff", "--max-regression", "50", base, slow, check=False).returncode, 0)
        out = cli("diff", base, slow).stdout
        self.assertIn("TP    AllReduce         1048576       50       50", out)

    def test_bad_usage(self):
        base = self.make("base", 0, 0, 0, 0)
        for args, text in ((["diff", base], "needs two runs"),
                           (["diff", "--max-regression", "lots", base, base], "not 'lots'"),
                           (["diff", "--wat", base, base], "unknown option '--wat'"),
                           (["diff", base, base, base], "too many operands"),
                           (["diff", base, base, "--max-regression"], "--max-regression needs a value"),
                           (["diff", base, base, "--phase"], "--phase needs a value")):
            proc = cli(*args, check=False)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(text, proc.stderr)
        proc = cli("diff", base, os.path.join(self.run_dir, "nowhere"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("nowhere", proc.stderr)


if __name__ == "__main__":
    main()
