"""Applications that do what real ones do (tests/progs/hostile_app_main.c), run plain and traced:
the recorder must never write into their files, change what they see of their signals, hang
them, or lose events to the way they use threads; and run directories that another user could
tamper with are refused."""
import os
import subprocess
import unittest

from harness import (FAKE_NCCL_DIR, PROGS, TraceTest, cli, events, main, nccl, of_kind,
                     run_traced, trace_files, traced_env)

APP = os.path.join(PROGS, "hostile_app_main")
TSAN = os.environ.get("PT_TSAN") == "1"
# ThreadSanitizer models descriptors as memory: an application closing the writer's descriptor
# while the writer checks it is the very thing these tests do, reported as a race in the app.
TSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tsan_hostile_app.supp")


def plain(args):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = FAKE_NCCL_DIR
    env.pop("LD_PRELOAD", None)
    return subprocess.run([APP, *args], capture_output=True, text=True, env=env, timeout=120)


class Descriptors(TraceTest):
    def check_app_file(self, mode):
        path = os.path.join(self.tmp, "app.txt")
        extra = {"TSAN_OPTIONS": f"die_after_fork=0 suppressions={TSAN_SUPPRESSIONS}"} if TSAN else {}
        proc = run_traced([APP, mode, path], self.run_dir, PARTRACE_FLUSH_MS=10, **extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"".join(b"application line %d\n" % i for i in range(5)))
        # Every call is in the trace, which reads back whole.
        evs = events(self.run_dir)
        self.assertEqual(len(nccl(evs, "AllReduce")), 60)
        self.assertEqual(of_kind(evs, "end")[0]["dropped_total"], 0)
        self.assertEqual(len(trace_files(self.run_dir)), 1)

    def test_an_app_that_closes_every_descriptor_keeps_its_file(self):
        self.check_app_file("closeall")

    def test_an_app_that_dup2s_over_every_descriptor_keeps_its_file(self):
        self.check_app_file("dup2")


class Signals(TraceTest):
    @unittest.skipIf(TSAN, "ThreadSanitizer defers signals to its own points: the plain run differs")
    def test_what_the_app_sees_of_its_handlers_is_unchanged(self):
        # SA_NODEFER kept (three Ctrl-Cs reach a handler that longjmps out), the flags and mask
        # that sigaction reports are the kernel's, before and after the recorder starts, and
        # SA_RESETHAND reads back as set.
        want = plain(["signals"])
        self.assertEqual(want.returncode, 0, want.stderr)
        self.assertIn("caught 3 int_blocked 0", want.stdout)
        got = run_traced([APP, "signals"], self.run_dir)
        self.assertEqual(got.stdout, want.stdout)

    def test_fork_in_a_signal_handler_while_communicators_come_and_go(self):
        proc = run_traced([APP, "forksig", "1500"], self.run_dir)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        made, forks = (int(w) for w in proc.stdout.split()[1::2])
        # It finished (it hung every time before); a fork under ThreadSanitizer is slow.
        self.assertGreater(forks, 5 if TSAN else 100)
        self.assertGreater(made, 5 if TSAN else 1000)


class Threads(TraceTest):
    def test_thread_churn_loses_nothing(self):
        # 2,000 threads, one alive at a time, 20 calls each: once the buffer bound is reached
        # (16 rings of 512 KiB here), rings of exited threads are shared by the threads that
        # follow, so nothing waits for the writer to free them.
        proc = run_traced([APP, "churn", "2000"], self.run_dir, PARTRACE_BUFFER_MB=8,
                          PARTRACE_THREAD_BUFFER_KB=512)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "end")[0]["dropped_total"], 0)
        self.assertEqual(len(nccl(evs, "AllReduce")), 2000 * 20)
        self.assertEqual(len(of_kind(evs, "thread")), 2001)


class AddressReuse(TraceTest):
    def test_a_destroyed_communicators_address_taken_by_another_thread(self):
        # NCCL frees a communicator inside its destroy; another thread's new communicator may get
        # the same address before the destroy returns. Its calls are its own: its id, its
        # sequence numbers from 0, no communicator "adopted" for them.
        proc = run_traced([APP, "reuse"], self.run_dir, FAKE_NCCL_FREED_SLEEP_US=200000)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("same address 1", proc.stdout)
        evs = events(self.run_dir)
        inits = of_kind(evs, "comm_init")
        self.assertEqual([i["how"] for i in inits], ["InitRank", "InitRank"])
        fresh = inits[1]["comm"]
        ars = [e for e in nccl(evs, "AllReduce") if e["comm"] == fresh]
        self.assertEqual([e["seq"] for e in ars], [0, 1, 2, 3, 4])
        destroys = nccl(evs, "CommDestroy")
        self.assertEqual(sorted(e["comm"] for e in destroys), sorted(i["comm"] for i in inits))


@unittest.skipUnless(os.geteuid() == 0, "needs root to make files of another user")
class RunDirectories(TraceTest):
    NOBODY = 65534

    def refused(self, run_dir, reason):
        proc = run_traced([APP, "churn", "1"], run_dir)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(reason, proc.stderr)
        self.assertIn("recording nothing", proc.stderr)
        return proc

    def test_a_symlink_of_another_user_inside_the_path_is_refused(self):
        target = os.path.join(self.tmp, "elsewhere")
        os.mkdir(target)
        link = os.path.join(self.tmp, "runs")
        os.symlink(target, link)
        os.lchown(link, self.NOBODY, self.NOBODY)
        self.refused(os.path.join(link, "job1"), "symbolic link of another user")
        self.assertEqual(os.listdir(target), [])

    def test_our_own_symlink_inside_the_path_is_followed(self):
        target = os.path.join(self.tmp, "elsewhere")
        os.mkdir(target)
        os.symlink(target, os.path.join(self.tmp, "runs"))
        run_traced([APP, "churn", "1"], os.path.join(self.tmp, "runs", "job1"))
        self.assertEqual(len(trace_files(os.path.join(target, "job1"))), 1)

    def test_a_setgid_sticky_directory_of_another_user_is_refused(self):
        run = os.path.join(self.tmp, "shared")
        os.mkdir(run)
        os.chown(run, self.NOBODY, self.NOBODY)
        os.chmod(run, 0o3777)
        self.refused(run, "belongs to another user (uid 65534)")
        self.assertEqual(os.listdir(run), [])


class RelativeDirectory(TraceTest):
    def test_a_relative_run_directory_is_one_run_for_the_whole_job(self):
        # The parent starts in one directory, its child (a shell that changes directory, then
        # runs the app) in another: both land in the parent's run directory.
        work = os.path.join(self.tmp, "a")
        other = os.path.join(self.tmp, "b")
        os.mkdir(work)
        os.mkdir(other)
        env = traced_env("run")
        for key in ("LD_PRELOAD", "LD_LIBRARY_PATH"):
            env[key] = ":".join(os.path.abspath(p) for p in env[key].split(":"))
        app = os.path.abspath(APP)
        script = f'{app} churn 1 && cd {other} && {app} churn 1'
        proc = subprocess.run(["/bin/sh", "-c", script], cwd=work, env=env, capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(trace_files(os.path.join(work, "run"))), 2)
        self.assertFalse(os.path.exists(os.path.join(other, "run")))


if __name__ == "__main__":
    main()
