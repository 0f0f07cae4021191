"""Run directories as a crash or a hostile user leaves them: entries named *.ptrace that are no
trace (empty, cut inside the header, a dangling link, a directory, a FIFO), thousands of them,
and traces that name a FIFO as a loaded object. Every command skips them with one line and goes
on, never hangs and never crashes; a bad file named alone is one clear error."""
import os
import shutil

from harness import (DRIVER, TraceTest, cli, main, run_traced)

SAMPLE = os.path.join(os.path.dirname(__file__), "../../samples/gpu-cuda-timeline/traced")

# Every reading command, with the arguments it takes after the run directory is known.
COMMANDS = [("report",), ("report", "--json"), ("info",), ("dump",), ("dump", "--json"),
            ("export", "--perfetto", "-o", "{out}.pftrace"), ("export", "--chrome", "-o", "{out}.json")]


class BadEntries(TraceTest):
    def make_run(self, bad):
        run = os.path.join(self.tmp, "run")
        shutil.copytree(SAMPLE, run)
        if bad:
            open(os.path.join(run, "empty.ptrace"), "w").close()
            with open(os.path.join(run, "cut.ptrace"), "wb") as f:
                f.write(b"PARTRA")  # a process killed while writing its header
            os.symlink("/nonexistent/x.ptrace", os.path.join(run, "dangling.ptrace"))
            os.mkdir(os.path.join(run, "dir.ptrace"))
            os.mkfifo(os.path.join(run, "fifo.ptrace"))
        return run

    def run_all(self, run, tag):
        out = {}
        for args in COMMANDS:
            args = [a.format(out=os.path.join(self.tmp, tag)) for a in args]
            # A FIFO that was opened for reading would block until the timeout: cli() fails then.
            proc = cli(*args, run, check=False)
            self.assertEqual(proc.returncode, 0, (args, proc.stderr))
            out[" ".join(args[:2])] = proc
        return out

    def test_every_command_skips_what_is_no_trace(self):
        good = self.run_all(self.make_run(False), "good")
        shutil.rmtree(os.path.join(self.tmp, "run"))
        bad = self.run_all(self.make_run(True), "bad")
        for key, proc in bad.items():
            lines = [l for l in proc.stderr.splitlines() if "skipped" in l]
            self.assertEqual(len(lines), 1, (key, proc.stderr))
            self.assertIn("5 of 10 .ptrace entries are no readable trace", lines[0])
            self.assertIn("cut.ptrace: header cut short at byte 6", lines[0])  # first by name
        # What is read is the same as without the bad entries.
        for key in ("report", "report --json", "dump --json"):
            self.assertEqual(bad[key].stdout, good[key].stdout, key)
        for ext in ("pftrace", "json"):
            with open(os.path.join(self.tmp, "good." + ext), "rb") as a, \
                    open(os.path.join(self.tmp, "bad." + ext), "rb") as b:
                self.assertEqual(a.read(), b.read(), ext)

    def test_a_bad_file_named_alone_is_an_error(self):
        run = self.make_run(True)
        cases = {"empty.ptrace": "empty file", "cut.ptrace": "header cut short",
                 "dangling.ptrace": "No such file or directory", "fifo.ptrace": "not a regular file (a FIFO)",
                 "dir.ptrace": "no .ptrace files in this directory"}
        for name, message in cases.items():
            for cmd in ("info", "report", "dump"):
                proc = cli(cmd, os.path.join(run, name), check=False)
                self.assertEqual(proc.returncode, 1, (cmd, name))
                self.assertIn(message, proc.stderr, (cmd, name))
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_only_bad_entries_is_one_error(self):
        run = os.path.join(self.tmp, "run")
        os.mkdir(run)
        for i in range(10000):
            open(os.path.join(run, f"p{i:05d}.ptrace"), "w").close()
        proc = cli("report", run, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr[:2000])
        self.assertIn("no readable trace among its 10000 .ptrace entries", proc.stderr)
        self.assertIn("p00000.ptrace: empty file", proc.stderr)

    def test_thousands_of_empty_files_beside_a_run_give_one_line(self):
        run = self.make_run(False)
        for i in range(10000):
            open(os.path.join(run, f"z{i:05d}.ptrace"), "w").close()
        proc = cli("report", run)
        self.assertEqual(sum("skipped" in l for l in proc.stderr.splitlines()), 1, proc.stderr[:2000])
        self.assertIn("10000 of 10005", proc.stderr)


class NamedObjects(TraceTest):
    def test_a_loaded_object_replaced_by_a_fifo_is_not_opened(self):
        # The trace names the program's path among its loaded objects; the symboliser opens it
        # when it prints stacks. Replaced by a FIFO, it must be passed over, not waited on.
        prog = os.path.join(self.tmp, "driver")
        shutil.copy(DRIVER, prog)
        run_traced([prog, "--iters", "1"], self.run_dir, PARTRACE_STACKS="1")
        os.unlink(prog)
        os.mkfifo(prog)
        proc = cli("dump", self.run_dir)
        self.assertIn("stack", proc.stdout)


class CheckCommand(TraceTest):
    def test_check_refuses_what_is_no_trace(self):
        empty = os.path.join(self.tmp, "empty.pftrace")
        open(empty, "w").close()
        fifo = os.path.join(self.tmp, "fifo.pftrace")
        os.mkfifo(fifo)
        for path, message in ((self.tmp, "a directory"), (empty, "an empty file"),
                              (fifo, "not a regular file")):
            proc = cli("check", path, check=False)
            self.assertEqual(proc.returncode, 1, path)
            self.assertIn(message, proc.stderr)


if __name__ == "__main__":
    main()
