"""Checks a tp_loop.py run recorded by partrace against the same loop under torch.profiler:
per rank, the kernels partrace saw inside NVTX range "measure" equal the kernels torch.profiler
counted for the same code; >= 99 % of NCCL kernels are tied to their NCCL call, eager and
replayed from the CUDA graph; every eager NCCL kernel starts after its call entered; the NVTX
ranges and the GPU identity are there.

usage: check_cuda_trace.py PARTRACE RUN_DIR PROFILE_DIR   (JSON summary; exit 1 on failure)"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_nccl_trace import load_ranks  # noqa: E402


def ranges(evs, name):
    """[start, end] of every push/pop range with this text, per thread nesting."""
    out, stacks = [], {}
    for e in evs:
        if e["kind"] != "nvtx" or e["event"] not in ("push", "pop"):
            continue
        stack = stacks.setdefault(e["tid"], [])
        if e["event"] == "push":
            stack.append(e)
        elif stack:
            opened = stack.pop()
            if opened["text"] == name:
                out.append((opened["ts_ns"], e["ts_ns"]))
    return out


def check_rank(rank, evs, profiled, errors, steps):
    (m0, m1), = ranges(evs, "measure") or [(0, 0)]
    if not m1:
        errors.append(f"rank {rank}: no NVTX range 'measure'")
        return {}
    (e0, e1), = ranges(evs, "eager")
    (g0, g1), = ranges(evs, "graph")
    if len(ranges(evs, "step")) != steps:
        errors.append(f"rank {rank}: {len(ranges(evs, 'step'))} NVTX 'step' ranges, want {steps}")
    calls = {e["call_id"]: e for e in evs if e["kind"] == "nccl"}
    kernels = [e for e in evs if e["kind"] == "kernel" and m0 <= e["ts_ns"] <= m1]
    eager = [k for k in kernels if e0 <= k["ts_ns"] <= e1 and k["comm"] == "nccl"]
    graph = [k for k in kernels if g0 <= k["ts_ns"] <= g1 and k["comm"] == "nccl"]
    tied_eager = sum(1 for k in eager if k["nccl_call"])
    tied_graph = sum(1 for k in graph if k["nccl_call"])
    for name, group, tied in (("eager", eager, tied_eager), ("graph", graph, tied_graph)):
        if not group or tied < 0.99 * len(group):
            errors.append(f"rank {rank}: {tied} of {len(group)} {name} NCCL kernels tied to a call")
    late = [k for k in eager if k["nccl_call"] and k["ts_ns"] < calls[k["nccl_call"]]["ts_ns"]]
    if late:
        errors.append(f"rank {rank}: {len(late)} NCCL kernels start before their call entered")
    # torch.profiler also lists GPU-side annotations ("nccl:all_reduce") among CUDA events;
    # kernels are the rest (tp_loop.py already leaves out memcpy and memset).
    names = profiled.get("profiler_kernel_names", {})
    want = sum(n for name, n in names.items() if not name.startswith("nccl:")) if names else None
    if want != len(kernels):
        errors.append(f"rank {rank}: partrace saw {len(kernels)} kernels, torch.profiler {want}")
    gpus = [e["name"] for e in evs if e["kind"] == "gpu"]
    if not gpus or not gpus[0]:
        errors.append(f"rank {rank}: no GPU identity record")
    status = [e["state"] for e in evs if e["kind"] == "cuda_status"]
    if status != ["active"]:
        errors.append(f"rank {rank}: cuda_status {status}")
    return dict(kernels=len(kernels), profiler_kernels=want, nccl_kernels_eager=len(eager),
                tied_eager=tied_eager, nccl_kernels_graph=len(graph), tied_graph=tied_graph,
                gpu=gpus[0] if gpus else None)


def check(partrace, run_dir, profile_dir, steps=200):
    errors = []
    ranks = load_ranks(partrace, run_dir)
    per_rank = {}
    for rank, evs in sorted(ranks.items()):
        path = os.path.join(profile_dir, f"rank{rank}.json")
        profiled = json.load(open(path)) if os.path.exists(path) else {}
        per_rank[rank] = check_rank(rank, evs, profiled, errors, steps)
    if len(ranks) < 2:
        errors.append(f"only {len(ranks)} ranks traced")
    return dict(ranks=per_rank, errors=errors[:20], ok=not errors)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    steps = int(sys.argv[4]) if len(sys.argv) == 5 else 200
    summary = check(*sys.argv[1:4], steps=steps)
    print(json.dumps(summary, indent=1))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
