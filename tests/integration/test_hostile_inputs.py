"""Run directories as a crash or a hostile user leaves them: entries named *.ptrace that are no
trace (empty, cut inside the header, a dangling link, a directory, a FIFO), thousands of them,
and traces that name a FIFO as a loaded object. Every command skips them with one line and goes
on, never hangs and never crashes; a bad file named alone is one clear error."""
import json
import os
import shutil
import struct
import subprocess

from harness import (DRIVER, HEADER, PARTRACE, PROGS, TraceTest, cli, events, main, of_kind, run_traced,
                     traced_env)

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


# A host name, NVTX text and a program name as an attacker would choose them: JSON that closes
# its string and opens objects, a terminal title and screen clear, markup, a table pipe, UTF-8
# (kept), and bytes that are no UTF-8 (made U+FFFD in JSON).
FORGED_HOST = b'evil"},{"injected":1,"x":"\x1b[2J'
HOSTILE_TEXT = b'ph\x1b]0;owned\x07\n"<b>|*caf\xc3\xa9\xff'
HOSTILE_JSON = 'ph\x1b]0;owned\x07\n"<b>|*caf\u00e9\ufffd'


def runner(args):
    """partrace with bytes out (what a terminal would be sent) and arguments of any bytes."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:verify_asan_link_order=0")
    return subprocess.run([PARTRACE, *args], capture_output=True, timeout=120, env=env)


class HostileNames(TraceTest):
    def test_a_forged_host_name_cannot_break_json_or_the_terminal(self):
        run = os.path.join(self.tmp, "run")
        shutil.copytree(SAMPLE, run)
        first = sorted(os.listdir(run))[0]
        with open(os.path.join(run, first), "r+b") as f:
            f.seek(HEADER.size - 64)
            f.write(FORGED_HOST.ljust(64, b"\0"))
        proc = runner(["report", "--json", run])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = json.loads(proc.stdout)
        self.assertNotIn("injected", doc)
        self.assertIn(FORGED_HOST.decode(), [h["host"] for h in doc["clocks"]["hosts"]])
        for args in (["report", run], ["info", run], ["dump", run], ["report", "--markdown", run]):
            proc = runner(args)
            self.assertEqual(proc.returncode, 0, args)
            self.assertNotIn(b"\x1b", proc.stdout + proc.stderr, args)
        self.assertIn(b"evil\"},{\"injected\":1,\"x\":\"\\e[2J", runner(["info", run]).stdout)

    def test_hostile_nvtx_text_in_every_output(self):
        run_traced([os.path.join(PROGS, "nvtx_main"), HOSTILE_TEXT.decode("utf-8", "surrogateescape")],
                   self.run_dir)
        texts = [e["text"] for e in of_kind(events(self.run_dir), "nvtx")]
        self.assertIn(HOSTILE_JSON, texts)  # dump --json: UTF-8 kept, the bad byte U+FFFD
        text = runner(["dump", self.run_dir]).stdout
        self.assertNotIn(b"\x1b", text)
        line = [l for l in text.splitlines() if b"nvtx push" in l and b"ph" in l][0]
        self.assertIn(b'ph\\e]0;owned\\x07\\n"<b>|*caf\xc3\xa9\\xff', line)
        chrome = os.path.join(self.tmp, "t.json")
        cli("export", "--chrome", "-o", chrome, self.run_dir)
        with open(chrome, encoding="utf-8") as f:  # strict: invalid UTF-8 would raise here
            names = [e.get("name") for e in json.load(f)["traceEvents"]]
        self.assertIn(HOSTILE_JSON, names)
        phase = HOSTILE_TEXT.decode("utf-8", "surrogateescape")
        page = os.path.join(self.tmp, "r.html")
        self.assertEqual(runner(["report", "--html", page, "--phase", phase, self.run_dir]).returncode, 0)
        with open(page, "rb") as f:
            html = f.read()
        self.assertNotIn(b"<b>", html)
        self.assertNotIn(b"\x1b", html)
        self.assertIn(b"&quot;&lt;b&gt;|*caf\xc3\xa9&#xfffd;", html)
        md = runner(["report", "--markdown", "--phase", phase, self.run_dir]).stdout
        self.assertIn(b'\\e\\]0;owned\\x07\\n"&lt;b&gt;\\|\\*caf\xc3\xa9\\xff', md)
        self.assertNotIn(b"\x1b", md)
        text = runner(["report", "--phase", phase, self.run_dir])
        self.assertNotIn(b"\x1b", text.stdout + text.stderr)

    def test_nvtx_text_is_cut_between_characters(self):
        run_traced([os.path.join(PROGS, "nvtx_main"), "\u20ac" * 100], self.run_dir)  # 300 bytes
        texts = [e["text"] for e in of_kind(events(self.run_dir), "nvtx")]
        self.assertIn("\u20ac" * 85, texts)  # 255 of the 256 bytes: no third of a euro sign

    def test_a_program_name_in_utf8_reads_back_whole(self):
        prog = os.path.join(self.tmp, "driv\u00e9")
        os.symlink(os.path.abspath(DRIVER), prog)
        run_traced([prog, "--iters", "1"], self.run_dir)
        attrs = [e["value"] for e in of_kind(events(self.run_dir), "attr") if e["attr"] == "cmdline"]
        self.assertTrue(attrs and "driv\u00e9" in attrs[0], attrs)


class Damage(TraceTest):
    def test_damage_inside_a_frame_is_found_where_it_is(self):
        # One flipped byte in the middle of the trace: found (frames carry zstd's checksum of
        # their content, so damage cannot decode into wrong records unseen), and reported at the
        # offset of the frame that holds it: the file cut there reads back cleanly.
        run_traced([DRIVER, "--iters", "200"], self.run_dir, PARTRACE_FLUSH_MS=1)
        (path,) = [os.path.join(self.run_dir, f) for f in os.listdir(self.run_dir)]
        with open(path, "rb") as f:
            data = bytearray(f.read())
        whole = len(cli("dump", "--json", path).stdout.splitlines())
        flip = len(data) // 2
        data[flip] ^= 0x01
        with open(path, "wb") as f:
            f.write(data)
        info = cli("info", path, check=False).stdout
        at = int(info.split("integrity DAMAGED at offset ")[1].split(":")[0])
        self.assertTrue(HEADER.size <= at <= flip, (at, flip))
        cut = os.path.join(self.tmp, "cut.ptrace")
        with open(cut, "wb") as f:
            f.write(data[:at])
        clean = cli("dump", "--json", cut)
        self.assertNotIn("cut short", clean.stderr)
        self.assertNotIn("damaged", clean.stderr)
        self.assertLess(len(clean.stdout.splitlines()), whole)


class Naming(TraceTest):
    def test_a_process_with_nccl_but_no_launcher_rank_is_named_a_rank(self):
        run_traced([DRIVER, "--iters", "1"], self.run_dir, RANK=None, LOCAL_RANK=None)
        chrome = os.path.join(self.tmp, "t.json")
        cli("export", "--chrome", "-o", chrome, self.run_dir)
        with open(chrome) as f:
            names = [e["args"]["name"] for e in json.load(f)["traceEvents"]
                     if e.get("name") == "process_name"]
        self.assertEqual(len(names), 1)
        self.assertTrue(names[0].startswith("rank 0 ·"), names)


def plain_trace(path, records, host=b"vm"):
    """A format 1.x trace (records as they are, one zstd frame) of the given raw records."""
    size = 256  # sizeof(struct pt_file_header): HEADER's fields, then reserved bytes
    head = HEADER.pack(b"PARTRACE", 1, 0, size, 1, 0, 0, 0, 0, 0, host.ljust(64, b"\0"))
    head = head.ljust(size, b"\0")
    with open(path + ".raw", "wb") as f:  # from a file, zstd records the content size
        f.write(b"".join(records))
    frame = subprocess.run(["zstd", "-q", "-c", path + ".raw"], capture_output=True,
                           check=True).stdout
    os.unlink(path + ".raw")
    with open(path, "wb") as f:
        f.write(head + frame)


def nccl_call(t, comm, seq, rank, nranks, call_id):
    """A pt_rec_nccl_call (format.h): an AllReduce of 1 KiB."""
    return struct.pack("<HHI10QiiiiHBBhH", 3, 112, 1, t, t + 100, comm, call_id, 0, seq, 256, 1024,
                       0, 0, -1, rank, nranks, 0, 1, 7, 0, 0, 0)


class ForgedRanks(TraceTest):
    def test_calls_with_ranks_outside_their_communicator(self):
        # A rank of -1 or past the communicator's size (damaged or forged records): left out of
        # the per-member tables, never written outside them (the ASan build checks).
        os.makedirs(self.run_dir)
        for f, rank in enumerate((-1, 99, 0, 2**31 - 1)):
            recs = [nccl_call(1000 + k * 1000, 0xc0ffee, k, rank, 4, (f + 1) << 40 | (k + 1))
                    for k in range(5)]
            plain_trace(os.path.join(self.run_dir, f"r{f}.ptrace"), recs)
        rep = json.loads(cli("report", "--json", self.run_dir).stdout)
        (comm,) = rep["communicators"]
        self.assertEqual((comm["nranks"], comm["ranks_in_run"]), (4, 1))


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
