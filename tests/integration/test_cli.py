"""The partrace command: record passes the exit status through and summarises; bad arguments
and bad input get a clear message and a non-zero exit, never a crash."""
import json
import os
import re
import shutil
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


SAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "gpu-engine-straggle", "traced")
COMMANDS = ["record", "info", "dump", "report", "diff", "compare", "whatif", "export", "check", "help"]


class Conventions(TraceTest):
    """One parser for every command (analyze/commands/options.c): the same help, value forms,
    errors and exit statuses everywhere; man pages and completions from the same tables."""

    def test_every_command_answers_help(self):
        listed = [line.split()[0] for line in cli("help").stdout.split("commands:\n")[1].split("\n\n")[0].splitlines()]
        self.assertEqual(listed, COMMANDS)
        for name in COMMANDS:
            helped = cli(name, "--help").stdout
            self.assertEqual(cli("help", name).stdout, helped, name)
            self.assertEqual(cli(name, "-h").stdout, helped, name)
            self.assertTrue(helped.startswith(f"usage: partrace {name} [OPTIONS] "), name)
            self.assertIn("exit status: 0 done, 1 the input could not be read or written, 2 bad usage", helped)
            options = re.findall(r"^  (-[-\w]+)", helped.split("options:")[1], re.M)
            for option in options:  # each one a line of the man page too
                self.assertIn(option.replace("-", "\\-"), cli("help", "--man", name).stdout, (name, option))
        self.assertIn("3 a --fail-if held", cli("report", "--help").stdout)
        self.assertIn("3 a figure regressed", cli("diff", "--help").stdout)
        r = cli("help", "nosuch", check=False)
        self.assertEqual((r.returncode, r.stderr), (2, "partrace: help: no command 'nosuch' ('partrace help' lists them)\n"))

    def test_each_page_holds_its_help(self):
        docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs")
        for name in COMMANDS:
            page = os.path.join(docs, f"partrace-{name}.md")
            if name == "help":
                self.assertFalse(os.path.exists(page))
                continue
            with open(page, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("```\n" + cli(name, "--help").stdout + "```\n", text,
                          f"{page}: run scripts/help_to_docs.py BUILD")

    def test_version(self):
        out = cli("--version").stdout
        self.assertRegex(out, r"^partrace \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(\+changes)?|unknown)\), trace format 3\.\d+\n$")

    def test_value_forms_and_errors(self):
        a = json.loads(cli("report", "--json", "--phase", "decode", SAMPLE).stdout)
        b = json.loads(cli("report", "--json", "--phase=decode", SAMPLE).stdout)
        self.assertEqual(a, b)
        for args, said in [(["report", SAMPLE, "--phase"], "report: --phase needs a value (--phase NAME)"),
                           (["report", "--phase=", SAMPLE], "report: --phase needs a value"),
                           (["export", "--perfetto", SAMPLE, "-o"], "export: -o needs a value (-o FILE)"),
                           (["record", "-o"], "record: -o needs a value (-o DIR)"),
                           (["report", "--json=yes", SAMPLE], "report: --json takes no value ('--json=yes')"),
                           (["report", "--frm", "1", SAMPLE], "report: unknown option '--frm' ('partrace report --help' lists them)"),
                           (["whatif", SAMPLE, SAMPLE], "whatif: one operand at a time")]:
            r = cli(*args, check=False)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(said, r.stderr, args)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_empty_windows_say_the_same_everywhere(self):
        out = os.path.join(self.tmp, "x.pftrace")
        said = "nothing of the run falls inside the window (from 0 s after the run's first event, in NVTX ranges " \
               "'nosuch'); the run spans 4.107 s; its NVTX ranges: 'warmup', 'prefill', 'decode'"
        for args in (["report"], ["compare"], ["export", "--perfetto", "-o", out], ["export", "--chrome", "-o", out]):
            r = cli(*args, "--phase", "nosuch", SAMPLE, check=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(said, r.stderr, args)
            self.assertFalse(os.path.exists(out), args)
        r = cli("export", "--perfetto", "-o", out, "--ranks", "9", SAMPLE, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ranks 9 matches no rank of this run (ranks 0 to 3)", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_outputs_checked_first_and_their_folders_made(self):
        deep = os.path.join(self.tmp, "a", "b", "t.pftrace")
        cli("export", "--perfetto", "-o", deep, SAMPLE)
        self.assertTrue(os.path.isfile(deep))
        html = os.path.join(self.tmp, "c", "r.html")
        self.assertEqual(cli("report", "--html", html, SAMPLE).returncode, 0)
        r = cli("report", "--html", html, SAMPLE, check=False)  # refused before printing anything
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertIn(html + " exists (--force replaces it)", r.stderr)
        self.assertEqual(cli("report", "--force", "--html", html, SAMPLE).returncode, 0)
        r = cli("compare", "--html", html, SAMPLE, check=False)
        self.assertEqual((r.returncode, r.stdout), (2, ""))

    def test_dump_demangles(self):
        engine = os.path.join(os.path.dirname(SAMPLE), "..", "gpu-engine-metrics", "traced")
        shown = cli("dump", engine).stdout
        mangled = cli("dump", "--mangled", engine).stdout
        self.assertIn("::rmsnorm\n", shown)
        self.assertNotIn("_Z", "".join(l for l in shown.splitlines() if " kernel " in l))
        self.assertIn("7rmsnormEPKtS1_jfPt", mangled)
        line = json.loads(next(l for l in cli("dump", "--json", engine).stdout.splitlines() if '"kernel"' in l))
        self.assertFalse(line["name"].startswith("_Z"))

    def test_completions_and_man_pages(self):
        bash = cli("help", "--completion", "bash").stdout
        subprocess.run(["bash", "-n"], input=bash, text=True, check=True)
        self.assertIn("report) opts=\"--json --markdown --html --force --from --to --phase", bash)
        zsh = cli("help", "--completion", "zsh").stdout
        self.assertTrue(zsh.startswith("#compdef partrace"))
        if shutil.which("zsh"):
            subprocess.run(["zsh", "-n"], input=zsh, text=True, check=True)
        r = cli("help", "--completion", "fish", check=False)
        self.assertEqual(r.returncode, 2)
        for name in [None] + COMMANDS:
            page = cli("help", "--man", *([name] if name else [])).stdout
            self.assertTrue(page.startswith(".TH PARTRACE"), name)
            if shutil.which("groff"):
                rendered = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, text=True,
                                          capture_output=True)
                self.assertEqual((rendered.returncode, rendered.stderr), (0, ""), name)


if __name__ == "__main__":
    main()
