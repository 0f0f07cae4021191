"""Process lifecycle: fork (child gets its own file), exec (the new image gets its own file),
_exit, SIGTERM with and without the application's handler, SIGKILL (loss of at most one flush
interval), and files cut at any byte."""
import json
import os
import signal
import subprocess
import time

from harness import (DRIVER, MIX_CALLS, TraceTest, cli, events, header, main, nccl, of_kind,
                     trace_files, traced_env)


def wait_for_progress(path, at_least, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                lines = f.read().split()
            if lines and int(lines[-1]) >= at_least:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    raise AssertionError("the traced program made no progress")


def last_progress(path):
    with open(path) as f:
        return int(f.read().split()[-1])


class Lifecycle(TraceTest):
    def check_fork(self, flag, end_how):
        subprocess.run([DRIVER, "--iters", "3", flag], check=True, env=traced_env(self.run_dir))
        files = trace_files(self.run_dir)
        self.assertEqual(len(files), 2)
        heads = {header(f)["pid"]: (f, header(f)) for f in files}
        parent = [v for v in heads.values() if not v[1]["flags"] & 1]
        child = [v for v in heads.values() if v[1]["flags"] & 1]
        self.assertEqual((len(parent), len(child)), (1, 1))
        self.assertEqual(child[0][1]["ppid"], parent[0][1]["pid"])
        pev, cev = events(parent[0][0]), events(child[0][0])
        # The parent: its mix before the fork and after; none of the child's calls.
        self.assertEqual(len([e for e in nccl(pev) if not e["op"].startswith("Comm")]), 6 * MIX_CALLS)
        self.assertEqual(of_kind(pev, "end")[0]["how"], "exit")
        # The child: only its own calls, none of the parent's buffered ones.
        self.assert_mix(cev, 3)
        self.assertEqual(len(of_kind(cev, "comm_init")), 2)
        self.assertEqual(of_kind(cev, "end")[0]["how"], end_how)

    def test_fork_exit(self):
        self.check_fork("--fork", "exit")

    def test_fork_underscore_exit(self):
        self.check_fork("--fork-underscore-exit", "_exit")

    def test_exec_gives_the_new_image_its_own_file(self):
        subprocess.run([DRIVER, "--iters", "4", "--exec-self"], check=True,
                       env=traced_env(self.run_dir))
        files = trace_files(self.run_dir)
        self.assertEqual(len(files), 2)
        first, second = sorted(files, key=lambda f: header(f)["exec_index"])
        self.assertEqual(header(first)["pid"], header(second)["pid"])
        self.assertEqual(header(second)["exec_index"], 1)
        before, after = events(first), events(second)
        self.assert_mix(before, 4)
        self.assertEqual(of_kind(before, "end"), [])
        self.assertEqual(of_kind(before, "flush")[-1]["reason"], "EXEC")
        self.assert_mix(after, 2)
        self.assertEqual(of_kind(after, "end")[0]["how"], "exit")

    def start_endless(self, *flags, **env):
        progress = os.path.join(self.tmp, "progress")
        proc = subprocess.Popen([DRIVER, "--forever", "--sleep-us", "1000", "--progress", progress,
                                 *flags], env=traced_env(self.run_dir, **env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_progress(progress, 50)
        return proc, progress

    def test_sigterm_default_action(self):
        proc, progress = self.start_endless()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGTERM)
        done = last_progress(progress)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "end")[0]["how"], "fatal signal")
        calls = [e for e in nccl(evs) if not e["op"].startswith("Comm")]
        # Everything issued before the signal is in the trace (the iteration in flight may be
        # partly there).
        self.assertGreaterEqual(len(calls), done * MIX_CALLS)
        self.assertLess(len(calls), (done + 1) * MIX_CALLS)

    def test_sigterm_application_handler_still_runs(self):
        proc, progress = self.start_endless("--term-handler")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("handler ran", out)
        done = last_progress(progress)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "end")[0]["how"], "_exit")
        self.assertGreaterEqual(len([e for e in nccl(evs) if not e["op"].startswith("Comm")]),
                                done * MIX_CALLS)

    def test_sigkill_loses_at_most_one_flush_interval(self):
        flush_ms = 50
        proc, progress = self.start_endless(PARTRACE_FLUSH_MS=flush_ms)
        time.sleep(0.3)
        killed_ns = time.monotonic_ns()  # CLOCK_MONOTONIC, the trace's clock
        proc.kill()
        proc.communicate(timeout=30)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "end"), [])
        calls = nccl(evs)
        self.assertGreater(len(calls), 50 * MIX_CALLS)
        lost_ms = (killed_ns - max(e["ts_ns"] for e in calls)) / 1e6
        # One interval, plus scheduling slack of a loaded CI machine.
        self.assertLess(lost_ms, flush_ms + 100, f"lost {lost_ms:.1f} ms of events")

    def test_sigkill_at_random_points(self):
        # 50 runs killed at random moments: every trace reads back, and what is lost stays
        # within one flush interval (plus a loaded machine's scheduling slack).
        import random
        import shutil
        rng = random.Random(7)
        flush_ms, losses = 50, []
        for run in range(50):
            shutil.rmtree(self.run_dir, ignore_errors=True)
            if os.path.exists(os.path.join(self.tmp, "progress")):
                os.remove(os.path.join(self.tmp, "progress"))  # else the last run's progress counts
            proc, _ = self.start_endless(PARTRACE_FLUSH_MS=flush_ms)
            time.sleep(rng.uniform(0.0, 0.25))
            killed_ns = time.monotonic_ns()
            proc.kill()
            proc.communicate(timeout=30)
            info = cli("info", self.run_dir, check=False)
            self.assertIn(info.returncode, (0, 1), info.stderr)  # 1: cut short, which it says
            calls = nccl(events(self.run_dir))
            # Lost: from the last call read back (or, killed before the first periodic flush,
            # from the process's start, in the header on the same monotonic clock) to the kill.
            if calls:
                last = max(e["ts_ns"] for e in calls)
            else:
                last = header(trace_files(self.run_dir)[0])["monotonic_ns"]
            losses.append((killed_ns - last) / 1e6)
        losses.sort()
        print(f"SIGKILL x50, PARTRACE_FLUSH_MS={flush_ms}: lost median {losses[25]:.1f} ms, "
              f"max {losses[-1]:.1f} ms")
        self.assertLess(losses[-1], flush_ms + 100, losses)

    def test_cut_at_any_byte_reads_back_a_prefix(self):
        subprocess.run([DRIVER, "--iters", "40"], check=True,
                       env=traced_env(self.run_dir, PARTRACE_FLUSH_MS=1))
        path = trace_files(self.run_dir)[0]
        whole = events(path)
        with open(path, "rb") as f:
            data = f.read()
        cut = os.path.join(self.tmp, "cut.ptrace")
        last = -1
        step = max(1, len(data) // 300)
        for size in list(range(0, len(data), step)) + [len(data) - 1]:
            with open(cut, "wb") as f:
                f.write(data[:size])
            proc = cli("dump", "--json", cut, check=False)
            if size < 256:
                self.assertEqual(proc.returncode, 1)
                expect = "empty file" if size == 0 else "cut short"
                self.assertIn(expect, proc.stderr,
                              f"size {size}: {proc.returncode} {proc.stdout[:300]!r}")
                continue
            self.assertEqual(proc.returncode, 0, proc.stderr)
            got = proc.stdout.splitlines()
            self.assertEqual([json.loads(x) for x in got], whole[:len(got)])
            self.assertGreaterEqual(len(got), last)
            last = len(got)
            if size < len(data) and len(got) < len(whole):
                if "cut short" not in proc.stderr:
                    # Cut exactly between two frames: a clean read that ends a frame (frames
                    # end with a flush record; the first frame holds the attributes).
                    self.assertIn(json.loads(got[-1])["kind"] if got else "attr", ("flush", "attr"))
        self.assertLess(last, len(whole))

    def test_garbage_is_refused_clearly(self):
        bad = os.path.join(self.tmp, "bad.ptrace")
        with open(bad, "wb") as f:
            f.write(b"PARTRACE" + bytes([1, 0, 0, 0, 0, 1, 0, 0]) + os.urandom(4000))
        proc = cli("dump", bad, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bad.ptrace", proc.stderr)
        subprocess.run([DRIVER, "--iters", "3"], check=True, env=traced_env(self.run_dir))
        path = trace_files(self.run_dir)[0]
        with open(path, "rb") as f:
            data = bytearray(f.read())
        data[300:340] = os.urandom(40)
        with open(bad, "wb") as f:
            f.write(data)
        proc = cli("info", bad, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("DAMAGED", proc.stdout)


if __name__ == "__main__":
    main()
