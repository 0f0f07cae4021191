"""A tensor-parallel loop on N ranks: each step is LAYERS × (matmul, all_reduce, gelu), bf16.
Runs STEPS steps eagerly inside NVTX range "eager", then captures one step in a CUDA graph and
replays it STEPS times inside NVTX range "graph"; the whole measured part is NVTX range
"measure". --profile wraps exactly that part in torch.profiler instead (run without partrace).
With TP_SMALL=1, two host-bound phases follow (NVTX "small"): "launch" steps of 64 launches of a
one-element add and no NCCL (what a per-launch cost does to the application), and "small" steps
of 16 such adds and one all_reduce of one element (what a per-NCCL-call cost does).
Writes rank<R>.json to $PT_OUT_DIR: step times (wall and this thread's CPU time; with TP_BLOCKS=B
the median of B blocks), and with --profile the kernel count.
TP_AB=partrace|torch|none measures in one process instead: each phase (eager, graph, and with
TP_SMALL=1 launch and small) runs TP_AB_PAIRS pairs of blocks of TP_AB_STEPS steps, one block
with the tracer on and one off, in alternating order; "partrace" switches partrace's GPU
recording with torch.cuda.profiler.start()/stop() (run under PARTRACE_CUDA_CAPTURE=profiler),
"torch" runs the on-block under torch.profiler (CPU+CUDA), "none" switches nothing (the method's
own spread). rank<R>.json then holds, per phase, the per-step wall time of every block."""
import json
import os
import sys
import time

import torch
import torch.distributed as dist

STEPS, LAYERS, TOKENS, HIDDEN = int(os.environ.get("TP_STEPS", 200)), 4, 256, 4096
profile = "--profile" in sys.argv
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
local = int(os.environ["LOCAL_RANK"])
if os.environ.get("TP_PIN") == "1":  # one core set per rank: less run-to-run spread
    per = max(1, os.cpu_count() // int(os.environ.get("LOCAL_WORLD_SIZE", world)))
    os.sched_setaffinity(0, range(local * per, (local + 1) * per))
dev = torch.device("cuda", local)
torch.cuda.set_device(dev)
dist.init_process_group("nccl", device_id=dev)
torch.manual_seed(rank)
weights = [torch.randn(HIDDEN, HIDDEN, device=dev, dtype=torch.bfloat16) / 64 for _ in range(LAYERS)]
x = torch.randn(TOKENS, HIDDEN, device=dev, dtype=torch.bfloat16)


def step(h):
    for w in weights:
        h = h @ w
        dist.all_reduce(h)
        h = torch.nn.functional.gelu(h)
    return h


for _ in range(5):  # warm-up: NCCL connections, cuBLAS handles
    step(x)
torch.cuda.synchronize()
side = torch.cuda.Stream()
side.wait_stream(torch.cuda.current_stream())
with torch.cuda.stream(side):
    step(x)
torch.cuda.current_stream().wait_stream(side)
graph = torch.cuda.CUDAGraph()
static_x = x.clone()
with torch.cuda.graph(graph):
    static_y = step(static_x)
torch.cuda.synchronize()
dist.barrier()

one = torch.zeros(1, device=dev)


def launch_block(n):  # TP_SMALL's "launch" phase: 64 launches a step, no NCCL
    for _ in range(n):
        for _ in range(64):
            one.add_(1)


def small_block(n):  # TP_SMALL's "small" phase: 16 launches and one all_reduce a step
    for _ in range(n):
        for _ in range(16):
            one.add_(1)
        dist.all_reduce(one)


def graph_block(n):
    for _ in range(n):
        graph.replay()


AB = os.environ.get("TP_AB")


def ab_measure():
    """Pairs of blocks, tracer off and on, in alternating order (drift hits both alike)."""
    pairs, per = int(os.environ.get("TP_AB_PAIRS", 20)), int(os.environ.get("TP_AB_STEPS", 50))

    def eager(n):  # without the per-step NVTX range of eager_block
        for _ in range(n):
            step(x)

    phases = [("eager", eager), ("graph", graph_block)]
    if os.environ.get("TP_SMALL") == "1":
        phases += [("launch", launch_block), ("small", small_block)]
    out = {}
    for name, block in phases:
        off, on = [], []
        for i in range(pairs):
            for state in ((0, 1) if i % 2 == 0 else (1, 0)):
                torch.cuda.synchronize()
                dist.barrier()
                torch.cuda.synchronize()
                tracer = None
                if state and AB == "partrace":
                    torch.cuda.profiler.start()
                elif state and AB == "torch":
                    tracer = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                                torch.profiler.ProfilerActivity.CUDA])
                    tracer.start()
                w0 = time.perf_counter()
                block(per)
                torch.cuda.synchronize()
                (on if state else off).append((time.perf_counter() - w0) / per * 1e6)
                if state and AB == "partrace":
                    torch.cuda.profiler.stop()
                elif tracer:
                    tracer.stop()
        out[name] = {"off_us": off, "on_us": on}
    return out


