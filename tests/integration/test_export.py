"""partrace export (--perfetto, --chrome) and partrace check. Perfetto output is decoded with
protoc against our own .proto (analyze/proto/perfetto_trace.proto) and checked for content:
track names and order, slice counts and nesting, flows, correlation of one collective across
ranks, counters; check is shown to catch each rule it claims on traces written by hand."""
import collections
import gzip
import json
import os
import subprocess
import tempfile
import unittest

from harness import BUILD, PARTRACE, PROGS, cli, events, main, nccl, of_kind, run_traced

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROTO_DIR = os.path.join(ROOT, "analyze", "outputs", "proto")
PROTO = os.path.join(PROTO_DIR, "perfetto_trace.proto")
SAMPLE = os.path.join(ROOT, "samples", "gpu-cuda-timeline", "traced")
GEN = os.path.join(BUILD, "tools", "gen_trace")


def decode(path):
    """The packets of a Perfetto trace, as nested dicts (repeated fields as lists)."""
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = subprocess.run(["protoc", "--decode=perfetto.protos.Trace", "-I", PROTO_DIR, PROTO],
                          input=data, capture_output=True, check=True).stdout.decode()
    root, stack = {}, []
    cur = root
    for line in text.splitlines():
        line = line.strip()
        if line.endswith("{"):
            child = {}
            cur.setdefault(line[:-1].strip(), []).append(child)
            stack.append(cur)
            cur = child
        elif line == "}":
            cur = stack.pop()
        elif line:
            key, value = line.split(":", 1)
            value = value.strip()
            if value.startswith('"'):
                value = value[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1").decode()
            cur.setdefault(key, []).append(value)
    return root.get("packet", [])


def encode(text):
    return subprocess.run(["protoc", "--encode=perfetto.protos.Trace", "-I", PROTO_DIR, PROTO],
                          input=text.encode(), capture_output=True, check=True).stdout


def one(d, key, default=None):
    return d[key][0] if key in d else default


def stamped(packets):
    """(trace time, packet) of every packet with a timestamp. The export's sequence declares an
    incremental clock (id 64, from 0 of the trace clock) as its default: timestamps are deltas."""
    out, incremental, last = [], {}, {}
    for p in packets:
        seq = one(p, "trusted_packet_sequence_id")
        for d in p.get("trace_packet_defaults", []):
            incremental[seq] = one(d, "timestamp_clock_id") == "64"
        for snap in p.get("clock_snapshot", []):
            for clk in snap.get("clocks", []):
                if one(clk, "clock_id") == "64":
                    last[seq] = int(one(clk, "timestamp", "0"))
        if "timestamp" not in p:
            continue
        ts = int(one(p, "timestamp"))
        if incremental.get(seq):
            ts = last[seq] = last[seq] + ts
        out.append((ts, p))
    return out


class Export(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pt-export-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def export(self, *args, run=SAMPLE, name="t.pftrace"):
        out = os.path.join(self.tmp, name)
        proc = cli("export", *args, "-o", out, run, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return out

    def check(self, path):
        proc = cli("check", path, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def test_gpu_sample(self):
        out = self.export("--perfetto")
        rc, said = self.check(out)
        self.assertEqual(rc, 0, said)
        self.assertIn(" ok: ", said)
        packets = decode(out)
        tracks = {int(one(p["track_descriptor"][0], "uuid")): p["track_descriptor"][0]
                  for p in packets if "track_descriptor" in p}
        procs = sorted((int(one(t, "sibling_order_rank")), one(t["process"][0], "process_name"))
                       for t in tracks.values() if "process" in t)
        # One process per rank, in rank order, named with rank, coordinates, host:pid and GPU;
        # torchrun's agent (no NCCL) after them.
        self.assertEqual([n for _, n in procs],
                         ["rank 0 · TP0 · vm:997 · GPU0", "rank 1 · TP1 · vm:998 · GPU1",
                          "rank 2 · TP2 · vm:999 · GPU2", "rank 3 · TP3 · vm:1000 · GPU3",
                          "no NCCL · vm:914"])
        # Stream tracks hang under each rank's GPU group, never merged across ranks.
        by_name = collections.defaultdict(list)
        for uuid, t in tracks.items():
            by_name[one(t, "name")].append(t)
        self.assertEqual(len(by_name["GPU"]), 5)
        gpu_groups = {int(one(t, "uuid")) for t in by_name["GPU"]}
        streams = [t for n, ts in by_name.items() if n and n.startswith("stream ") for t in ts]
        self.assertTrue(streams)
        for t in streams:
            self.assertIn(int(one(t, "parent_uuid")), gpu_groups)
            self.assertEqual(one(t, "sibling_merge_behavior"), "SIBLING_MERGE_BEHAVIOR_NONE")
        # Every kernel of the run is a slice on its stream; every data NCCL call one on its thread.
        evs = events(SAMPLE)
        kernels = of_kind(evs, "kernel")
        calls = [c for c in nccl(evs) if c["op"] not in ("GroupStart", "GroupEnd")]
        calls_by_id = {(c["pid"], c["call_id"]): c for c in calls}
        stream_uuids = {int(one(t, "uuid")) for t in streams}
        te = [(ts, p["track_event"][0]) for ts, p in stamped(packets) if "track_event" in p]
        begins = [(ts, e) for ts, e in te if one(e, "type") == "TYPE_SLICE_BEGIN"]
        ends = [e for _, e in te if one(e, "type") == "TYPE_SLICE_END"]
        self.assertEqual(len(begins), len(ends))
        on_streams = [e for _, e in begins if int(one(e, "track_uuid")) in stream_uuids]
        self.assertEqual(len(on_streams), len(kernels) + len(of_kind(evs, "memcpy")) + len(of_kind(evs, "memset")))
        nccl_slices = [e for _, e in begins if "flow_ids" in e]
        self.assertEqual(len(nccl_slices), len(calls))
        # Flows: each call starts one; each eager NCCL kernel ends its call's (graph replays
        # carry their captured call in their args instead). A kernel stamped a few µs before
        # its call entered (the host's TSC-based times against CUPTI's) has no flow: ~1 % here.
        started = {f for e in nccl_slices for f in e["flow_ids"]}
        ended = [f for _, e in begins for f in e.get("terminating_flow_ids", [])]
        eager = sum(1 for k in kernels if k["nccl_call"] and not k["graph_node_id"])
        early = sum(1 for k in kernels if k["nccl_call"] and not k["graph_node_id"]
                    and k["ts_ns"] < calls_by_id[(k["pid"], k["nccl_call"])]["ts_ns"])
        self.assertEqual(len(ended), eager - early)
        self.assertLess(early, 0.02 * eager)
        self.assertEqual(len(set(ended)), len(ended))
        self.assertTrue(set(ended) <= started)
        # One collective instance: the same correlation id on the 4 ranks' calls and kernels.
        corr = collections.Counter(one(e, "correlation_id") for _, e in begins if "correlation_id" in e)
        self.assertTrue(corr)
        self.assertEqual(collections.Counter(corr.values()).most_common(1)[0][0], 8)
        # Timestamps never go back on the sequence; memory counters exist.
        stamps = [ts for ts, _ in te]
        self.assertEqual(stamps, sorted(stamps))
        memory = {int(one(t, "uuid")) for t in tracks.values() if "counter" in t
                  and one(t, "name").startswith("device memory in use")}
        counters = [e for _, e in te if one(e, "type") == "TYPE_COUNTER" and int(one(e, "track_uuid")) in memory]
        self.assertEqual(len(counters), len(of_kind(evs, "memory")))
        # Kernel names are demangled (tools classify kernels by them).
        names = {one(n, "name") for p in packets for i in p.get("interned_data", [])
                 for n in i.get("event_names", [])}
        self.assertIn("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", names)
        self.assertFalse([n for n in names if n.startswith("_Z")])
        # The report's summary rides along.
        summary = [e for _, e in begins if any(True for _ in e.get("debug_annotations", []))
                   and int(one(e, "track_uuid")) not in stream_uuids and "flow_ids" not in e]
        self.assertTrue(summary)

    def test_hand_packed_bytes_equal_protobuf_c(self):
        # The packets written most are packed by hand; protobuf-c's generic packer must give the
        # same bytes, for the GPU sample and for a generated run with flows, counters and args.
        runs = [SAMPLE, os.path.join(ROOT, "samples", "gpu-engine-ep-skew", "traced")]
        for run in runs:
            out = {}
            for generic in ("0", "1"):
                path = os.path.join(self.tmp, f"t{generic}.pftrace")
                subprocess.run([PARTRACE, "export", "--perfetto", "--force", "-o", path, run], check=True,
                               capture_output=True, env=dict(os.environ, PARTRACE_EXPORT_GENERIC_PACKER=generic))
                out[generic] = open(path, "rb").read()
            self.assertGreater(len(out["0"]), 100000)
            self.assertEqual(out["0"], out["1"], run)

    def test_filters(self):
        out = self.export("--perfetto", "--ranks", "1,3", name="r.pftrace")
        self.assertEqual(self.check(out)[0], 0)
        names = [one(p["track_descriptor"][0]["process"][0], "process_name") for p in decode(out)
                 if "track_descriptor" in p and "process" in p["track_descriptor"][0]]
        self.assertEqual([n.split(" ·")[0] for n in names], ["rank 1", "rank 3"])
        # A window: everything inside [from, to) of the run's first event.
        evs = events(SAMPLE)
        first = min(e["ts_ns"] for e in evs if e.get("ts_ns"))
        kernels = sorted(k["ts_ns"] for k in of_kind(evs, "kernel"))
        at = (kernels[len(kernels) // 2] - first) / 1e9  # seconds after the run's first event
        out = self.export("--perfetto", "--from", f"{at:.3f}", "--to", f"{at + 0.1:.3f}", name="w.pftrace")
        self.assertEqual(self.check(out)[0], 0)
        stamps = [ts for ts, p in stamped(decode(out)) if "track_event" in p]
        lo, hi = first + round(at, 3) * 1e9, first + round(at + 0.1, 3) * 1e9
        inside = [t for t in stamps if lo - 1e3 <= t <= hi + 1e3]
        self.assertGreater(len(inside), 100)
        # Only the summary slice starts at the run's first event; nothing else is outside.
        self.assertLessEqual(len(stamps) - len(inside), 2)
        # A phase: only work inside NVTX ranges "graph" (replays: no NCCL call there).
        out = self.export("--perfetto", "--phase", "graph", name="p.pftrace")
        self.assertEqual(self.check(out)[0], 0)
        begins = [p["track_event"][0] for p in decode(out) if "track_event" in p
                  and one(p["track_event"][0], "type") == "TYPE_SLICE_BEGIN"]
        self.assertFalse([e for e in begins if "flow_ids" in e])
        self.assertGreater(len(begins), 1000)

    def test_gzip_and_force(self):
        out = self.export("--perfetto", name="t.pftrace.gz")
        with open(out, "rb") as f:
            self.assertEqual(f.read(2), b"\x1f\x8b")
        self.assertEqual(self.check(out)[0], 0)
        proc = cli("export", "--perfetto", "-o", out, SAMPLE, check=False)  # refused before any work
        self.assertEqual(proc.returncode, 2)
        self.assertIn(out + " exists (--force replaces it)", proc.stderr)
        proc = cli("export", "--perfetto", "--force", "-o", out, SAMPLE, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_bad_arguments(self):
        out = os.path.join(self.tmp, "x.pftrace")
        for args, said in ((["--perfetto", SAMPLE], "-o FILE is needed"),
                           (["--perfetto", "--chrome", "-o", out, SAMPLE], "choose one"),
                           (["--perfetto", "-o", out, "--ranks", "1-x", SAMPLE], "--ranks '1-x'"),
                           (["--perfetto", "-o", out, "--from", "-1", SAMPLE], "--from takes seconds"),
                           (["--perfetto", "-o", out, "--from", "2", "--to", "1", SAMPLE], "--to (1 s) must come after --from (2 s)"),
                           (["--perfetto", "-o", out, "--bogus", SAMPLE], "unknown option '--bogus'"),
                           (["--perfetto", "-o"], "-o needs a value")):
            proc = cli("export", *args, check=False)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))
            self.assertIn(said, proc.stderr)
        proc = cli("export", "--perfetto", "-o", out, os.path.join(self.tmp, "nothing"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertFalse(os.path.exists(out))

    def test_generated_run_exactly(self):
        run = os.path.join(self.tmp, "gen")
        os.makedirs(run)
        subprocess.run([GEN, run, "tp", "4", "50", "1000", "500", "1024", "0", "0", "0", "0"], check=True)
        out = self.export("--perfetto", run=run)
        self.assertEqual(self.check(out)[0], 0)
        evs = events(run)
        packets = decode(out)
        begins = [p["track_event"][0] for p in packets if "track_event" in p
                  and one(p["track_event"][0], "type") == "TYPE_SLICE_BEGIN"]
        calls = [c for c in nccl(evs) if c["op"] not in ("GroupStart", "GroupEnd")]
        # summary + every call + every kernel
        self.assertEqual(len(begins), 1 + len(calls) + len(of_kind(evs, "kernel")))
        corr = collections.Counter(one(e, "correlation_id") for e in begins if "correlation_id" in e)
        # 50 steps of one all-reduce on 4 ranks: call and kernel on each rank share the id.
        self.assertEqual(sorted(set(corr.values())), [8])
        self.assertEqual(len(corr), 50)

    def test_collective_wait_and_transfer(self):
        # gen_trace's truth: rank r's all-reduce kernel starts skew_r after the step's base and
        # every rank's ends 500 ns after the last arrival. Each kernel's END carries its wait
        # (max skew - skew_r), its transfer (500) and nccl-tests' bandwidths over the transfer.
        self.check_wait_and_transfer({}, 4096)

    def test_custom_allreduce_wait_and_transfer(self):
        # The same with custom all-reduce kernels (no NCCL call): matched by order as the report
        # matches them, each END carries its wait and transfer; the size is unknown (bandwidths 0).
        self.check_wait_and_transfer({"GEN_CUSTOM_AR": "1"}, 0)

    def check_wait_and_transfer(self, env, nbytes):
        run = os.path.join(self.tmp, "gen")
        os.makedirs(run)
        skews = [0, 100, 250, 400]
        subprocess.run([GEN, run, "tp", "4", "30", "1000", "500", "4096"] + [str(s) for s in skews], check=True,
                       env=dict(os.environ, **env))
        out = self.export("--perfetto", run=run)
        self.assertEqual(self.check(out)[0], 0)
        packets = decode(out)
        arg_names = {one(n, "iid"): one(n, "name") for p in packets for i in p.get("interned_data", [])
                     for n in i.get("debug_annotation_names", [])}
        parent, rank_of = {}, {}
        for p in packets:
            for d in p.get("track_descriptor", []):
                parent[one(d, "uuid")] = one(d, "parent_uuid")
                if "process" in d:
                    rank_of[one(d, "uuid")] = int(one(d["process"][0], "process_name").split()[1])

        def rank(track):
            while track not in rank_of:
                track = parent[track]
            return rank_of[track]

        seen = collections.Counter()
        for p in packets:
            e = p.get("track_event", [{}])[0]
            if one(e, "type") != "TYPE_SLICE_END" or "debug_annotations" not in e:
                continue
            args = {}
            for a in e["debug_annotations"]:
                value = one(a, "uint_value") or one(a, "double_value")
                args[arg_names[one(a, "name_iid")]] = float(value)
            r = rank(one(e, "track_uuid"))
            self.assertEqual(args["wait_ns"], max(skews) - skews[r], args)
            self.assertEqual(args["transfer_ns"], 500)
            self.assertAlmostEqual(args["algbw_gbps"], nbytes / 500)
            self.assertAlmostEqual(args["busbw_gbps"], nbytes / 500 * 2 * 3 / 4)
            seen[r] += 1
        self.assertEqual(seen, {0: 30, 1: 30, 2: 30, 3: 30})
        # A rank left out of the export still counts as arrived for the others' waits.
        out = self.export("--perfetto", "--ranks", "0", run=run, name="r0.pftrace")
        ends = [p["track_event"][0] for p in decode(out) if "track_event" in p
                and "debug_annotations" in p["track_event"][0]
                and one(p["track_event"][0], "type") == "TYPE_SLICE_END"]
        self.assertEqual(len(ends), 30)

    def test_host_only_collectives_timed_by_their_calls(self):
        # Without GPU records a collective's times are its calls' (the report's rule): a call's
        # END carries its wait and transfer when every rank had entered before it returned,
        # and the two add up to the call's duration.
        run = os.path.join(ROOT, "samples", "gpu-nccl-torch", "torch_collectives")
        out = self.export("--perfetto", run=run)
        self.assertEqual(self.check(out)[0], 0)
        packets = decode(out)
        arg_names = {one(n, "iid"): one(n, "name") for p in packets for i in p.get("interned_data", [])
                     for n in i.get("debug_annotation_names", [])}
        open_at, timed = collections.defaultdict(list), 0
        for ts, p in stamped(packets):
            e = p.get("track_event", [{}])[0]
            track = one(e, "track_uuid")
            if one(e, "type") == "TYPE_SLICE_BEGIN":
                open_at[track].append(ts)
            elif one(e, "type") == "TYPE_SLICE_END":
                began = open_at[track].pop()
                args = {arg_names[one(a, "name_iid")]: float(one(a, "uint_value") or one(a, "double_value"))
                        for a in e.get("debug_annotations", [])}
                if args:
                    timed += 1
                    self.assertEqual(args["wait_ns"] + args["transfer_ns"], ts - began)
        self.assertGreater(timed, 10)

    def timeline(self, out):
        """{(rank, series name): [(time, value)]} of the attribution counters of an export."""
        packets = decode(out)
        parent, rank_of, series = {}, {}, {}
        for p in packets:
            for d in p.get("track_descriptor", []):
                parent[one(d, "uuid")] = one(d, "parent_uuid")
                if "process" in d:
                    rank_of[one(d, "uuid")] = int(one(d["process"][0], "process_name").split()[1])
                if "counter" in d and "%" in one(d, "name"):
                    series[one(d, "uuid")] = one(d, "name")
        values = collections.defaultdict(list)
        for ts, p in stamped(packets):
            e = p.get("track_event", [{}])[0]
            if one(e, "track_uuid") in series:
                key = (rank_of[parent[one(e, "track_uuid")]], series[one(e, "track_uuid")])
                values[key].append((ts, int(one(e, "counter_value"))))
        return values

    @staticmethod
    def mean(points, end):
        """The time-weighted mean of a counter held from each point to the next, up to end."""
        total = sum(v * (b[0] - a[0]) for (a, b, v) in
                    ((points[i], points[i + 1] if i + 1 < len(points) else (end, 0), points[i][1])
                     for i in range(len(points))))
        return total / (end - points[0][0])

    def test_attribution_over_time(self):
        # The report's categories, bucket by bucket, as counter tracks under each rank: over the
        # run their time-weighted means are the report's shares (to the percent rounding).
        for scenario, args, shown in (("tp", ["4", "300", "50000", "20000", "4096", "0", "100", "250", "400"],
                                       {"compute", "tp_comm"}),
                                      ("pp", ["4", "4", "30000", "40"], {"compute", "pp_bubble"})):
            run = os.path.join(self.tmp, scenario)
            os.makedirs(run)
            subprocess.run([GEN, run, scenario] + args, check=True)
            out = self.export("--perfetto", run=run, name=scenario + ".pftrace")
            self.assertEqual(self.check(out)[0], 0)
            report = json.loads(cli("report", "--json", run).stdout)
            values = self.timeline(out)
            end = max(ts for ts, _ in stamped(decode(out)))
            for r in report["ranks"]:
                names = {name for (rank, name) in values if rank == r["rank"]}
                self.assertEqual(names, {"GPU busy (%)"} | {f"{c} (% of GPU time)" for c in shown}, names)
                pct = r["attribution_pct"]
                busy = self.mean(values[(r["rank"], "GPU busy (%)")], end)
                self.assertAlmostEqual(busy, 100 - pct["idle"], delta=1.5, msg=(scenario, r["rank"]))
                for c in shown:
                    got = self.mean(values[(r["rank"], f"{c} (% of GPU time)")], end)
                    self.assertAlmostEqual(got, pct[c], delta=1.5, msg=(scenario, r["rank"], c))

    def test_nvtx_start_end_ranges_on_lanes(self):
        # Start/end ranges may overlap and need not nest: each takes the first free lane track
        # of its process ("NVTX ranges 1", "NVTX ranges 2", ...), on which slices never overlap.
        run = os.path.join(self.tmp, "nvtx")
        run_traced([os.path.join(PROGS, "nvtx_main")], run)
        out = self.export("--perfetto", run=run)
        self.assertEqual(self.check(out)[0], 0)
        packets = decode(out)
        names = {one(n, "iid"): one(n, "name") for p in packets for i in p.get("interned_data", [])
                 for n in i.get("event_names", [])}
        lanes = {one(d, "uuid"): one(d, "name") for p in packets for d in p.get("track_descriptor", [])
                 if (one(d, "name") or "").startswith("NVTX ranges")}
        self.assertEqual(sorted(lanes.values()), ["NVTX ranges 1", "NVTX ranges 2"])
        on_lane = collections.defaultdict(list)
        for ts, p in stamped(packets):
            e = p.get("track_event", [{}])[0]
            if one(e, "track_uuid") in lanes:
                on_lane[lanes[one(e, "track_uuid")]].append((one(e, "type"), names.get(one(e, "name_iid"))))
        self.assertEqual(on_lane["NVTX ranges 1"], [("TYPE_SLICE_BEGIN", "request 7"), ("TYPE_SLICE_END", None)])
        self.assertEqual(on_lane["NVTX ranges 2"], [("TYPE_SLICE_BEGIN", "request 8"), ("TYPE_SLICE_END", None)])
        # In the Chrome export: an async begin/end pair each, same id, on its process.
        out = self.export("--chrome", run=run, name="n.json")
        pairs = collections.defaultdict(list)
        for e in json.load(open(out))["traceEvents"]:
            if e.get("ph") in ("b", "e"):
                pairs[(e["name"], e["id"])].append((e["ph"], e["ts"]))
        self.assertEqual(sorted(n for n, _ in pairs), ["request 7", "request 8"])
        for events_ in pairs.values():
            self.assertEqual([ph for ph, _ in events_], ["b", "e"])
            self.assertLess(events_[0][1], events_[1][1])
        # The capture ranges of a real GPU run (samples/gpu-capture-range) land there too.
        out = self.export("--perfetto", run=os.path.join(ROOT, "samples", "gpu-capture-range", "traced"),
                          name="c.pftrace")
        packets = decode(out)
        lanes = {one(d, "uuid") for p in packets for d in p.get("track_descriptor", [])
                 if one(d, "name") == "NVTX ranges 1"}
        begins = [p for p in packets if "track_event" in p and one(p["track_event"][0], "track_uuid") in lanes
                  and one(p["track_event"][0], "type") == "TYPE_SLICE_BEGIN"]
        self.assertEqual((len(lanes), len(begins)), (2, 24))

    def test_chrome(self):
        out = self.export("--chrome", name="t.json")
        d = json.load(open(out))
        self.assertEqual(d["distributedInfo"], {"backend": "nccl", "rank": 0, "world_size": 4})
        evs = events(SAMPLE)
        cats = collections.Counter(e.get("cat") for e in d["traceEvents"])
        self.assertEqual(cats["kernel"], len(of_kind(evs, "kernel")))
        self.assertEqual(cats["gpu_memcpy"], len(of_kind(evs, "memcpy")))
        self.assertEqual(cats["cpu_op"], len([c for c in nccl(evs) if c["op"] not in ("GroupStart", "GroupEnd")]))
        self.assertGreater(cats["user_annotation"], 0)
        x = [e for e in d["traceEvents"] if e["ph"] == "X"]
        self.assertEqual({e["pid"] for e in x if e["cat"] == "kernel"}, {0, 1, 2, 3})
        k = next(e for e in x if e["cat"] == "kernel")
        self.assertTrue({"device", "stream", "correlation"} <= set(k["args"]))
        self.assertEqual(k["tid"], k["args"]["stream"])
        out = self.export("--chrome", "--ranks", "2", name="r2.json.gz")
        d = json.loads(gzip.decompress(open(out, "rb").read()))
        self.assertEqual(d["distributedInfo"]["rank"], 2)
        self.assertEqual({e["pid"] for e in d["traceEvents"] if e["ph"] == "X"}, {2})


class Check(unittest.TestCase):
    """Each rule of partrace check, on a trace written by hand (protoc --encode)."""
    GOOD = """
packet { trusted_packet_sequence_id: 1 sequence_flags: 1
         track_descriptor { uuid: 1 name: "a" } }
packet { trusted_packet_sequence_id: 1 timestamp: 10 sequence_flags: 2
         interned_data { event_names { iid: 1 name: "k" } }
         track_event { type: TYPE_SLICE_BEGIN track_uuid: 1 name_iid: 1 flow_ids: 7 } }
packet { trusted_packet_sequence_id: 1 timestamp: 20
         track_event { type: TYPE_SLICE_END track_uuid: 1 } }
packet { trusted_packet_sequence_id: 1 timestamp: 30
         track_event { type: TYPE_SLICE_BEGIN track_uuid: 1 name: "x" terminating_flow_ids: 7 } }
packet { trusted_packet_sequence_id: 1 timestamp: 40
         track_event { type: TYPE_SLICE_END track_uuid: 1 } }
"""

    def run_check(self, text):
        with tempfile.NamedTemporaryFile(suffix=".pftrace") as f:
            f.write(encode(text))
            f.flush()
            proc = cli("check", f.name, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def test_good(self):
        rc, said = self.run_check(self.GOOD)
        self.assertEqual(rc, 0, said)
        self.assertIn("5 packets, 1 tracks, 2 slices (0 left open), 0 instants, 0 counter values, 1 flows, 0 errors", said)

    def test_incremental_clock(self):
        # Deltas on the sequence's incremental clock (the default after trace_packet_defaults),
        # from a snapshot at 1000 of the trace clock: BEGIN at 1010, END at 1030.
        text = """
packet { trusted_packet_sequence_id: 1 sequence_flags: 1 trace_packet_defaults { timestamp_clock_id: 64 }
         clock_snapshot { clocks { clock_id: 64 timestamp: 0 is_incremental: true } clocks { clock_id: 6 timestamp: 1000 } } }
packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 1 name: "a" } }
packet { trusted_packet_sequence_id: 1 timestamp: 10 sequence_flags: 2
         track_event { type: TYPE_SLICE_BEGIN track_uuid: 1 name: "k" } }
packet { trusted_packet_sequence_id: 1 timestamp: 20 sequence_flags: 2 track_event { type: TYPE_SLICE_END track_uuid: 1 } }
"""
        rc, said = self.run_check(text)
        self.assertEqual(rc, 0, said)
        self.assertIn("1 slices (0 left open)", said)
        # The same END as an absolute 20 on the trace clock would come before its BEGIN (1010).
        rc, said = self.run_check(text.replace("timestamp: 20 sequence_flags: 2", "timestamp: 20 timestamp_clock_id: 6"))
        self.assertEqual(rc, 1, said)
        self.assertIn("END at 20 before its BEGIN at 1010", said)

    def test_each_rule(self):
        g = self.GOOD
        cases = {
            "no trusted_packet_sequence_id": g + "packet { timestamp: 50 }",
            "without a timestamp": g + "packet { trusted_packet_sequence_id: 1 track_event { type: TYPE_INSTANT track_uuid: 1 } }",
            "goes back on sequence 1": g + "packet { trusted_packet_sequence_id: 1 timestamp: 5 track_event { type: TYPE_INSTANT track_uuid: 1 } }",
            "END without a BEGIN": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_SLICE_END track_uuid: 1 } }",
            "event name iid 9 used but not defined": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_INSTANT track_uuid: 1 name_iid: 9 } }",
            "flow 7 ends without having started (or ended already)": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_INSTANT track_uuid: 1 terminating_flow_ids: 7 } }",
            "flow 8 ends without having started": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_INSTANT track_uuid: 1 terminating_flow_ids: 8 } }",
            "which has no descriptor": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_INSTANT track_uuid: 5 } }",
            "has parent 77, which has no descriptor": g + "packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 2 parent_uuid: 77 } }",
            "is its own ancestor": g + "packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 3 parent_uuid: 4 } } packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 4 parent_uuid: 3 } }",
            "interned data used before sequence 3 cleared": g + "packet { trusted_packet_sequence_id: 3 timestamp: 60 interned_data { debug_annotation_names { iid: 1 name: \"n\" } } track_event { type: TYPE_INSTANT track_uuid: 1 debug_annotations { name_iid: 1 uint_value: 2 } } }",
            "before sequence 2 cleared": g + "packet { trusted_packet_sequence_id: 2 timestamp: 60 interned_data { event_names { iid: 1 name: \"q\" } } track_event { type: TYPE_INSTANT track_uuid: 1 name_iid: 1 } }",
            "described twice": g + "packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 1 } }",
            "argument value iid 4 used but not defined": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 track_event { type: TYPE_INSTANT track_uuid: 1 debug_annotations { name: \"dtype\" string_value_iid: 4 } } }",
            "timestamp on clock 64, which no clock snapshot of sequence 1 defined": g + "packet { trusted_packet_sequence_id: 1 timestamp: 60 timestamp_clock_id: 64 track_event { type: TYPE_INSTANT track_uuid: 1 } }",
            # On the incremental clock, 5 after a snapshot at 0: time 5, before the last (40).
            "timestamp 5 goes back": g + "packet { trusted_packet_sequence_id: 1 clock_snapshot { clocks { clock_id: 64 timestamp: 0 is_incremental: true } clocks { clock_id: 6 timestamp: 0 } } } packet { trusted_packet_sequence_id: 1 timestamp: 5 timestamp_clock_id: 64 track_event { type: TYPE_INSTANT track_uuid: 1 } }",
        }
        for said, text in cases.items():
            rc, out = self.run_check(text)
            self.assertEqual(rc, 1, (said, out))
            self.assertIn(said, out)
            self.assertIn("INVALID", out)

    def test_damaged_files(self):
        good = encode(self.GOOD)
        with tempfile.TemporaryDirectory() as d:
            cut = os.path.join(d, "cut.pftrace")
            open(cut, "wb").write(good[:-5])
            proc = cli("check", cut, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("truncated", proc.stderr)
            foreign = os.path.join(d, "foreign.pftrace")
            open(foreign, "wb").write(b"{\"traceEvents\": []}")
            proc = cli("check", foreign, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("not a Perfetto trace packet", proc.stderr)
            proc = cli("check", os.path.join(d, "missing"), check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("cannot open", proc.stderr)
            proc = cli("check", check=False)
            self.assertEqual(proc.returncode, 2)


if __name__ == "__main__":
    main()
