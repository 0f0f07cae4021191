"""The partrace command: record passes the exit status through and summarises; bad arguments
and bad input get a clear message and a non-zero exit, never a crash."""
import os
import subprocess

from harness import (DRIVER, FAKE_NCCL_DIR, PARTRACE, TraceTest, cli, events, main, nccl,
                     trace_files)


def record(*args, env_extra=None):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = FAKE_NCCL_DIR
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0")
    env.update(env_extra or {})
    return subprocess.run([PARTRACE, "record", *args], capture_output=True, text=True, env=env,
                          timeout=120)


class Cli(TraceTest):
    def test_record_info_dump(self):
        proc = record("-o", self.run_dir, "--", DRIVER, "--iters", "3")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stderr, r"1 trace files in .*run: 46 events \(\d+ records\), 0 dropped")
        self.assertEqual(len(nccl(events(self.run_dir))), 3 * 14 + 2)
        info = cli("info", self.run_dir).stdout
        self.assertIn("nccl      AllReduce 6 Broadcast 3 Bcast 3", info)
        self.assertIn("integrity complete (ended by exit)", info)
        self.assertIn("dropped   0", info)
        text = cli("dump", trace_files(self.run_dir)[0]).stdout
        self.assertEqual(text.count(" nccl AllReduce "), 6)

    def test_record_passes_exit_status_through(self):
        proc = record("-o", self.run_dir, "--", DRIVER, "--no-such-flag")
        self.assertEqual(proc.returncode, 2)
        proc = record("-o", os.path.join(self.tmp, "r2"), "--", "/bin/sh", "-c", "kill -TERM $$")
        self.assertEqual(proc.returncode, 128 + 15)
        proc = record("-o", os.path.join(self.tmp, "r3"), "--", "/nonexistent/prog")
        self.assertEqual(proc.returncode, 127)
        self.assertIn("cannot run '/nonexistent/prog'", proc.stderr)

    def test_record_refuses_a_used_directory(self):
        self.assertEqual(record("-o", self.run_dir, "--", DRIVER, "--iters", "1").returncode, 0)
        proc = record("-o", self.run_dir, "--", DRIVER, "--iters", "1")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("already holds 1 trace files", proc.stderr)
        # --force replaces the earlier run: its traces are removed, never mixed with the new one's
        self.assertEqual(record("-o", self.run_dir, "--force", "--", DRIVER, "--iters", "1").returncode, 0)
        self.assertEqual(len(trace_files(self.run_dir)), 1)

    def test_record_capture_range(self):
        # --capture-range cudaProfilerApi sets PARTRACE_CUDA_CAPTURE=profiler for the command
        # (its effect on the GPU side: test_cuda.py); "none" records everything; others refused.
        for how, want in ((["--capture-range", "cudaProfilerApi"], "profiler"),
                          (["--capture-range=cudaProfilerApi"], "profiler"),
                          (["--capture-range=none"], "all")):
            out = os.path.join(self.tmp, "env-" + want + str(len(how)))
            proc = record("-o", out, *how, "--", "/bin/sh", "-c", "echo $PARTRACE_CUDA_CAPTURE")
            self.assertEqual((proc.returncode, proc.stdout.strip()), (0, want), proc.stderr)
        for bad, said in ((["--capture-range=nvtx", "true"], "--capture-range takes cudaProfilerApi or none"),
                          (["--capture-range"], "--capture-range needs a value")):
            proc = record("-o", os.path.join(self.tmp, "bad"), *bad)
            self.assertEqual(proc.returncode, 2)
            self.assertIn(said, proc.stderr)

    def test_bad_usage(self):
        cases = [([], 2, "usage"), (["frobnicate"], 2, "unknown command 'frobnicate'"),
                 (["dump"], 2, "dump: which run?"), (["dump", "--yaml", "x"], 2, "unknown option '--yaml'"),
                 (["info"], 2, "usage: partrace info [OPTIONS] RUN"), (["record"], 2, "no command to run"),
                 (["record", "-x", "--", "true"], 2, "unknown option '-x'"),
                 (["dump", "/no/such/path"], 1, "/no/such/path: No such file or directory"),
                 (["info", self.tmp], 1, "no .ptrace files in this directory")]
        for args, code, message in cases:
            proc = cli(*args, check=False)
            self.assertEqual(proc.returncode, code, args)
            self.assertIn(message, proc.stderr, args)
        self.assertEqual(cli("--help").returncode, 0)

    def test_not_a_trace(self):
        path = os.path.join(self.tmp, "x.ptrace")
        with open(path, "w") as f:
            f.write("hello, I am a text file\n" * 20)
        proc = cli("info", path, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("x.ptrace: not a partrace trace", proc.stderr)


if __name__ == "__main__":
    main()
