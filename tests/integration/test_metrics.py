"""`partrace record --metrics` against a local Prometheus endpoint (127.0.0.1, in this process)
that serves vLLM's metric names with known truth: histogram percentiles from bucket increases,
the prefix-cache hit rate, counter resets, the largest gauges; and endpoints that start late,
hang or answer garbage, which cost a warning line and never the job."""
import http.server
import json
import os
import subprocess
import threading
import time
import unittest

from harness import DRIVER, PARTRACE, TraceTest, cli, main, run_traced, trace_files, traced_env


def exposition(n, model="m"):
    """The n-th scrape's text: each scrape adds 10 first-token times (5 up to 0.1 s, 3 in
    (0.1, 0.5], 2 in (0.5, 1.0]), 100 generated tokens, 40 prefix-cache queries with 10 hits."""
    lab = f'model_name="{model}"'
    return f"""# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{{le="0.1",{lab}}} {5 * n}
vllm:time_to_first_token_seconds_bucket{{le="0.5",{lab}}} {8 * n}
vllm:time_to_first_token_seconds_bucket{{le="1.0",{lab}}} {10 * n}
vllm:time_to_first_token_seconds_bucket{{le="+Inf",{lab}}} {10 * n}
vllm:time_to_first_token_seconds_count{{{lab}}} {10 * n}
vllm:time_to_first_token_seconds_sum{{{lab}}} {0.3 * n}
# TYPE vllm:inter_token_latency_seconds histogram
vllm:inter_token_latency_seconds_bucket{{le="0.01",{lab}}} {50 * n}
vllm:inter_token_latency_seconds_bucket{{le="0.02",{lab}}} {100 * n}
vllm:inter_token_latency_seconds_bucket{{le="+Inf",{lab}}} {100 * n}
# TYPE vllm:generation_tokens counter
vllm:generation_tokens_total{{{lab}}} {100 * n}
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{{{lab}}} {40 * n}
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{{{lab}}} {10 * n}
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{{{lab}}} {0.1 * (n % 5)}
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{{lab}}} {n % 7}
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{{{lab}}} 2
# TYPE python_gc_objects_collected counter
python_gc_objects_collected_total{{generation="0"}} 123
"""


