"""One process, linked directly against NCCL: every entry point, exact fields."""
import os

from harness import (DRIVER, MIX_CALLS, TraceTest, cli, events, header, main, nccl, of_kind,
                     run_traced, trace_files, traced_env)


class Basic(TraceTest):
    def test_every_call_recorded_with_its_fields(self):
        run_traced([DRIVER, "--iters", "4", "--extras"], self.run_dir, RANK=0, WORLD_SIZE=1,
                   SECRET_TOKEN="hunter2")
        files = trace_files(self.run_dir)
        self.assertEqual(len(files), 1)
        h = header(files[0])
        self.assertEqual(h["magic"], b"PARTRACE")
        self.assertEqual((h["major"], h["header_bytes"], h["flags"], h["exec_index"]), (3, 256, 0, 0))
        self.assertEqual(h["pid"], int(os.path.basename(files[0]).split("-")[-1].split(".")[0]))
        evs = events(self.run_dir)

        parent, child = self.assert_mix([e for e in evs if e["kind"] == "nccl"][:4 * MIX_CALLS], 4)
        calls = nccl(evs)
        # Bcast is recorded once, not also as the Broadcast the library calls inside it.
        self.assertEqual(len(nccl(evs, "Bcast")), 4)
        self.assertEqual(len(nccl(evs, "Broadcast")), 4)
        ar = calls[0]
        self.assertEqual((ar["count"], ar["dtype"], ar["redop"], ar["peer"], ar["rank"],
                          ar["nranks"], ar["device"], ar["stream"], ar["result"]),
                         (1024, "float32", "sum", -1, 0, 1, 0, "0x5", 0))
        self.assertGreater(ar["dur_ns"], 0)
        red = nccl(evs, "Reduce")[0]
        self.assertEqual((red["redop"], red["peer"], red["dtype"]), ("max", 0, "float16"))
        # Groups: GroupStart opens, the calls inside carry its id at depth 1, GroupEnd closes.
        gs, send, recv, ge = [e for e in calls if e["op"] in ("GroupStart", "Send", "Recv", "GroupEnd")][:4]
        self.assertNotEqual(gs["group_id"], 0)
        self.assertEqual({gs["group_id"], send["group_id"], recv["group_id"], ge["group_id"]},
                         {gs["group_id"]})
        self.assertEqual((gs["group_depth"], send["group_depth"], ge["group_depth"]), (0, 1, 0))
        self.assertEqual(ar["group_id"], 0)
        # Call ids are unique.
        ids = [e["call_id"] for e in calls]
        self.assertEqual(len(ids), len(set(ids)))

        # Communicator creations.
        inits = of_kind(evs, "comm_init")
        hows = [i["how"] for i in inits]
        self.assertEqual(hows, ["InitRank", "Split", "InitRankConfig", "InitAll", "InitAll",
                                "InitRankScalable"])
        self.assertEqual(inits[0]["comm"], parent)
        self.assertEqual((inits[1]["comm"], inits[1]["parent"]), (child, parent))
        self.assertTrue(inits[2]["nonblocking"])
        self.assertEqual(inits[2]["result"], 7)  # ncclInProgress
        self.assertEqual([(i["rank"], i["nranks"], i["device"]) for i in inits[3:5]],
                         [(0, 2, 3), (1, 2, 5)])
        self.assertTrue(inits[3]["local_id"])
        self.assertEqual(inits[3]["comm"], inits[4]["comm"])

        # The rest of the API, once each.
        for op in ("CommCount", "CommCuDevice", "CommUserRank", "CommRegister", "CommDeregister",
                   "CommWindowRegister", "CommWindowDeregister", "MemAlloc", "MemFree",
                   "GroupSimulateEnd", "CommFinalize", "CommRevoke", "CommAbort"):
            self.assertEqual(len(nccl(evs, op)), 1, op)
        self.assertEqual(nccl(evs, "CommRegister")[0]["bytes"], 4096)
        self.assertEqual(nccl(evs, "MemAlloc")[0]["bytes"], 1 << 20)
        self.assertEqual(nccl(evs, "CommWindowRegister")[0]["count"], 1)
        self.assertEqual(len(nccl(evs, "CommDestroy")), 5)
        # The non-blocking communicator's device was learnt once it was ready.
        nb = inits[2]["comm"]
        self.assertEqual([e["device"] for e in calls if e["comm"] == nb and e["op"] == "AllReduce"], [0])

        # Attributes: command line and whitelisted variables only.
        attrs = {(a["attr"], a["value"]) for a in of_kind(evs, "attr")}
        self.assertIn(("cmdline", f"{DRIVER} --iters 4 --extras".replace(" ", " ")), {
            (k, v.replace("\0", " ")) for k, v in attrs})
        self.assertIn(("env", "RANK=0"), attrs)
        self.assertIn(("env", "WORLD_SIZE=1"), attrs)
        self.assertFalse(any("hunter2" in v for _, v in attrs))

        threads = of_kind(evs, "thread")
        self.assertEqual(len(threads), 1)
        self.assertEqual(threads[0]["name"], "nccl_driver")
        end = of_kind(evs, "end")
        self.assertEqual(len(end), 1)
        self.assertEqual((end[0]["how"], end[0]["dropped_total"]), ("exit", 0))
        self.assertEqual(evs[-1]["kind"], "end")
        # Every record before the end record was written.
        self.assertEqual(end[0]["records_total"], len(evs) - 1)

    def test_disabled_records_nothing(self):
        proc = run_traced([DRIVER, "--iters", "2"], self.run_dir, PARTRACE_DISABLE=1)
        self.assertEqual(proc.stderr, "")
        self.assertFalse(os.path.exists(self.run_dir))

    def test_bad_settings_warn_once_and_use_defaults(self):
        proc = run_traced([DRIVER, "--iters", "2"], self.run_dir, PARTRACE_FLUSH_MS="soon",
                          PARTRACE_BUFFER_MB="-5", PARTRACE_ZSTD_LEVEL="99", PARTRACE_VERBOSE="maybe")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 4, proc.stderr)
        self.assertIn("PARTRACE_FLUSH_MS='soon' is not a whole number in 1..60000; using 100", lines[0])
        self.assertIn("PARTRACE_BUFFER_MB='-5'", proc.stderr)
        self.assertIn("PARTRACE_ZSTD_LEVEL='99'", proc.stderr)
        self.assertIn("PARTRACE_VERBOSE='maybe'", proc.stderr)
        self.assert_mix(events(self.run_dir), 2)

    def test_garbage_in_every_setting(self):
        # Every PARTRACE_* variable of docs/CONFIG.md, set to garbage (and to a very long value):
        # the application's output and exit status are as without partrace, and whatever trace
        # is written reads back.
        import re
        import shutil
        import subprocess
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "CONFIG.md")) as f:
            config = f.read()
        names = sorted(set(re.findall(r"`(PARTRACE_[A-Z0-9_]+)`", config)))
        self.assertGreater(len(names), 15)
        checked = 0
        plain = subprocess.run([DRIVER, "--iters", "2"], capture_output=True, text=True,
                               env=dict(os.environ, LD_LIBRARY_PATH=traced_env(self.run_dir)["LD_LIBRARY_PATH"]))
        for name in names:
            for value in ("!!garbage \x7f!!", "9" * 4096):
                shutil.rmtree(self.run_dir, ignore_errors=True)
                env = {name: value}
                if name == "PARTRACE_DIR":
                    env[name] = os.path.join(self.tmp, value[:200])
                proc = run_traced([DRIVER, "--iters", "2"], self.run_dir, check=False, **env)
                self.assertEqual((proc.returncode, proc.stdout), (plain.returncode, plain.stdout),
                                 (name, value[:20], proc.stderr[-500:]))
                for d in {self.run_dir, env.get("PARTRACE_DIR", self.run_dir)}:
                    if os.path.isdir(d) and os.listdir(d):
                        info = cli("info", d, check=False)
                        self.assertIn(info.returncode, (0, 1), (name, info.stderr))
                        checked += 1
        self.assertGreater(checked, len(names))  # most settings still leave a trace

    def test_64_threads_never_block_and_count_every_drop(self):
        # 64 threads x 1 M NCCL calls (fewer under the sanitizers): far more than the writer can
        # take, so most are dropped; the program finishes, resident memory stays bounded by the
        # rings, and every call is either in the trace or counted as dropped.
        import resource
        import subprocess
        slow = os.environ.get("PT_SANITIZE") == "1" or os.environ.get("PT_TSAN") == "1"
        iters = 2000 if slow else 71429  # x 14 calls per iteration
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run([DRIVER, "--threads", "64", "--iters", str(iters)], capture_output=True,
                              text=True, env=traced_env(self.run_dir), timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        evs = events(self.run_dir)
        (end,) = of_kind(evs, "end")
        calls = len(nccl(evs))
        # Every record a thread made is in the trace or counted as dropped: its data calls and
        # two CommDestroy, its two communicator creations and its thread record.
        others = len(of_kind(evs, "comm_init")) + len(of_kind(evs, "thread"))
        self.assertEqual(calls + others + end["dropped_total"], 64 * iters * 14 + 64 * 2 + 64 * 3)
        if not slow:
            self.assertGreater(end["dropped_total"], 0)
            # 64 rings of 512 KiB and the program itself; the calls alone would need gigabytes.
            self.assertLess(max(rss_kb, before) / 1024, 150, rss_kb)
        print(f"64 threads x {iters * 14} calls: {calls} recorded, {end['dropped_total']} dropped "
              f"and counted, peak RSS {rss_kb / 1024:.0f} MB")

    def test_unsafe_run_directories_are_refused(self):
        target = os.path.join(self.tmp, "target")
        os.makedirs(target)
        link = os.path.join(self.tmp, "link")
        os.symlink(target, link)
        proc = run_traced([DRIVER, "--iters", "1"], link)
        self.assertIn(f"run directory '{link}' is a symbolic link (name its target instead); "
                      "recording nothing", proc.stderr)
        self.assertEqual(os.listdir(target), [])
        shared = os.path.join(self.tmp, "shared")
        os.makedirs(shared)
        os.chmod(shared, 0o777)
        proc = run_traced([DRIVER, "--iters", "1"], shared)
        self.assertIn("is writable by others without the sticky bit; recording nothing", proc.stderr)
        self.assertEqual(os.listdir(shared), [])
        os.chmod(shared, 0o1777)  # as /tmp: others cannot remove or replace our files
        run_traced([DRIVER, "--iters", "1"], shared)
        self.assert_mix(events(shared), 1)

    def test_unwritable_and_missing_directories(self):
        # Missing parents are made; a place nothing can be created in (even as root) is said
        # in one line, and the application runs as without partrace.
        deep = os.path.join(self.tmp, "a", "b", "c")
        run_traced([DRIVER, "--iters", "1"], deep)
        self.assert_mix(events(deep), 1)
        proc = run_traced([DRIVER, "--iters", "1"], "/proc/partrace-cannot-be-here", check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("cannot create run directory '/proc/partrace-cannot-be-here'", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)

    def test_full_filesystem(self):
        # A run directory on an 8 KiB tmpfs: the application finishes as without partrace; the
        # trace holds what fitted, reads back and says it was cut short.
        import subprocess
        mnt = os.path.join(self.tmp, "small")
        os.makedirs(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        try:
            run = os.path.join(mnt, "run")
            proc = run_traced([DRIVER, "--iters", "3000"], run, check=False)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("cannot write the trace file (write: No space left on device); further "
                          "events are counted as dropped", proc.stderr)
            info = cli("info", run, check=False)
            self.assertIn(info.returncode, (0, 1), info.stderr)
            self.assertIn("cut short", info.stdout + info.stderr)
        finally:
            subprocess.run(["umount", mnt], check=False)


if __name__ == "__main__":
    main()
