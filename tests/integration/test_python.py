"""The Python module (python/partrace): every bundled sample loads into per-kind DataFrames whose
rows are `partrace dump --json`'s records, read through libpartrace_reader.so; report() is
`partrace report --json`; a bad run is a clear error; pip installs the package."""
import glob
import json
import os
import shutil
import subprocess
import sys
import unittest

from harness import BUILD, TraceTest, cli, main

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
os.environ["PARTRACE_READER_LIB"] = os.path.join(BUILD, "libpartrace_reader.so")
sys.path.insert(0, os.path.join(ROOT, "python"))
import partrace  # noqa: E402

try:
    import pandas  # noqa: F401
except ImportError:
    pandas = None

SAMPLES = sorted(d for pattern in ("traced", "traced/run")
                 for d in glob.glob(os.path.join(ROOT, "samples", "*", pattern))
                 if glob.glob(os.path.join(d, "*.ptrace")))


@unittest.skipIf(os.environ.get("PT_SANITIZE") == "1" or os.environ.get("PT_TSAN") == "1",
                 "a sanitizer build's library cannot be loaded into an uninstrumented Python")
class Python(TraceTest):
    def test_every_sample_loads(self):
        self.assertGreater(len(SAMPLES), 9)
        for run in SAMPLES:
            dumped = [json.loads(line) for line in cli("dump", "--json", run).stdout.splitlines()]
            got = partrace.records(run)
            self.assertEqual(got, dumped, run)
            if pandas is None:
                continue
            r = partrace.open(run)
            counts = {}
            for rec in dumped:
                counts[rec["kind"]] = counts.get(rec["kind"], 0) + 1
            self.assertEqual(r.kinds, counts, run)
            self.assertEqual(len(r.kernels), counts.get("kernel", 0), run)
            self.assertEqual(len(r.nccl), counts.get("nccl", 0), run)
            self.assertEqual(len(r.copies), counts.get("memcpy", 0) + counts.get("memset", 0), run)
            if counts.get("kernel"):
                self.assertTrue({"ts_ns", "dur_ns", "name", "stream", "pid"} <= set(r.kernels.columns))
                self.assertEqual(int(r.kernels["dur_ns"].sum()),
                                 sum(x["dur_ns"] for x in dumped if x["kind"] == "kernel"))

    def test_report_is_the_commands(self):
        run = os.path.join(ROOT, "samples", "gpu-engine-straggle", "traced")
        self.assertEqual(partrace.report(run), json.loads(cli("report", "--json", run).stdout))
        self.assertTrue(partrace.library_version().startswith("partrace "))

    def test_metrics_and_mangled(self):
        if pandas is None:
            self.skipTest("no pandas")
        run = os.path.join(ROOT, "samples", "gpu-engine-metrics", "traced")
        r = partrace.open(run)
        self.assertGreater(len(r.metrics), 1000)
        self.assertIn("series", r.metrics.columns)
        self.assertFalse(r.kernels["name"].str.startswith("_Z").any())
        self.assertTrue(partrace.open(run, mangled=True).kernels["name"].str.startswith("_Z").any())

    def test_bad_runs(self):
        with self.assertRaisesRegex(ValueError, "No such file or directory"):
            partrace.records(os.path.join(self.tmp, "nothing"))
        with self.assertRaisesRegex(ValueError, "cannot be reported"):
            partrace.report(self.tmp)

    def test_pip_installs_it(self):
        target, source = os.path.join(self.tmp, "site"), os.path.join(self.tmp, "python")
        # from a copy: a build writes build/ and *.egg-info beside the sources it is given
        shutil.copytree(os.path.join(ROOT, "python"), source)
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                               "--target", target, source], capture_output=True, text=True)
        if proc.returncode and ("No module named" in proc.stderr or "bdist_wheel" in proc.stderr):
            self.skipTest("pip or setuptools missing: " + proc.stderr.strip().splitlines()[-1])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = subprocess.run([sys.executable, "-c", "import partrace; print(partrace.__file__)"],
                             capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=target), check=True)
        self.assertTrue(out.stdout.startswith(target), out.stdout)


if __name__ == "__main__":
    main()
