"""Checks a tp_loop.py run recorded with a non-blocking communicator
(TORCH_NCCL_USE_COMM_NONBLOCKING=1), PyTorch's expandable segments (CUDA virtual memory) and
PARTRACE_STACKS=1: the communicator is marked non-blocking, >= 99 % of its NCCL kernels are
tied to their calls and >= 99 % of its eager calls have their kernel; no kernel is tied to a call
of another element type (NCCL names reduction kernels after it), and eager kernels follow the
order of their calls (a kernel tied to a call older than the previous kernel's is on the wrong
one); cuMemCreate mappings are recorded; creations carry symbolised stacks.

usage: check_extras.py PARTRACE RUN_DIR   (JSON summary; exit 1 on failure)"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_nccl_trace import load_ranks  # noqa: E402


# Element types as NCCL's kernel names spell them and as `partrace dump` names them.
KERNEL_TYPES = {"_bf16_": "bfloat16", "_f16_": "float16", "_f32_": "float32", "_f64_": "float64",
                "_i32_": "int32", "_i64_": "int64", "_u8_": "uint8", "_i8_": "int8"}


def wrong_type(kernel, call):
    """True when the kernel's name says another element type than its call's."""
    for token, dtype in KERNEL_TYPES.items():
        if token in kernel["name"]:
            return call.get("dtype") not in (None, dtype)
    return False


def main():
    partrace, run_dir = sys.argv[1:3]
    errors, per_rank = [], {}
    for rank, evs in sorted(load_ranks(partrace, run_dir).items()):
        inits = [e for e in evs if e["kind"] == "comm_init"]
        kernels = [e for e in evs if e["kind"] == "kernel" and e["comm"] == "nccl"]
        tied = sum(1 for k in kernels if k["nccl_call"])
        vmm = [e for e in evs if e["kind"] == "memory" and e["pool_type"] == "vmm"]
        stacks = [e for e in evs if e["kind"] == "stack"]
        graph = [k for k in kernels if k["graph_node_id"]]
        # Every eager NCCL call has its kernel (calls captured into the graph launch none).
        captured = {k["nccl_call"] for k in graph}
        calls = [e for e in evs if e["kind"] == "nccl" and e["call_id"] not in captured]
        eager_tied = {k["nccl_call"] for k in kernels if not k["graph_node_id"] and k["nccl_call"]}
        by_id = {e["call_id"]: e for e in evs if e["kind"] == "nccl"}
        mistyped = sum(1 for k in kernels if k["nccl_call"] in by_id and wrong_type(k, by_id[k["nccl_call"]]))
        eager_order = [by_id[k["nccl_call"]]["ts_ns"] for k in sorted(kernels, key=lambda k: k["ts_ns"])
                       if not k["graph_node_id"] and k["nccl_call"] in by_id]
        out_of_order = sum(1 for a, b in zip(eager_order, eager_order[1:]) if b < a)
        per_rank[rank] = dict(nonblocking=[i["nonblocking"] for i in inits], nccl_kernels=len(kernels),
                              tied=tied, graph_kernels=len(graph), eager_calls=len(calls),
                              eager_calls_with_kernel=len(eager_tied), tied_to_other_type=mistyped,
                              out_of_call_order=out_of_order,
                              graph_tied=sum(1 for k in graph if k["nccl_call"]), vmm_records=len(vmm),
                              vmm_peak_gib=sum(m["bytes"] for m in vmm if m["op"] == "alloc") / 2**30,
                              stack=stacks[0]["frames"][:6] if stacks else None)
        if not any(i["nonblocking"] for i in inits):
            errors.append(f"rank {rank}: no non-blocking communicator")
        if not kernels or tied < 0.99 * len(kernels):
            errors.append(f"rank {rank}: {tied} of {len(kernels)} NCCL kernels tied")
        if len(eager_tied) < 0.99 * len(calls):
            errors.append(f"rank {rank}: {len(eager_tied)} of {len(calls)} eager NCCL calls have a kernel")
        if mistyped:
            errors.append(f"rank {rank}: {mistyped} NCCL kernels tied to a call of another element type")
        if out_of_order:
            errors.append(f"rank {rank}: {out_of_order} eager NCCL kernels tied out of their calls' order")
        if not vmm:
            errors.append(f"rank {rank}: no cuMemCreate records")
        if not stacks or not any("(" in f for f in stacks[0]["frames"]):
            errors.append(f"rank {rank}: no symbolised stack")
    print(json.dumps(dict(ranks=per_rank, errors=errors, ok=not errors), indent=1))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
