"""The GPU side on a CPU-only machine: the test CUPTI (tests/fakecupti) plays the driver and the
GPU for tests/progs/gpu_sim_main. Kernels, copies, memory and synchronizations land in the trace
on our clock; each NCCL kernel is tied to its call, eager and replayed from a CUDA graph; a
missing CUPTI or one held by another tool leaves NCCL recording intact."""
import os
import re
import shutil

from harness import (BUILD, PROGS, TraceTest, cli, events, main, nccl, of_kind, run_traced)

SIM = os.path.join(PROGS, "gpu_sim_main")
FAKE_CUPTI = os.path.join(BUILD, "fakecupti", "libcupti.so")
FAKE_CUDA = os.path.join(BUILD, "fakecupti", "libcuda.so.1")


class Cuda(TraceTest):
    def run_sim(self, iters=3, nb_iters=2, nb_capture=0, **env):
        env.setdefault("PARTRACE_CUPTI_LIB", FAKE_CUPTI)
        env.setdefault("GPU_SIM_CUPTI", FAKE_CUPTI)
        env.setdefault("GPU_SIM_CUDA", FAKE_CUDA)
        return run_traced([SIM, str(iters), str(nb_iters), str(nb_capture)], self.run_dir, **env)

    def test_record_kinds_chosen(self):
        self.run_sim(iters=1, PARTRACE_CUDA_RECORDS="all")
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "sync")[0]["type"], "stream_synchronize")
        self.assertTrue(of_kind(evs, "memset"))
        shutil.rmtree(self.run_dir)
        proc = self.run_sim(iters=1, PARTRACE_CUDA_RECORDS="kernel,sync")
        evs = events(self.run_dir)
        self.assertTrue(of_kind(evs, "sync") and of_kind(evs, "kernel"))
        self.assertEqual(of_kind(evs, "memcpy") + of_kind(evs, "memset"), [])
        shutil.rmtree(self.run_dir)
        proc = self.run_sim(iters=1, PARTRACE_CUDA_RECORDS="kernel,bogus")
        self.assertIn("'bogus' is not one of kernel, memcpy, memset, memory, sync, all; using "
                      "kernel,memcpy,memset,memory", proc.stderr)
        evs = events(self.run_dir)
        self.assertTrue(of_kind(evs, "memcpy"))
        self.assertEqual(of_kind(evs, "sync"), [])

    def test_nonblocking_kernels_long_after_their_calls(self):
        # CUPTI returns kernel records a whole buffer at a time (thousands of calls later), and
        # NCCL launches a non-blocking communicator's kernels from its own short-lived threads:
        # each kernel must still reach its own call, in order (seen on 4 x H200: without it,
        # three quarters of the eager kernels went untied and later ones tied to wrong calls).
        n = 15000
        self.run_sim(iters=1, nb_iters=n, PARTRACE_THREAD_BUFFER_KB="16384")
        evs = events(self.run_dir)
        nonblocking = next(i["comm"] for i in of_kind(evs, "comm_init") if i["nonblocking"])
        calls = [e for e in nccl(evs) if e["comm"] == nonblocking]
        firsts = [c["call_id"] for c in calls if c["op"] in ("AllReduce", "Send")]
        self.assertEqual(len(firsts), 2 * n)
        wanted = set(firsts)
        kernels = [k for k in of_kind(evs, "kernel") if k["nccl_call"] in wanted]
        got = sorted((k["ts_ns"], k["nccl_call"]) for k in kernels)
        self.assertEqual([c for _, c in got], firsts)

    def test_nonblocking_capture_while_eager_kernels_lag(self):
        # As on 4 x H200: thousands of eager calls of a non-blocking communicator still wait for
        # their kernel records when NCCL's thread captures the next call into a graph. The node
        # belongs to that call (not to the oldest waiting one), the instantiated copy takes no
        # call, and every eager kernel keeps its own call, in order.
        n = 5000
        self.run_sim(iters=1, nb_iters=n, nb_capture=1, PARTRACE_THREAD_BUFFER_KB="16384")
        evs = events(self.run_dir)
        nonblocking = next(i["comm"] for i in of_kind(evs, "comm_init") if i["nonblocking"])
        calls = [e for e in nccl(evs) if e["comm"] == nonblocking]
        (captured,) = [c for c in calls if c["op"] == "AllReduce" and c["bytes"] == 512]
        firsts = [c["call_id"] for c in calls if c["op"] in ("AllReduce", "Send") and c is not captured]
        self.assertEqual(len(firsts), 2 * n)
        kernels = of_kind(evs, "kernel")
        eager = sorted((k["ts_ns"], k["nccl_call"]) for k in kernels
                       if not k["graph_node_id"] and k["nccl_call"] in set(firsts))
        self.assertEqual([c for _, c in eager], firsts)
        replayed = [k for k in kernels if k["graph_node_id"] and k["nccl_call"] == captured["call_id"]]
        self.assertEqual(len(replayed), 1)

    def test_kernels_tied_to_their_calls(self):
        self.run_sim(iters=3)
        evs = events(self.run_dir)
        status = of_kind(evs, "cuda_status")
        self.assertEqual([(s["state"], s["level"]) for s in status], [("active", "kernels")])
        calls = {e["call_id"]: e for e in nccl(evs)}
        kernels = of_kind(evs, "kernel")
        # eager: 3 × (AR, gemm, SendRecv); non-blocking comm: 2 × (AR, SendRecv); 2 replays × 2
        self.assertEqual(len(kernels), 3 * 3 + 2 * 2 + 2 * 2)
        nonblocking = next(i["comm"] for i in of_kind(evs, "comm_init") if i["nonblocking"])
        for k in kernels:
            if k["name"].startswith("ncclDevKernel"):
                self.assertEqual(k["comm"], "nccl")
                call = calls[k["nccl_call"]]
                # The kernel starts after its call entered.
                self.assertGreaterEqual(k["ts_ns"], call["ts_ns"])
                if call["comm"] == nonblocking:
                    # Launched from another thread: tied by order and kernel kind (a group's
                    # kernel to the group's first call).
                    want = "Send" if k["name"] == "ncclDevKernel_SendRecv" else "AllReduce"
                else:
                    want = "GroupEnd" if k["name"] == "ncclDevKernel_SendRecv" else "AllReduce"
                self.assertEqual(call["op"], want, k)
            else:
                self.assertEqual((k["name"], k["comm"], k["nccl_call"]), ("gemm_kernel", None, None))
        # Graph replays lead back to the AllReduce that was captured (512 floats).
        replayed = [k for k in kernels if k["graph_node_id"] and k["comm"] == "nccl"]
        self.assertEqual(len(replayed), 2)
        self.assertEqual({calls[k["nccl_call"]]["bytes"] for k in replayed}, {2048})
        # Captured node 1000 (in the AllReduce); instantiation reports the new NCCL node 6000
        # created (outside any call: it must take none, though a non-blocking communicator's
        # calls wait) and cloned from 1000, then the gemm's clone.
        nodes = of_kind(evs, "graph_node")
        self.assertEqual([(n["node_id"], n["cloned_from"], bool(n["nccl_call"])) for n in nodes],
                         [(1000, 0, True), (6000, 0, False), (6000, 1000, False), (6001, 1001, False)])
        self.assertEqual(nodes[0]["nccl_call"], replayed[0]["nccl_call"])
        # Copies, memory, synchronization, as the GPU reported them.
        (cp,) = of_kind(evs, "memcpy")
        self.assertEqual((cp["copy"], cp["bytes"], cp["src"], cp["dst"], cp["dur_ns"]),
                         ("HtoD", 1 << 20, "pinned", "device", 100))
        self.assertEqual(of_kind(evs, "memset")[0]["bytes"], 4096)
        # CUPTI's allocation records, then cuMemCreate/cuMemRelease seen by the driver callbacks.
        self.assertEqual(sorted((m["op"], m["memory"], m["bytes"], m["pool_type"])
                                for m in of_kind(evs, "memory")),
                         sorted([("alloc", "device", 1 << 30, "none"), ("free", "device", 1 << 30, "none"),
                                 ("alloc", "device", 2 << 30, "vmm"), ("free", "device", 2 << 30, "vmm")]))
        # Synchronization records cost the host a lot (15 % of an eager step on H200): asked for only.
        self.assertEqual(of_kind(evs, "sync"), [])
        # The GPU's identity, from the driver (the test driver names it).
        self.assertEqual([(g["device"], g["name"]) for g in of_kind(evs, "gpu")], [(0, "Fake GPU 0")])
        # Names are sent once each.
        self.assertEqual(sorted(s["text"] for s in of_kind(evs, "string")),
                         ["gemm_kernel", "ncclDevKernel_AllReduce_Sum_f32_RING_LL",
                          "ncclDevKernel_SendRecv"])
        # GPU times are on the trace's clock: within the process's recorded span.
        t0 = min(e["ts_ns"] for e in nccl(evs))
        t1 = max(e["ts_ns"] + e["dur_ns"] for e in nccl(evs))
        for k in kernels:
            self.assertTrue(t0 <= k["ts_ns"] <= t1 + 10_000_000, k)

    def launch_stats(self, **env):
        proc = self.run_sim(iters=4, FAKE_CUPTI_STATS="1", **env)
        m = re.search(r"fake_cupti: launches (\d+) launch_callbacks (\d+)", proc.stderr)
        self.assertTrue(m, proc.stderr)
        evs = events(self.run_dir)
        shutil.rmtree(self.run_dir)
        blocking = {i["comm"] for i in of_kind(evs, "comm_init") if not i["nonblocking"]}
        calls = {e["call_id"] for e in nccl(evs) if e["comm"] in blocking or e["op"] == "GroupEnd"}
        eager = [k for k in of_kind(evs, "kernel") if k["comm"] == "nccl" and not k["graph_node_id"]
                 and (k["nccl_call"] is None or k["nccl_call"] in calls)]
        replayed = [k for k in of_kind(evs, "kernel") if k["comm"] == "nccl" and k["graph_node_id"]]
        return [int(g) for g in m.groups()], eager, replayed, proc.stderr

    def test_launch_tie_setting(self):
        # By default every launch passes the driver callback, which ties the blocking
        # communicator's eager kernels (4 x AllReduce, 4 x GroupEnd) to their calls.
        (launches, callbacks), eager, replayed, _ = self.launch_stats()
        self.assertEqual(callbacks, launches)
        self.assertEqual(len(eager), 8)
        self.assertTrue(all(k["nccl_call"] for k in eager + replayed))
        # PARTRACE_CUDA_TIE=none: no callback at all; eager kernels of a blocking communicator go
        # untied, graph replays still lead to their call through the captured node.
        (launches, callbacks), eager, replayed, _ = self.launch_stats(PARTRACE_CUDA_TIE="none")
        self.assertEqual(callbacks, 0)
        self.assertEqual([k["nccl_call"] for k in eager], [None] * 8)
        self.assertTrue(replayed and all(k["nccl_call"] for k in replayed))
        *_, err = self.launch_stats(PARTRACE_CUDA_TIE="sometimes")
        self.assertIn("PARTRACE_CUDA_TIE='sometimes' is not callback or none; using callback", err)

    def test_level_launches_also_uses_cupti_external_correlation(self):
        self.run_sim(iters=2, PARTRACE_CUDA="launches")
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "cuda_status")[0]["level"], "launches")
        nccl_kernels = [k for k in of_kind(evs, "kernel") if k["comm"] == "nccl"]
        self.assertEqual(len(nccl_kernels), 2 * 2 + 4 + 2)
        self.assertTrue(all(k["nccl_call"] for k in nccl_kernels))
        # Both ties agree: the launch callback's and CUPTI's external correlation records.
        by_corr = {}
        for e in of_kind(evs, "ext_corr"):
            by_corr.setdefault(e["correlation_id"], set()).add(e["nccl_call"])
        self.assertTrue(by_corr and all(len(v) == 1 for v in by_corr.values()))
        self.assertTrue(any(len([e for e in of_kind(evs, "ext_corr")
                                 if e["correlation_id"] == c]) == 2 for c in by_corr))
        # The launches themselves, host side, sharing their kernels' correlation ids.
        api = of_kind(evs, "cuda_api")
        self.assertTrue(api)
        self.assertEqual({(a["name"], a["api"], a["dur_ns"]) for a in api},
                         {("cuLaunchKernelEx", "driver", 700)})
        kernel_corr = {k["correlation_id"] for k in of_kind(evs, "kernel")}
        self.assertTrue({a["correlation_id"] for a in api} <= kernel_corr)

    def test_info_shows_gpu_memory_and_ties(self):
        self.run_sim(iters=3)
        info = cli("info", self.run_dir).stdout
        self.assertIn("memory    GPU 0: peak 2.00 GiB in use, 0.00 GiB at the end", info)
        self.assertIn("cuda      active (level kernels)", info)
        self.assertIn("NCCL kernels 12, 12 tied to their call", info)

    def test_cupti_missing(self):
        proc = self.run_sim(PARTRACE_CUPTI_LIB="/nonexistent/libcupti.so")
        self.assertIn("no CUPTI library found", proc.stderr)
        self.assertEqual(proc.stderr.count("partrace["), 1)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "cuda_status")[0]["state"], "no CUPTI library")
        self.assertEqual(of_kind(evs, "kernel"), [])
        self.assertEqual(len(nccl(evs, "AllReduce")), 6)

    def test_cupti_held_by_another_tool(self):
        proc = self.run_sim(FAKE_CUPTI_TAKEN=1)
        self.assertIn("another tool (nsys, ncu, torch.profiler) holds CUPTI", proc.stderr)
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "cuda_status")[0]["state"], "CUPTI held by another tool")
        self.assertEqual(of_kind(evs, "kernel"), [])
        self.assertEqual(len(nccl(evs, "AllReduce")), 6)

    def test_cuda_off(self):
        proc = self.run_sim(PARTRACE_CUDA="off")
        self.assertEqual(proc.stderr, "")
        evs = events(self.run_dir)
        self.assertEqual(of_kind(evs, "cuda_status"), [])
        self.assertEqual(of_kind(evs, "kernel"), [])
        self.assertEqual(len(nccl(evs, "AllReduce")), 6)

    def test_bad_cuda_level(self):
        proc = self.run_sim(PARTRACE_CUDA="everything")
        self.assertIn("PARTRACE_CUDA='everything' is not off, kernels or launches; using kernels",
                      proc.stderr)
        self.assertEqual(len(of_kind(events(self.run_dir), "kernel")), 17)

    def test_injection_path_is_set_for_the_driver(self):
        # Under LD_PRELOAD alone, the library points CUDA_INJECTION64_PATH at itself so that the
        # driver starts CUPTI at cuInit; a path the user chose is left alone.
        proc = run_traced(["/bin/sh", "-c", 'echo "$CUDA_INJECTION64_PATH"'], self.run_dir,
                          CUDA_INJECTION64_PATH=None)
        self.assertTrue(proc.stdout.strip().endswith("libpartrace.so"), proc.stdout)
        proc = run_traced(["/bin/sh", "-c", 'echo "$CUDA_INJECTION64_PATH"'], self.run_dir,
                          CUDA_INJECTION64_PATH="/opt/other.so")
        self.assertEqual(proc.stdout.strip(), "/opt/other.so")


    def test_capture_range_by_cuda_profiler_api(self):
        # PARTRACE_CUDA_CAPTURE=profiler: kernels only between cudaProfilerStart and Stop (the
        # program brackets the second half of its 4 iterations), no launch callback outside;
        # NCCL calls all the time; the range is an NVTX range the report can be limited to.
        proc = self.run_sim(iters=4, PARTRACE_CUDA_CAPTURE="profiler", GPU_SIM_PROFILER="1", FAKE_CUPTI_STATS="1")
        launches, callbacks = map(int, re.search(r"launches (\d+) launch_callbacks (\d+)", proc.stderr).groups())
        self.assertEqual(callbacks, 2 * 3)  # in the range: AllReduce, gemm, Send/Recv, twice
        self.assertGreater(launches, callbacks)
        evs = events(self.run_dir)
        gemms = [k for k in of_kind(evs, "kernel") if k["name"] == "gemm_kernel"]
        ranges = [(n["event"], n["text"]) for n in of_kind(evs, "nvtx")]
        self.assertEqual(ranges, [("start", "partrace:capture"), ("end", "")])
        start, end = [n["ts_ns"] for n in of_kind(evs, "nvtx")]
        self.assertEqual(len(gemms), 2)
        self.assertTrue(all(start < k["ts_ns"] for k in gemms))
        eager_ars = [c for c in nccl(evs, "AllReduce") if c["comm"] == nccl(evs, "AllReduce")[0]["comm"]]
        self.assertGreaterEqual(len(eager_ars), 4)
        # 2 iterations × (AllReduce, grouped Send/Recv): their kernels, tied, started after the
        # range opened (a kernel launched inside may run after it closed).
        tied = [k for k in of_kind(evs, "kernel") if k["nccl_call"]]
        self.assertEqual(len(tied), 4)
        self.assertTrue(all(start < k["ts_ns"] for k in tied))
        report = cli("report", "--json", "--phase", "partrace:capture", self.run_dir).stdout
        self.assertIn('"phase"', report)
        # Without a range nothing of the GPU is recorded; without the setting, everything.
        shutil.rmtree(self.run_dir)
        self.run_sim(iters=4, PARTRACE_CUDA_CAPTURE="profiler")
        self.assertEqual(of_kind(events(self.run_dir), "kernel"), [])
        shutil.rmtree(self.run_dir)
        proc = self.run_sim(iters=4, GPU_SIM_PROFILER="1", PARTRACE_CUDA_CAPTURE="sometimes")
        self.assertIn("PARTRACE_CUDA_CAPTURE='sometimes' is not all or profiler; using all", proc.stderr)
        gemms = [k for k in of_kind(events(self.run_dir), "kernel") if k["name"] == "gemm_kernel"]
        self.assertEqual(len(gemms), 4 + 2)  # and the one captured into the graph, replayed twice

    def test_nvtx_ranges_and_marks(self):
        run_traced([os.path.join(PROGS, "nvtx_main")], self.run_dir)
        evs = events(self.run_dir)
        marks = [(e["event"], e["domain"], e["text"]) for e in of_kind(evs, "nvtx")]
        self.assertEqual(marks, [("start", "", "request 7"), ("push", "", "prefill"),
                                 ("pop", "", ""), ("mark", "", "first token"),
                                 ("start", "", "request 8"),
                                 ("push", "engine", "decode"), ("pop", "engine", ""),
                                 ("end", "", ""), ("end", "", "")])
        nv = of_kind(evs, "nvtx")
        self.assertEqual(nv[0]["range_id"], nv[7]["range_id"])
        self.assertEqual(nv[4]["range_id"], nv[8]["range_id"])
        self.assertNotEqual(nv[0]["range_id"], nv[4]["range_id"])
        self.assertEqual(nv[5]["color"], 0xff00ff00)
        # Phases bracket the NCCL calls made inside them, on one clock.
        ars = nccl(evs, "AllReduce")
        self.assertTrue(nv[1]["ts_ns"] < ars[0]["ts_ns"] < nv[2]["ts_ns"])
        self.assertTrue(nv[5]["ts_ns"] < ars[1]["ts_ns"] < nv[6]["ts_ns"])

    def test_nvtx_off_with_the_library(self):
        proc = run_traced([os.path.join(PROGS, "nvtx_main")], self.run_dir, PARTRACE_DISABLE=1)
        self.assertEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(self.run_dir))


if __name__ == "__main__":
    main()