class Endpoint:
    """A /metrics server on 127.0.0.1; mode says how it answers: "ok", "garbage", "hang"."""

    def __init__(self, mode="ok", port=0, reset_at=None):
        self.mode, self.n, self.reset_at = mode, 0, reset_at
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.n += 1
                n = outer.n
                if outer.reset_at and n >= outer.reset_at:
                    n -= outer.reset_at - 1  # the server restarted: its counters start again
                if outer.mode == "hang":
                    time.sleep(30)
                    return
                text = exposition(n) if outer.mode == "ok" else "this is {not prometheus\n"
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics(TraceTest):
    def record(self, urls, seconds=1.2, interval=100):
        env = traced_env(self.run_dir)
        env.pop("LD_PRELOAD", None)
        env.pop("PARTRACE_DIR", None)
        start = time.monotonic()
        proc = subprocess.run([PARTRACE, "record", "-o", self.run_dir, "--metrics", urls,
                               "--metrics-interval-ms", str(interval), "--", "sleep", str(seconds)],
                              env=env, capture_output=True, text=True, timeout=60)
        return proc, time.monotonic() - start

    def scrapes(self):
        evs = [json.loads(l) for l in cli("dump", "--json", self.run_dir).stdout.splitlines()]
        return sorted({e["ts_ns"] for e in evs if e["kind"] == "metric"})

    def serving(self):
        return json.loads(cli("report", "--json", self.run_dir).stdout)["serving"]

    def test_known_truth(self):
        ep = Endpoint()
        try:
            proc, _ = self.record(ep.url)
        finally:
            ep.close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("warning", proc.stderr)
        rounds = len(self.scrapes())
        self.assertGreaterEqual(rounds, 5)
        s = self.serving()
        self.assertEqual(s["source"], "prometheus")
        # Over the window: (rounds - 1) scrapes' worth of increase, 10 requests each.
        self.assertEqual(s["requests"], 10 * (rounds - 1))
        # histogram_quantile: p50 at the top of the first bucket; p90 and p99 inside (0.5, 1.0].
        self.assertAlmostEqual(s["ttft_ms"]["p50"], 100.0, places=6)
        self.assertAlmostEqual(s["ttft_ms"]["p90"], 750.0, places=6)
        self.assertAlmostEqual(s["ttft_ms"]["p99"], 975.0, places=6)
        self.assertAlmostEqual(s["tpot_ms"]["p50"], 10.0, places=6)
        self.assertAlmostEqual(s["tpot_ms"]["p90"], 18.0, places=6)
        self.assertAlmostEqual(s["kv_hit_rate"], 0.25, places=9)
        self.assertAlmostEqual(s["kv_usage_max"], 0.4, places=9)
        self.assertEqual(s["running_max"], 6 if rounds >= 6 else rounds)
        self.assertEqual(s["waiting_max"], 2)
        self.assertGreater(s["output_tokens_per_s"], 0)
        # Only the families the report reads are kept.
        self.assertNotIn("python_gc", cli("dump", self.run_dir).stdout)
        text = cli("report", self.run_dir).stdout
        self.assertIn("TTFT ms p50 100.000 p90 750.000 p99 975.000", text)
        self.assertIn("KV cache hit rate 25.0 %", text)
        page = os.path.join(self.tmp, "r.html")
        cli("report", "--html", page, self.run_dir)
        html = open(page).read()
        self.assertIn(f"Server metrics: {10 * (rounds - 1)} requests", html)
        self.assertIn("TTFT p50 100.000 ms, p99 975.000 ms", html)
        self.assertIn("KV cache hit rate 25.0 %", html)
        md = cli("report", "--markdown", self.run_dir).stdout
        self.assertIn("- TTFT ms p50 100.000 p90 750.000 p99 975.000", md)

    def test_counter_reset_counts_what_came_after(self):
        ep = Endpoint(reset_at=4)  # the 4th answer comes from a restarted server
        try:
            proc, _ = self.record(ep.url, seconds=1.0)
        finally:
            ep.close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rounds = len(self.scrapes())
        s = self.serving()
        # Scrapes 1..3 count 10, 20, 30; then 10, 20, ...: each step adds 10, and the first
        # value after the drop is all new (PromQL's increase()): still 10 a scrape.
        self.assertEqual(s["requests"], 10 * (rounds - 1))
        self.assertAlmostEqual(s["kv_hit_rate"], 0.25, places=9)

    def test_a_server_that_starts_late(self):
        port = free_port()
        url = f"http://127.0.0.1:{port}/metrics"
        box = {}
        timer = threading.Timer(0.5, lambda: box.setdefault("ep", Endpoint(port=port)))
        timer.start()
        try:
            proc, _ = self.record(url, seconds=1.5)
        finally:
            timer.join()
            box["ep"].close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        warnings = [l for l in proc.stderr.splitlines() if "metrics" in l and "127.0.0.1" in l]
        self.assertEqual(len(warnings), 2, proc.stderr)  # refused once, then answers again
        self.assertIn("will keep trying", warnings[0])
        self.assertIn("answers again", warnings[1])
        self.assertGreaterEqual(len(self.scrapes()), 3)
        self.assertEqual(self.serving()["source"], "prometheus")

    def test_a_hanging_server_does_not_hold_the_job(self):
        ep = Endpoint(mode="hang")
        try:
            proc, took = self.record(ep.url, seconds=1.0, interval=200)
        finally:
            ep.close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr.count("timed out"), 1, proc.stderr)
        self.assertLess(took, 6)
        self.assertEqual(self.scrapes(), [])

    def test_garbage_costs_one_line(self):
        ep = Endpoint(mode="garbage")
        try:
            proc, _ = self.record(ep.url, seconds=0.8)
        finally:
            ep.close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = [l for l in proc.stderr.splitlines() if "not Prometheus text" in l]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("line 1", lines[0])
        self.assertEqual(self.scrapes(), [])

    def test_the_jobs_status_passes_through(self):
        ep = Endpoint()
        try:
            env = traced_env(self.run_dir)
            env.pop("LD_PRELOAD", None)
            env.pop("PARTRACE_DIR", None)
            proc = subprocess.run([PARTRACE, "record", "-o", self.run_dir, "--metrics", ep.url,
                                   "--", "sh", "-c", "sleep 0.3; exit 7"], env=env,
                                  capture_output=True, text=True, timeout=60)
        finally:
            ep.close()
        self.assertEqual(proc.returncode, 7, proc.stderr)

    def test_plain_ld_preload_runs_scrape_once_per_run(self):
        # PARTRACE_METRICS_URL, no `partrace record`: a driver that forks (two traced
        # processes) and a second driver in the same run: one of them scrapes, into its own file.
        ep = Endpoint()
        try:
            env = {"PARTRACE_METRICS_URL": ep.url, "PARTRACE_METRICS_INTERVAL_MS": 100}
            first = subprocess.Popen([DRIVER, "--iters", "40", "--sleep-us", "30000", "--fork"],
                                     env=traced_env(self.run_dir, **env), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            second = run_traced([DRIVER, "--iters", "40", "--sleep-us", "30000"], self.run_dir, **env)
            out, err = first.communicate(timeout=60)
        finally:
            ep.close()
        self.assertEqual(first.returncode, 0, err)
        self.assertNotIn("PARTRACE_METRICS_URL", err + second.stderr)
        files = trace_files(self.run_dir)
        self.assertGreaterEqual(len(files), 3)
        with_metrics = [f for f in files
                        if any(json.loads(l)["kind"] == "metric"
                               for l in cli("dump", "--json", f).stdout.splitlines())]
        self.assertEqual(len(with_metrics), 1, files)
        rounds = len(self.scrapes())
        self.assertGreaterEqual(rounds, 5)
        s = self.serving()
        self.assertEqual(s["source"], "prometheus")
        self.assertEqual(s["requests"], 10 * (rounds - 1))
        self.assertAlmostEqual(s["ttft_ms"]["p90"], 750.0, places=6)
        self.assertAlmostEqual(s["kv_hit_rate"], 0.25, places=9)

    def test_plain_ld_preload_with_a_dead_endpoint(self):
        port = free_port()
        proc = run_traced([DRIVER, "--iters", "10", "--sleep-us", "30000"], self.run_dir,
                          PARTRACE_METRICS_URL=f"http://127.0.0.1:{port}/metrics",
                          PARTRACE_METRICS_INTERVAL_MS=100)
        self.assertEqual(proc.stderr.count("PARTRACE_METRICS_URL"), 1, proc.stderr)
        self.assertIn("will keep trying", proc.stderr)

    def test_bad_urls_are_refused_before_the_job(self):
        for url, said in [("ftp://x/metrics", "not an http:// URL"),
                          ("http://:80/metrics", "no host"),
                          ("http://h:8x/", "port is not a number")]:
            proc = subprocess.run([PARTRACE, "record", "-o", self.run_dir, "--metrics", url,
                                   "--", "true"], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 2)
            self.assertIn(said, proc.stderr)
        proc = subprocess.run([PARTRACE, "record", "--metrics-interval-ms", "5", "--", "true"],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("from 100 to 3600000", proc.stderr)


if __name__ == "__main__":
    main()
