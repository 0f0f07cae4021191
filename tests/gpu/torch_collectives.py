"""One torchrun rank issuing every collective kind through PyTorch's NCCL backend.
Writes the list of NCCL calls it expects to issued-rank<R>.json in $PT_ISSUED_DIR."""
import json
import os

import torch
import torch.distributed as dist

ITERS = 5
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
local = int(os.environ["LOCAL_RANK"])
dev = torch.device("cuda", local)
torch.cuda.set_device(dev)
dist.init_process_group("nccl", device_id=dev)
issued = []


def note(op, nbytes, **extra):
    issued.append(dict(op=op, bytes=nbytes, **extra))


x = torch.ones(1 << 20, device=dev)                       # 4 MiB float32
ag_in, ag_out = torch.ones(4096, device=dev), torch.empty(4096 * world, device=dev)
rs_in, rs_out = torch.ones(2048 * world, device=dev), torch.empty(2048, device=dev)
a2a_in = torch.ones(1024 * world, device=dev, dtype=torch.bfloat16)
a2a_out = torch.empty_like(a2a_in)
b = torch.ones(512, device=dev)
ring = torch.ones(256, device=dev)
pair = torch.ones(128, device=dev, dtype=torch.float16)
for i in range(ITERS):
    dist.all_reduce(x)
    note("AllReduce", x.numel() * 4)
    dist.all_gather_into_tensor(ag_out, ag_in)
    note("AllGather", 4096 * 4)
    dist.reduce_scatter_tensor(rs_out, rs_in)
    note("ReduceScatter", 2048 * 4)
    dist.all_to_all_single(a2a_out, a2a_in)
    note("AlltoAll", 1024 * 2)                             # per peer, as ncclAlltoAll counts
    dist.broadcast(b, src=0)
    note("Bcast", 512 * 4, root=0)                         # PyTorch calls ncclBcast
    nxt, prv = (rank + 1) % world, (rank - 1) % world
    for req in dist.batch_isend_irecv([dist.P2POp(dist.isend, ring, nxt),
                                       dist.P2POp(dist.irecv, torch.empty_like(ring), prv)]):
        req.wait()
    note("Send", 256 * 4, peer=nxt)
    note("Recv", 256 * 4, peer=prv)
    # Blocking pairs 0<->1, 2<->3: even ranks send first.
    other = rank ^ 1
    if other < world:
        if rank % 2 == 0:
            dist.send(pair, other)
            dist.recv(pair, other)
            note("Send", 128 * 2, peer=other)
            note("Recv", 128 * 2, peer=other)
        else:
            dist.recv(pair, other)
            dist.send(pair, other)
            note("Recv", 128 * 2, peer=other)
            note("Send", 128 * 2, peer=other)
torch.cuda.synchronize()
expected = float(world ** ITERS)
assert torch.allclose(x, torch.full_like(x, expected)), "all_reduce gave a wrong sum"
dist.destroy_process_group()
with open(os.path.join(os.environ["PT_ISSUED_DIR"], f"issued-rank{rank}.json"), "w") as f:
    json.dump(dict(rank=rank, world=world, calls=issued), f)
print(f"rank {rank}: {len(issued)} calls issued, all_reduce sum ok")
