"""Several processes sharing a uniqueId, as ranks of one job: equal communicator ids and
matching sequence numbers across their traces; many threads in one process."""
import os
import subprocess

from harness import (DRIVER, MIX_CALLS, TraceTest, events, main, nccl, of_kind, trace_files,
                     traced_env)


class Ranks(TraceTest):
    def test_four_ranks_agree(self):
        uid = os.urandom(128).hex()
        procs = [subprocess.Popen([DRIVER, "--rank", str(r), "--nranks", "4", "--id", uid,
                                   "--iters", "5"], env=traced_env(self.run_dir, RANK=r))
                 for r in range(4)]
        self.assertEqual([p.wait(timeout=60) for p in procs], [0, 0, 0, 0])
        files = trace_files(self.run_dir)
        self.assertEqual(len(files), 4)
        per_rank = {}
        for f in files:
            evs = events(f)
            rank = of_kind(evs, "comm_init")[0]["rank"]
            per_rank[rank] = evs
        self.assertEqual(sorted(per_rank), [0, 1, 2, 3])
        comms = set()
        for rank, evs in per_rank.items():
            parent, child = self.assert_mix(evs, 5)
            comms.add((parent, rank % 2, child))
            for e in nccl(evs):
                if e["comm"] == parent:
                    self.assertEqual((e["rank"], e["nranks"]), (rank, 4))
            send = nccl(evs, "Send")
            self.assertEqual({e["peer"] for e in send}, {(rank + 1) % 4})
            self.assertEqual([e["seq"] for e in send], list(range(5)))
            self.assertEqual({e["peer"] for e in nccl(evs, "Recv")}, {(rank + 3) % 4})
        # One parent id across all ranks; the split (color = rank % 2) gives one child id per
        # color, the same on the ranks that share it.
        self.assertEqual(len({p for p, _, _ in comms}), 1)
        self.assertEqual(len(comms), 2)
        self.assertEqual(len({c for _, _, c in comms}), 2)
        # The same collective has the same (comm, op, seq) on every rank.
        parent = next(iter(comms))[0]
        keys = [sorted((e["op"], e["seq"]) for e in nccl(evs)
                       if e["comm"] == parent and e["op"] not in ("Send", "Recv"))
                for evs in per_rank.values()]
        self.assertEqual(len(keys[0]), 5 * 9 + 1)  # 9 collectives a mix, and the destroy
        self.assertTrue(all(k == keys[0] for k in keys))

    def test_many_threads(self):
        threads, iters = 8, 1500
        subprocess.run([DRIVER, "--threads", str(threads), "--iters", str(iters)], check=True,
                       env=traced_env(self.run_dir, PARTRACE_THREAD_BUFFER_KB=8192))
        evs = events(self.run_dir)
        by_tid = {}
        for e in nccl(evs):
            by_tid.setdefault(e["tid"], []).append(e)
        self.assertEqual(len(by_tid), threads)
        for tid, calls in by_tid.items():
            self.assertEqual(len(calls), iters * MIX_CALLS + 2)  # + two CommDestroy
        self.assertEqual(len(of_kind(evs, "thread")), threads)
        self.assertEqual(len({e["comm"] for e in of_kind(evs, "comm_init")}), 2 * threads)
        ids = [e["call_id"] for e in nccl(evs)]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(of_kind(evs, "end")[0]["dropped_total"], 0)

    def test_full_buffers_drop_and_count_exactly(self):
        iters = 3000
        subprocess.run([DRIVER, "--iters", str(iters)], check=True,
                       env=traced_env(self.run_dir, PARTRACE_THREAD_BUFFER_KB=64,
                                      PARTRACE_FLUSH_MS=1000))
        evs = events(self.run_dir)
        end = of_kind(evs, "end")[0]
        issued = iters * MIX_CALLS + 2 + 2  # mixes, two destroys, two creations
        recorded = len(nccl(evs)) + len(of_kind(evs, "comm_init"))
        self.assertGreater(end["dropped_total"], 0)
        # Every event is either in the trace or counted as dropped (the thread record too).
        self.assertEqual(recorded + len(of_kind(evs, "thread")) + end["dropped_total"], issued + 1)


if __name__ == "__main__":
    main()
