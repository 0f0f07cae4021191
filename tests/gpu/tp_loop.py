"""A tensor-parallel loop on N ranks: each step is LAYERS × (matmul, all_reduce, gelu), bf16.
Runs STEPS steps eagerly inside NVTX range "eager", then captures one step in a CUDA graph and
replays it STEPS times inside NVTX range "graph"; the whole measured part is NVTX range
"measure". --profile wraps exactly that part in torch.profiler instead (run without partrace).
Writes rank<R>.json to $PT_OUT_DIR: step times, and with --profile the kernel count."""
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

prof = None
if profile:
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                              torch.profiler.ProfilerActivity.CUDA])
    prof.start()
torch.cuda.nvtx.range_push("measure")
torch.cuda.nvtx.range_push("eager")
t0 = time.perf_counter()
for _ in range(STEPS):
    torch.cuda.nvtx.range_push("step")
    step(x)
    torch.cuda.nvtx.range_pop()
torch.cuda.synchronize()
t1 = time.perf_counter()
torch.cuda.nvtx.range_pop()
torch.cuda.nvtx.range_push("graph")
for _ in range(STEPS):
    graph.replay()
torch.cuda.synchronize()
t2 = time.perf_counter()
torch.cuda.nvtx.range_pop()
torch.cuda.nvtx.range_pop()
result = dict(rank=rank, eager_step_us=(t1 - t0) / STEPS * 1e6, graph_step_us=(t2 - t1) / STEPS * 1e6)
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
