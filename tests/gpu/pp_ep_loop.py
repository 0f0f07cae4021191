"""A pipeline and an expert-parallel phase on N ranks, with known truth, for partrace report:
- NVTX range "pp": a pipeline of N stages (rank s is stage s) over M micro-batches per step,
  forward only: stage s receives a micro-batch's activation from s-1 (dist.recv), multiplies it
  by its weight, sends it to s+1 (dist.send), each hop on its own two-rank group, which partrace
  should call PP, with the downstream stages waiting for the upstream ones.
- NVTX range "ep": per step, each rank dispatches tokens to every rank with all_to_all_single,
  every rank sending HOT times more tokens to rank HOT_RANK than to the others (the hot expert),
  an expert matmul, and the combine back. Unequal splits go through grouped send/recv on the
  world communicator, which partrace should call EP, with rank HOT_RANK receiving
  HOT x / mean of the bytes.
Writes rank<R>.json to $PT_OUT_DIR with what it did."""
import json
import os

import torch
import torch.distributed as dist

STEPS, MICRO = int(os.environ.get("PE_STEPS", 20)), int(os.environ.get("PE_MICRO", 4))
TOKENS, HIDDEN, HOT, HOT_RANK = 256, 4096, 3, 2
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
dev = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
torch.cuda.set_device(dev)
dist.init_process_group("nccl", device_id=dev)
torch.manual_seed(rank)
w = torch.randn(HIDDEN, HIDDEN, device=dev, dtype=torch.bfloat16) / 64
# One group per pipeline hop, as Megatron-style PP groups are: without them PyTorch sends
# point-to-point on the default group's communicator (seen: one communicator of mixed traffic).
hop_groups = [dist.new_group([s, s + 1]) for s in range(world - 1)]
act = torch.empty(TOKENS, HIDDEN, device=dev, dtype=torch.bfloat16)


def pipeline_step():
    for _ in range(MICRO):
        if rank > 0:
            dist.recv(act, src=rank - 1, group=hop_groups[rank - 1])
        else:
            act.normal_()
        out = act @ w
        if rank < world - 1:
            dist.send(out, dst=rank + 1, group=hop_groups[rank])


# Tokens this rank sends to each rank: HOT parts to the hot expert, 1 part to the others.
unit = 64
send_splits = [unit * (HOT if r == HOT_RANK else 1) for r in range(world)]
recv_splits = [unit * (HOT if rank == HOT_RANK else 1)] * world


def expert_step():
    x = torch.randn(sum(send_splits), HIDDEN, device=dev, dtype=torch.bfloat16)
    got = torch.empty(sum(recv_splits), HIDDEN, device=dev, dtype=torch.bfloat16)
    dist.all_to_all_single(got, x, output_split_sizes=recv_splits, input_split_sizes=send_splits)
    y = got @ w
    back = torch.empty_like(x)
    dist.all_to_all_single(back, y, output_split_sizes=send_splits, input_split_sizes=recv_splits)


for _ in range(2):  # warm-up: communicators and cuBLAS
    pipeline_step()
    expert_step()
torch.cuda.synchronize()
dist.barrier()
torch.cuda.nvtx.range_push("pp")
for _ in range(STEPS):
    pipeline_step()
torch.cuda.synchronize()
torch.cuda.nvtx.range_pop()
dist.barrier()
torch.cuda.nvtx.range_push("ep")
for _ in range(STEPS):
    expert_step()
torch.cuda.synchronize()
torch.cuda.nvtx.range_pop()
dist.barrier()
with open(os.path.join(os.environ["PT_OUT_DIR"], f"rank{rank}.json"), "w") as f:
    json.dump(dict(rank=rank, world=world, steps=STEPS, micro=MICRO, send_splits=send_splits,
                   recv_splits=recv_splits, hot_rank=HOT_RANK, hot=HOT), f)
dist.destroy_process_group()