if AB:
    result = dict(rank=rank, ab=AB, phases=ab_measure())
    with open(os.path.join(os.environ["PT_OUT_DIR"], f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    print(f"rank {rank}: done", flush=True)
    dist.barrier()
    os._exit(0)

prof = None
if profile:
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                              torch.profiler.ProfilerActivity.CUDA])
    prof.start()
BLOCKS = int(os.environ.get("TP_BLOCKS", 1))  # >1: the steps in blocks, ranks lined up before each


def timed(run_block):
    """Runs STEPS steps as BLOCKS blocks; per block, the wall time and this thread's CPU time per
    step (µs). The ranks line up before each block, so one rank's late start does not count."""
    per = STEPS // BLOCKS
    wall, cpu = [], []
    for _ in range(BLOCKS):
        if BLOCKS > 1:
            torch.cuda.synchronize()
            dist.barrier()
            torch.cuda.synchronize()
        w0, c0 = time.perf_counter(), time.thread_time()
        run_block(per)
        torch.cuda.synchronize()
        wall.append((time.perf_counter() - w0) / per * 1e6)
        cpu.append((time.thread_time() - c0) / per * 1e6)
    return wall, cpu


def eager_block(n):
    for _ in range(n):
        torch.cuda.nvtx.range_push("step")
        step(x)
        torch.cuda.nvtx.range_pop()


torch.cuda.nvtx.range_push("measure")
torch.cuda.nvtx.range_push("eager")
eager_wall, eager_cpu = timed(eager_block)
torch.cuda.nvtx.range_pop()
torch.cuda.nvtx.range_push("graph")
graph_wall, graph_cpu = timed(graph_block)
torch.cuda.nvtx.range_pop()
med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
small = {}
if os.environ.get("TP_SMALL") == "1":
    torch.cuda.nvtx.range_push("small")
    for name, block in (("launch", launch_block), ("small", small_block)):
        wall, cpu = timed(block)
        small[name + "_step_us"], small[name + "_cpu_us"] = med(wall), med(cpu)
    torch.cuda.nvtx.range_pop()
torch.cuda.nvtx.range_pop()
result = dict(rank=rank, eager_step_us=med(eager_wall), graph_step_us=med(graph_wall),
              eager_cpu_us=med(eager_cpu), graph_cpu_us=med(graph_cpu),
              eager_blocks_us=eager_wall, graph_blocks_us=graph_wall, **small)
if prof:
    prof.stop()
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA
               and "Memcpy" not in e.name and "Memset" not in e.name]
    result["profiler_kernels"] = len(kernels)
    result["profiler_nccl_kernels"] = sum(1 for e in kernels if "nccl" in e.name.lower())
    names = {}
    for e in kernels:
        names[e.name[:60]] = names.get(e.name[:60], 0) + 1
    result["profiler_kernel_names"] = names
with open(os.path.join(os.environ["PT_OUT_DIR"], f"rank{rank}.json"), "w") as f:
    json.dump(result, f)
print(f"rank {rank}: {result}", flush=True)
dist.barrier()
# NCCL captured in a graph can hang at exit (shared/GPU.md): leave without teardown. Under
# partrace, _exit still writes everything.
os._exit(0)
