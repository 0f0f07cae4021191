"""PARTRACE_STACKS: call stacks of communicator creations (1) and of every NCCL call (all), as
return addresses that the reader turns into function+offset (object) with the loaded objects
recorded beside them."""
import unittest

from harness import (DRIVER, MIX_CALLS, TraceTest, build_setting, events, main, nccl, of_kind, run_traced)


@unittest.skipIf(build_setting("PT_STACKS") == "OFF", "this build has no libunwind: stacks are off")
class Stacks(TraceTest):
    def test_every_call(self):
        run_traced([DRIVER, "--iters", "2"], self.run_dir, PARTRACE_STACKS="all")
        evs = events(self.run_dir)
        stacks = {(s["ref_kind"], s["ref"]): s["frames"] for s in of_kind(evs, "stack")}
        calls = nccl(evs)
        self.assertEqual(len(calls), 2 * MIX_CALLS + 2)
        for c in calls:
            frames = stacks[("nccl", c["call_id"])]
            # The application's frames, not ours: innermost is the driver's own code (mix() or,
            # inlined, run()), with run() and main() below it.
            self.assertTrue(frames[0].endswith("(nccl_driver)"), frames)
            self.assertTrue(any(f.startswith("run+0x") for f in frames), frames)
            self.assertTrue(any(f.startswith("main+0x") for f in frames), frames)
            self.assertFalse(any("libpartrace" in f for f in frames), frames)
        for init in of_kind(evs, "comm_init"):
            self.assertIn(("comm_init", init["call_id"]), stacks)
        paths = [m["path"] for m in of_kind(evs, "module")]
        self.assertTrue(any(p.endswith("/nccl_driver") for p in paths), paths)
        # Call ids stay unique, the first call of the thread included.
        ids = [e["call_id"] for e in calls + of_kind(evs, "comm_init")]
        self.assertEqual(len(ids), len(set(ids)))

    def test_creations_only(self):
        run_traced([DRIVER, "--iters", "2"], self.run_dir, PARTRACE_STACKS="1")
        evs = events(self.run_dir)
        self.assertEqual(sorted(s["ref_kind"] for s in of_kind(evs, "stack")),
                         ["comm_init", "comm_init"])

    def test_off_by_default_and_bad_values(self):
        proc = run_traced([DRIVER, "--iters", "1"], self.run_dir, PARTRACE_STACKS="deep")
        self.assertIn("PARTRACE_STACKS='deep' is not 0, 1 or all; using 0", proc.stderr)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "stack"), [])
        self.assertEqual(of_kind(evs, "module"), [])


if __name__ == "__main__":
    main()
