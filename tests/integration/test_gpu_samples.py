"""The traces recorded on the GPU machine (samples/gpu-nccl-torch, see its README) still read
back and still pass the same checks they passed there, with this build's reader."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import PARTRACE, events, main, nccl, of_kind

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SAMPLE = os.path.join(ROOT, "samples", "gpu-nccl-torch")
CHECKER = os.path.join(ROOT, "tests", "gpu", "check_nccl_trace.py")


def check(scenario):
    proc = subprocess.run([sys.executable, CHECKER, PARTRACE, os.path.join(SAMPLE, scenario),
                           os.path.join(SAMPLE, scenario + "-issued")], capture_output=True,
                          text=True)
    return proc.returncode, json.loads(proc.stdout)


def html_rows(text):
    """The cells of every table row of an HTML page, as text."""
    import html.parser

    class Rows(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.rows[-1].append(self.cell.strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    p = Rows()
    p.feed(text)
    return [r for r in p.rows if r]


class GpuSamples(unittest.TestCase):
    def test_engine_cuda_graphs(self):
        """The engine with decode steps in CUDA graphs and without (1 GPU): the same tokens for
        every request, and every kernel replayed from a graph tied to a node the recorder saw
        captured; without the capture records the check fails."""
        base = os.path.join(ROOT, "samples", "gpu-engine-graphs")
        check = os.path.join(ROOT, "tests", "gpu", "check_graphs.py")
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("eager", "graphs"):
                os.mkdir(os.path.join(tmp, name))
                shutil.copy(os.path.join(base, name, "tokens-0.tsv"), os.path.join(tmp, name))
                dump = subprocess.run([PARTRACE, "dump", "--json", os.path.join(base, name, "traced")],
                                      capture_output=True, text=True, check=True).stdout
                with open(os.path.join(tmp, name, "dump.jsonl"), "w") as f:
                    f.write(dump)
            out = subprocess.run([sys.executable, check, os.path.join(tmp, "eager"), os.path.join(tmp, "graphs")],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("tokens equal in 32 of 32 requests", out.stdout)
            self.assertIn("26625 replayed from graphs, 26625 tied", out.stdout)
            path = os.path.join(tmp, "graphs", "dump.jsonl")
            with open(path) as f:
                kept = [line for line in f if '"kind":"graph_node"' not in line]
            with open(path, "w") as f:
                f.writelines(kept)
            out = subprocess.run([sys.executable, check, os.path.join(tmp, "eager"), os.path.join(tmp, "graphs")],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 1)
            self.assertIn("0 of 26625 graph kernels tied", out.stdout)

    def test_custom_allreduce_kernels(self):
        """The custom all-reduce's kernels on one GPU: every case of the check (2, 4 and 8 ranks,
        four sizes, one and two stages, plain calls and graph replays) recorded once, equal to
        the host's sum, plainly and under memcheck with no error."""
        base = os.path.join(ROOT, "samples", "gpu-custom-allreduce")
        cases = {(ranks, n, stages, how) for ranks in (2, 4, 8) for n in (1, 1000, 4097, 1 << 20)
                 for stages in ("one stage", "two stages") for how in ("20 calls", "20 graph replays")}
        for name in ("kernels.txt", "memcheck.txt"):
            with open(os.path.join(base, name)) as f:
                lines = [line.rstrip("\n") for line in f if line.startswith("ranks ")]
            seen = []
            for line in lines:
                case, verdict = line.split(": ")
                ranks, n, stages, how = case.split(", ")
                self.assertEqual(verdict, "equal to the host's sum", line)
                seen.append((int(ranks.split()[1]), int(n.split()[0]), stages, how))
            self.assertEqual(sorted(seen), sorted(cases), name)
        with open(os.path.join(base, "memcheck.txt")) as f:
            self.assertIn("ERROR SUMMARY: 0 errors", f.read())

    def test_recorder_one_gpu(self):
        """The recorder on one H100 with the engine: the trace whole, every frame with zstd's
        content checksum, and the report's serving numbers as the GPU run printed them."""
        run = os.path.join(ROOT, "samples", "gpu-recorder-one-gpu", "traced")
        info = subprocess.run([PARTRACE, "info", run], capture_output=True, text=True, check=True).stdout
        self.assertIn("integrity complete (ended by exit)", info)
        (path,) = [os.path.join(run, f) for f in os.listdir(run)]
        with open(path, "rb") as f:
            data = f.read()
        frames = checksummed = 0
        at = 256
        while at + 5 <= len(data) and data[at:at + 4] == b"\x28\xb5\x2f\xfd":
            fhd = data[at + 4]
            frames += 1
            checksummed += bool(fhd & 4)
            size_field = {0: 1 if fhd & 0x20 else 0, 1: 2, 2: 4, 3: 8}[fhd >> 6]
            pos = at + 5 + (0 if fhd & 0x20 else 1) + {0: 0, 1: 1, 2: 2, 3: 4}[fhd & 3] + size_field
            while True:  # blocks: a 3-byte header each, the last one flagged
                head = int.from_bytes(data[pos:pos + 3], "little")
                pos += 3 + (1 if (head >> 1) & 3 == 1 else head >> 3)
                if head & 1:
                    break
            at = pos + (4 if fhd & 4 else 0)
        self.assertEqual(at, len(data))
        self.assertEqual((frames, checksummed), (18, 18))
        rep = json.loads(subprocess.run([PARTRACE, "report", "--json", run], capture_output=True,
                                        text=True, check=True).stdout)
        req = rep["summary"]["requests"]
        self.assertEqual((req["count"], req["tokens"]), (64, 2048))
        self.assertAlmostEqual(req["ttft_ms"]["p50"], 23.964648, places=6)
        self.assertAlmostEqual(req["tpot_ms"]["p50"], 2.420362, places=6)

    def test_engine_metrics(self):
        """The engine's /metrics scraped on one H100: the serving figures from the metrics file
        alone and from the whole run's NVTX marks, as the GPU run's check found them, against
        the engine's own summary."""
        sample = os.path.join(ROOT, "samples", "gpu-engine-metrics")
        run = os.path.join(sample, "traced")
        engine = json.load(open(os.path.join(sample, "engine-summary.json")))

        def serving(path):
            return json.loads(subprocess.run([PARTRACE, "report", "--json", path], capture_output=True,
                                             text=True, check=True).stdout)["serving"]
        prom = serving(os.path.join(run, "vm-612.metrics.ptrace"))
        nvtx = serving(run)
        self.assertEqual((prom["source"], nvtx["source"]), ("prometheus", "nvtx"))
        self.assertEqual(prom["metric_samples"], 16752)
        self.assertEqual(prom["requests"], engine["requests"])
        self.assertEqual(nvtx["requests"], engine["requests"])
        self.assertAlmostEqual(prom["ttft_ms"]["p50"], 17.6406, places=3)
        self.assertLess(abs(prom["ttft_ms"]["p50"] / engine["ttft_p50_ms"] - 1), 0.05)
        self.assertLess(abs(prom["tpot_ms"]["p50"] / engine["tpot_p50_ms"] - 1), 0.05)
        self.assertEqual(prom["kv_hit_rate"], engine["kv_hit_rate"])
        self.assertEqual(nvtx["kv_hit_rate"], engine["kv_hit_rate"])
        self.assertEqual((prom["running_max"], prom["waiting_max"]), (8, 8))
        self.assertAlmostEqual(nvtx["ttft_ms"]["p50"], 17.665158, places=5)

    def test_torch_collectives(self):
        code, summary = check("torch_collectives")
        self.assertEqual(code, 0, summary)
        self.assertEqual((summary["ranks"], summary["issued"], summary["matched"]), (4, 180, 180))
        self.assertEqual(summary["collectives_matched_across_ranks"], 25)
        self.assertEqual(summary["sends_matched_to_recvs"], 40)
        evs = events(os.path.join(SAMPLE, "torch_collectives"))
        inits = of_kind(evs, "comm_init")
        self.assertEqual(sorted((i["rank"], i["device"]) for i in inits),
                         [(0, 0), (1, 1), (2, 2), (3, 3)])
        self.assertEqual(len({i["comm"] for i in inits}), 1)
        ars = nccl(evs, "AllReduce")
        self.assertEqual(len(ars), 20)
        self.assertEqual({(a["bytes"], a["dtype"], a["redop"]) for a in ars},
                         {(4 << 20, "float32", "sum")})
        # PyTorch issues collectives outside groups, and every P2P call inside one (batched sends
        # nest a group per op inside the batch's group); calls inside carry the group's id.
        self.assertTrue(all(a["group_depth"] == 0 and a["group_id"] == 0 for a in ars))
        p2p = nccl(evs, "Send") + nccl(evs, "Recv")
        self.assertEqual(len(p2p), 80)
        self.assertTrue(all(e["group_depth"] >= 1 and e["group_id"] for e in p2p))
        self.assertEqual(max(e["group_depth"] for e in p2p), 2)
        self.assertEqual(len(of_kind(evs, "end")), 4)

    def test_pynccl_ctypes(self):
        code, summary = check("pynccl_ctypes")
        self.assertEqual(code, 0, summary)
        self.assertEqual((summary["ranks"], summary["issued"], summary["matched"]), (4, 36, 36))
        evs = events(os.path.join(SAMPLE, "pynccl_ctypes"))
        self.assertEqual([a["seq"] for a in nccl(evs, "AllReduce")], list(range(7)) * 4)

    def test_cuda_timeline(self):
        sample = os.path.join(ROOT, "samples", "gpu-cuda-timeline")
        checker = os.path.join(ROOT, "tests", "gpu", "check_cuda_trace.py")
        proc = subprocess.run([sys.executable, checker, PARTRACE, os.path.join(sample, "traced"),
                               os.path.join(sample, "profiled"), "200"], capture_output=True,
                              text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        summary = json.loads(proc.stdout)
        self.assertEqual(sorted(summary["ranks"]), ["0", "1", "2", "3"])
        for rank in summary["ranks"].values():
            self.assertEqual((rank["kernels"], rank["profiler_kernels"]), (4800, 4800))
            self.assertEqual((rank["tied_eager"], rank["tied_graph"]), (800, 800))
            self.assertEqual(rank["gpu"], "NVIDIA H100 80GB HBM3")
        # A replayed NCCL kernel leads back to the AllReduce captured into the graph.
        evs = events(os.path.join(sample, "traced", "vm-997.ptrace"))
        calls = {e["call_id"]: e for e in nccl(evs)}
        replayed = [k for k in of_kind(evs, "kernel") if k["graph_node_id"] and k["comm"] == "nccl"]
        self.assertEqual(len(replayed), 800)
        self.assertEqual({calls[k["nccl_call"]]["op"] for k in replayed}, {"AllReduce"})
        self.assertEqual({calls[k["nccl_call"]]["bytes"] for k in replayed}, {256 * 4096 * 2})

    def test_packed_format_from_the_gpu(self):
        # samples/gpu-format2 and gpu-format3: written in formats 2.0 and 3.0 (packed frames) by
        # the recorder on 2 x H200; each must read back to the checks it passed there.
        self.check_packed_sample("gpu-format2", "2.0,")
        self.check_packed_sample("gpu-format3", "3.0,")

    def check_packed_sample(self, name, format_word):
        sample = os.path.join(ROOT, "samples", name)
        for run in ("traced/run", "extras/run"):
            info = subprocess.run([PARTRACE, "info", os.path.join(sample, run)],
                                  capture_output=True, text=True)
            self.assertEqual(info.returncode, 0, info.stderr)
            formats = [l.split()[1] for l in info.stdout.splitlines() if l.strip().startswith("format")]
            self.assertEqual(set(formats), {format_word}, info.stdout)
        checker = os.path.join(ROOT, "tests", "gpu", "check_cuda_trace.py")
        proc = subprocess.run([sys.executable, checker, PARTRACE, os.path.join(sample, "traced", "run"),
                               os.path.join(sample, "profiled"), "200"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for rank in json.loads(proc.stdout)["ranks"].values():
            self.assertEqual((rank["kernels"], rank["profiler_kernels"]), (4800, 4800))
            self.assertEqual((rank["tied_eager"], rank["tied_graph"]), (800, 800))
            self.assertEqual(rank["gpu"], "NVIDIA H200")
        checker = os.path.join(ROOT, "tests", "gpu", "check_extras.py")
        proc = subprocess.run([sys.executable, checker, PARTRACE, os.path.join(sample, "extras", "run")],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        ranks = json.loads(proc.stdout)["ranks"]
        self.assertEqual(len(ranks), 2)
        for rank in ranks.values():
            self.assertEqual(rank["nonblocking"], [True])
            self.assertEqual((rank["tied"], rank["nccl_kernels"]), (1626, 1626))
            self.assertEqual((rank["graph_kernels"], rank["graph_tied"]), (800, 800))
            self.assertEqual((rank["tied_to_other_type"], rank["out_of_call_order"]), (0, 0))
            self.assertEqual(rank["vmm_records"], 164)
            # Symbols need the GPU host's libraries; the modules the frames fall in do not.
            self.assertTrue(any("libnccl.so.2" in f for f in rank["stack"]), rank["stack"])
            self.assertIn("libpartrace.so", rank["stack"][-1])

    def test_nonblocking_vmm_stacks(self):
        sample = os.path.join(ROOT, "samples", "gpu-nonblocking")
        checker = os.path.join(ROOT, "tests", "gpu", "check_extras.py")
        proc = subprocess.run([sys.executable, checker, PARTRACE, os.path.join(sample, "traced")],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        summary = json.loads(proc.stdout)
        self.assertEqual(len(summary["ranks"]), 4)
        for rank in summary["ranks"].values():
            self.assertEqual(rank["nonblocking"], [True])
            self.assertEqual((rank["graph_kernels"], rank["graph_tied"]), (4000, 4000))
            self.assertEqual(rank["tied"], rank["nccl_kernels"])
            self.assertEqual((rank["tied_to_other_type"], rank["out_of_call_order"]), (0, 0))
            # 1000 steps x 4 all-reduces + warm-up and barriers, each eager call with its kernel.
            self.assertEqual(rank["eager_calls"], 4046)
            self.assertEqual(rank["eager_calls_with_kernel"], 4046)
            self.assertEqual(rank["vmm_records"], 164)

    def test_capture_ranges(self):
        # PARTRACE_CUDA_CAPTURE=profiler on 2 x H200: GPU records only in the blocks that
        # torch.cuda.profiler.start/stop bracketed (samples/gpu-capture-range/README.md).
        run = os.path.join(ROOT, "samples", "gpu-capture-range", "traced")
        evs = events(run)
        ranks = sorted({k["pid"] for k in of_kind(evs, "kernel")})
        self.assertEqual(len(ranks), 2)
        for pid in ranks:
            kernels = [k for k in of_kind(evs, "kernel") if k["pid"] == pid]
            nv = [n for n in of_kind(evs, "nvtx") if n["pid"] == pid]
            starts = {n["range_id"]: n["ts_ns"] for n in nv if n["event"] == "start"}
            self.assertEqual({n["text"] for n in nv if n["event"] == "start"}, {"partrace:capture"})
            ranges = sorted((starts[n["range_id"]], n["ts_ns"]) for n in nv if n["event"] == "end")
            self.assertEqual(len(ranges), 4 * 3)
            # 3 pairs x 4 steps x (12 eager + 12 graph + 64 launch + 17 small) kernels
            self.assertEqual(len(kernels), 1260)
            # their NCCL kernels all tied: eager (4 a step), replayed from the graph (4), small (1)
            self.assertEqual(sum(1 for k in kernels if k["nccl_call"]), 3 * 4 * (4 + 4 + 1))
            # Each kernel was launched in a range: it starts after the range opened and before
            # the next one did (it may run after its range closed).
            opens = [a for a, _ in ranges] + [float("inf")]
            for k in kernels:
                i = max(j for j in range(len(ranges)) if opens[j] <= k["ts_ns"])
                self.assertLess(k["ts_ns"], opens[i + 1])
                self.assertLess(k["ts_ns"], ranges[i][1] + 50_000_000)
        proc = subprocess.run([PARTRACE, "report", "--phase", "partrace:capture", run], capture_output=True,
                              text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("in NVTX ranges 'partrace:capture'", proc.stdout)
        self.assertNotIn("capture ranges", proc.stderr)
        # Without --phase the report says that the gaps between ranges count as idle.
        proc = subprocess.run([PARTRACE, "report", run], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("recorded only inside 24 capture ranges, all ranks", proc.stderr)
        self.assertIn("--phase partrace:capture", proc.stderr)
        info = subprocess.run([PARTRACE, "info", run], capture_output=True, text=True).stdout
        self.assertEqual(info.count("108 tied to their call; only inside 12 capture ranges"), 2)

    def test_pp_ep_roles_hops_and_hot_expert(self):
        sample = os.path.join(ROOT, "samples", "gpu-pp-ep")
        with tempfile.TemporaryDirectory() as work:
            shutil.copytree(os.path.join(sample, "issued"), os.path.join(work, "issued"))
            for phase in ("all", "pp", "ep"):
                args = [] if phase == "all" else ["--phase", phase]
                out = subprocess.run([PARTRACE, "report", "--json", *args, os.path.join(sample, "traced")],
                                     capture_output=True, text=True, check=True).stdout
                with open(os.path.join(work, f"report-{phase}.json"), "w") as f:
                    f.write(out)
            checker = os.path.join(ROOT, "tests", "gpu", "check_pp_ep.py")
            proc = subprocess.run([sys.executable, checker, work], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            summary = json.loads(proc.stdout)
        self.assertEqual({k: summary["layout"][k] for k in ("tp", "pp", "dp", "ep")},
                         {"tp": 1, "pp": 4, "dp": 1, "ep": 4})
        self.assertEqual(sorted(r for _, _, r in summary["roles"]), ["EP", "PP", "PP", "PP"])
        self.assertEqual((summary["ep_imbalance"]["rank"], summary["ep_imbalance"]["max_over_mean"]), (2, 1.5))
        # Each rank's stage is its place along the chain of 2-rank PP communicators.
        rep = json.loads(subprocess.run([PARTRACE, "report", "--json", os.path.join(sample, "traced")],
                                        capture_output=True, text=True, check=True).stdout)
        self.assertEqual([(r["rank"], r["coords"]["pp"], r["coords"]["ep"]) for r in rep["ranks"]
                          if r["rank"] < 4][:4], [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)])

    def check_engine_sample(self, name, *checker_args):
        """partrace report --json of an engine sample, and tests/gpu/check_engine.py against the
        engine's own results (it must pass). Returns the checker's findings and the report."""
        sample = os.path.join(ROOT, "samples", name)
        with tempfile.TemporaryDirectory() as work:
            report = os.path.join(work, "report.json")
            with open(report, "w") as f:
                subprocess.run([PARTRACE, "report", "--json", os.path.join(sample, "traced")], stdout=f,
                               check=True)
            checker = os.path.join(ROOT, "tests", "gpu", "check_engine.py")
            proc = subprocess.run([sys.executable, checker, report, os.path.join(sample, "engine", "summary.json"),
                                   *checker_args], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            return json.loads(proc.stdout), json.load(open(report))

    def test_engine_straggler_and_ttft(self):
        # The reference engine's TP=4 run with rank 2 delayed 200 us before each all-reduce.
        got, rep = self.check_engine_sample("gpu-engine-straggle", "--straggle", "2:200")
        self.assertEqual((got["straggler"]["rank"], got["requests"]), (2, [32, 32]))
        self.assertAlmostEqual(got["straggler"]["recovered_us"], 200.6, delta=0.5)
        self.assertEqual({k: rep["layout"][k] for k in ("tp", "pp", "dp", "ep")}, {"tp": 4, "pp": 1, "dp": 1, "ep": 1})

    def test_engine_ep_hot_expert(self):
        # The engine's MoE model as EP4 with expert 0 (rank 0) favoured by the router.
        _, rep = self.check_engine_sample("gpu-engine-ep-skew")
        self.assertEqual({k: rep["layout"][k] for k in ("tp", "pp", "dp", "ep")}, {"tp": 1, "pp": 1, "dp": 4, "ep": 4})
        (ep,) = [c for c in rep["communicators"] if c["role"] == "EP"]
        # Rows each rank received in the dispatch, from the engine's own log.
        rows = [0] * 4
        with open(os.path.join(ROOT, "samples", "gpu-engine-ep-skew", "engine", "run.log")) as f:
            for line in f:
                if "token rows sent to EP rank" in line:
                    words = line.split()
                    rows[int(words[-2].rstrip("'s"))] += int(words[3])
        dispatch = rows[0] / (sum(rows) / 4)
        self.assertEqual(ep["recv_imbalance"]["rank"], 0)
        self.assertAlmostEqual(ep["recv_imbalance"]["max_over_mean"], (dispatch + 1) / 2, delta=0.01)

    def test_report_on_the_tp_loop(self):
        rep = json.loads(subprocess.run([PARTRACE, "report", "--json",
                                         os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")],
                                        capture_output=True, text=True, check=True).stdout)
        self.assertEqual(rep["fidelity"], "gpu")
        self.assertEqual((rep["layout"]["tp"], rep["layout"]["dp"], rep["layout"]["world"]), (4, 1, 4))
        (comm,) = rep["communicators"]
        self.assertEqual((comm["role"], comm["nranks"], comm["incomplete"]), ("TP", 4, 0))
        (big,) = [r for r in rep["collectives"] if r["bytes"] == 2 << 20]
        # 824 eager all-reduces (800 measured, 24 warming up) and 800 replayed from CUDA graphs,
        # each replay an instance of its own; the capture ran nothing and is none.
        self.assertEqual((big["op"], big["count"]), ("AllReduce", 1624))
        # 2 MiB all-reduces over NVLink on H100, timed by their kernels from the last arrival.
        self.assertTrue(50 < big["busbw_gbps"] < 400, big)
        self.assertAlmostEqual(big["busbw_gbps"], big["algbw_gbps"] * 1.5, places=3)
        top = max(rep["stragglers"], key=lambda s: s["cost_ns"])
        self.assertEqual(top["rank"], 0)
        # Attribution: the categories add up to each GPU's span; the straggler, whom the others
        # wait for inside their all-reduce kernels, spends the least time in exposed TP.
        tp = {}
        for r in rep["ranks"]:
            pct = r["attribution_pct"]
            self.assertAlmostEqual(sum(pct.values()), 100.0, delta=0.01)
            self.assertEqual(sum(r["attribution_ns"].values()), r["gpu_span_ns"])
            self.assertGreater(pct["compute"], 1.0)
            tp[r["rank"]] = pct["tp_comm"]
        self.assertEqual(min(tp, key=tp.get), 0)
        # torchrun's LOCAL_RANK r drives GPU r; TP coordinates follow the ranks.
        for r in rep["ranks"]:
            self.assertEqual((r["host"], r["gpu"]), ("vm", r["rank"]))
            self.assertEqual(r["coords"], {"tp": r["rank"], "pp": 0, "dp": 0, "ep": 0})

    def test_report_per_phase(self):
        """tp_loop.py wraps its eager and its CUDA-graph steps in NVTX ranges of those names."""
        run = os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")

        def phase(name):
            return json.loads(subprocess.run([PARTRACE, "report", "--json", "--phase", name, run],
                                             capture_output=True, text=True, check=True).stdout)
        eager, graph = phase("eager"), phase("graph")
        (row,) = eager["collectives"]
        self.assertEqual((row["op"], row["bytes"], row["count"]), ("AllReduce", 2 << 20, 800))
        # Graph replays launch no NCCL call of their own: their NCCL kernels are tied through the
        # captured calls made before the phase, and each replay is matched across the ranks.
        (row,) = graph["collectives"]
        self.assertEqual((row["op"], row["bytes"], row["count"]), ("AllReduce", 2 << 20, 800))
        self.assertTrue(50 < row["busbw_gbps"] < 400, row)
        self.assertEqual(graph["communicators"][0]["gpu_timed"], 800)
        self.assertEqual(sum(s["last"] for s in graph["stragglers"]), 800)
        self.assertEqual(graph["communicators"][0]["role"], "TP")
        for r in graph["ranks"]:
            self.assertGreater(r["attribution_pct"]["tp_comm"], 30.0)
            self.assertEqual(r["attribution_ns"]["other_comm"], 0)
            self.assertEqual(sum(r["attribution_ns"].values()), r["gpu_span_ns"])
        for e, g in zip(eager["ranks"], graph["ranks"]):
            self.assertLess(g["gpu_span_ns"], e["gpu_span_ns"])

    def test_html_page(self):
        run = os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        page = os.path.join(tmp.name, "report.html")
        subprocess.run([PARTRACE, "report", "--html", page, run], capture_output=True, check=True)
        text = open(page, encoding="utf-8").read()
        # Self-contained: nothing to fetch, nothing to run.
        self.assertNotIn("<script", text)
        self.assertIn("GPU busy <b>20.2 %</b>, exposed communication <b>14.4 %</b>", text)
        self.assertNotRegex(text, r"(src|href)=")
        rows = html_rows(text)
        ranks = [r for r in rows if r[0] in ("0", "1", "2", "3") and r[1] == "vm"]
        self.assertEqual([r[0] for r in ranks], ["0", "1", "2", "3"])
        rep = json.loads(subprocess.run([PARTRACE, "report", "--json", run], capture_output=True,
                                        text=True, check=True).stdout)
        for row, r in zip(ranks, rep["ranks"]):
            # rank, host, GPU, GPU span ms, then the categories in report order
            self.assertEqual(int(row[2]), r["gpu"])
            self.assertAlmostEqual(float(row[4]), r["attribution_pct"]["compute"], delta=0.051)
            self.assertAlmostEqual(float(row[5]), r["attribution_pct"]["tp_comm"], delta=0.051)
        # Per-phase view: the graph phase's mean TP share is that of report --phase graph.
        graph = json.loads(subprocess.run([PARTRACE, "report", "--json", "--phase", "graph", run],
                                          capture_output=True, text=True, check=True).stdout)
        mean_tp = sum(r["attribution_pct"]["tp_comm"] for r in graph["ranks"]) / 4
        (phase,) = [r for r in rows if r[0] == "graph"]
        self.assertAlmostEqual(float(phase[2]), mean_tp, delta=0.051)
        self.assertIn("eager", [r[0] for r in rows])
        (strag,) = [r for r in rows if r[0] == "TP" and len(r) == 7]
        self.assertEqual(strag[2], "0")
        with tempfile.NamedTemporaryFile() as not_a_dir:  # its folder cannot be made: said before any work
            bad = subprocess.run([PARTRACE, "report", "--html", not_a_dir.name + "/dir/r.html", run],
                                 capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("cannot create " + not_a_dir.name, bad.stderr)
        self.assertEqual(bad.stdout, "")

    def test_text_fits_100_columns(self):
        run = os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")
        for extra in ([], ["--phase", "graph", "--from", "1"]):
            out = subprocess.run([PARTRACE, "report", *extra, run], capture_output=True, text=True,
                                 check=True).stdout
            self.assertLessEqual(max(map(len, out.splitlines())), 100, extra)

    def test_markdown(self):
        out = subprocess.run([PARTRACE, "report", "--markdown",
                              os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("| rank | GPU span ms | compute % | tp_comm % |", out)
        self.assertEqual(len([l for l in out.splitlines() if l.startswith("| 0 |") or
                              l.startswith("| 1 |") or l.startswith("| 2 |") or l.startswith("| 3 |")]), 4)
        self.assertIn("| TP | `9c04abee1c7a4c33` | 4 of 4 | AllReduce | 2097152 | 1624 |", out)
        self.assertIn("| TP | `9c04abee1c7a4c33` | rank 0 | 803 of 1626 |", out)

    def test_fail_if_gate(self):
        run = os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")

        def gate(*exprs):
            args = [PARTRACE, "report"]
            for e in exprs:
                args += ["--fail-if", e]
            return subprocess.run(args + [run], capture_output=True, text=True)

        proc = gate("tp_comm_pct > 10", "max(rank.idle_pct) > 90", "min(rank.compute_pct) >= 5")
        self.assertEqual(proc.returncode, 3)
        # The mean exposed TP share is 14.4 %, the worst idle 86.4 %, the least compute 5.6 %.
        self.assertIn("fail-if 'tp_comm_pct > 10' holds: 14.4", proc.stderr)
        self.assertIn("fail-if 'min(rank.compute_pct) >= 5' holds: 5.6", proc.stderr)
        self.assertNotIn("idle_pct", proc.stderr)
        self.assertEqual(gate("tp_comm.exposed_pct > 15", "max(rank.idle_pct) >= 87").returncode, 0)
        self.assertIn("run: 4 ranks", gate("idle_pct < 1").stdout)

    def test_checker_catches_a_missing_call(self):
        # The checker itself must fail when a rank's trace lacks an issued call.
        with tempfile.TemporaryDirectory() as tmp:
            issued = os.path.join(tmp, "issued")
            shutil.copytree(os.path.join(SAMPLE, "pynccl_ctypes-issued"), issued)
            path = os.path.join(issued, "issued-rank2.json")
            with open(path) as f:
                doc = json.load(f)
            doc["calls"].append(dict(op="AllReduce", bytes=12345))
            with open(path, "w") as f:
                json.dump(doc, f)
            proc = subprocess.run([sys.executable, CHECKER, PARTRACE,
                                   os.path.join(SAMPLE, "pynccl_ctypes"), issued],
                                  capture_output=True, text=True)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("rank 2: issued {'op': 'AllReduce', 'bytes': 12345}", proc.stdout)


if __name__ == "__main__":
    main()
