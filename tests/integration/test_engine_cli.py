"""The reference engine's command on a machine without a GPU (CI): bad arguments are named with a
non-zero exit, the layout is checked against the model and the world, RANK / WORLD_SIZE are
taken from the environment (torchrun), and `pt_engine summarise` turns the replicas' request
times and the ranks' memory into TTFT, TPOT, throughput, KV hit rate and GPU memory. Skipped where nvcc was not there to build pt_engine."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import BUILD, main

ENGINE = os.path.join(BUILD, "pt_engine")


@unittest.skipUnless(os.path.exists(ENGINE), "pt_engine not built (no nvcc)")
class EngineCli(unittest.TestCase):
    def run_engine(self, *args, env=None):
        return subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **(env or {})))

    def test_bad_arguments(self):
        cases = [
            (["--requests", "x"], "--requests takes a whole number from 1 to 1000000, not 'x'"),
            (["--model", "huge"], "unknown model 'huge' (presets: tiny, small, 8b, moe-tiny, moe-small)"),
            (["--bogus", "1"], "unknown option '--bogus'"),
            (["--layout", "tp=3", "--nproc", "2"], "layout tp=3 × pp=1 × dp=1 needs 3 ranks, not 2"),
            (["--layout", "tp=16", "--nproc", "16"], "tp=16 must divide the 8 query and 4 key/value heads"),
            (["--layout", "dp=4,ep=4", "--nproc", "4"], "ep=4 needs an MoE model (tiny has no experts)"),
            (["--prefix-cache", "maybe"], "--prefix-cache takes on or off, not 'maybe'"),
            (["--cuda-graphs", "1"], "--cuda-graphs takes on or off, not '1'"),
            (["--allreduce", "ring"], "--allreduce takes nccl or custom, not 'ring'"),
            (["--straggle", "2"], "--straggle takes RANK:MICROSECONDS, not '2'"),
            (["--shared-prefix", "2"], "--shared-prefix takes a number from 0 to 1, not '2'"),
            (["--input", "8000", "--output", "8000"], "the engine's attention takes 8192 at most"),
            (["--requests"], "an option is missing its value"),
        ]
        for args, message in cases:
            proc = self.run_engine(*args)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertIn(message, proc.stderr, args)

    def test_rank_from_the_environment(self):
        with tempfile.TemporaryDirectory() as out:
            proc = self.run_engine("--layout", "tp=2", "--out", out, env={"RANK": "1", "WORLD_SIZE": "2"})
        self.assertEqual(proc.returncode, 1)
        self.assertIn("pt_engine: rank 1: no CUDA device", proc.stderr)

    def test_summarise(self):
        with tempfile.TemporaryDirectory() as out:
            # Two replicas' requests: TTFT 0.1 and 0.3 s; TPOT (1.0 / 10) and (0.7 / 7) s.
            rows = {0: "0\t0.0\t0.1\t1.1\t11\t100\t0\n", 1: "1\t1.0\t1.3\t2.0\t8\t100\t50\n"}
            for dp, row in rows.items():
                with open(os.path.join(out, f"requests-{dp}.tsv"), "w") as f:
                    f.write("id\tarrive_s\tfirst_s\tend_s\tout_tokens\tprompt_tokens\tcached_tokens\n" + row)
            for rank, gib in ((0, 1.5), (1, 2.25)):
                with open(os.path.join(out, f"rank-{rank}.mem"), "w") as f:
                    f.write(f"{int(gib * (1 << 30))}\n")
            before = {f: open(os.path.join(out, f)).read() for f in os.listdir(out)}
            proc = self.run_engine("summarise", out)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("2 requests, TTFT p50 200.00 ms", proc.stdout)
            self.assertIn("KV hit rate 25.0 %, GPU memory 2.25 GiB", proc.stdout)
            proc = self.run_engine("summarise", out, "--json")
            summary = json.loads(proc.stdout)
            # its input is left as it was: nothing written into the run's folder
            self.assertEqual({f: open(os.path.join(out, f)).read() for f in os.listdir(out)}, before)
        self.assertAlmostEqual(summary["tpot_p50_ms"], 100.0, places=3)
        self.assertAlmostEqual(summary["output_tokens_per_s"], 9.5, places=3)
        self.assertAlmostEqual(summary["kv_hit_rate"], 0.25, places=4)
        self.assertEqual(summary["gpu_bytes_max"], int(2.25 * (1 << 30)))
        with tempfile.TemporaryDirectory() as empty:
            proc = self.run_engine("summarise", empty)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no results in", proc.stderr)


if __name__ == "__main__":
    main()
