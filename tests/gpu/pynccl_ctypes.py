"""One rank binding libnccl.so.2 through ctypes, the way vLLM's pynccl does: ncclGetUniqueId on
rank 0 (shared over gloo), ncclCommInitRank, ncclAllReduce and a grouped Send/Recv ring on
PyTorch tensors and the current stream, ncclCommDestroy."""
import ctypes
import json
import os

import torch
import torch.distributed as dist

ITERS = 7
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
dist.init_process_group("gloo")
lib = ctypes.CDLL(os.environ.get("VLLM_NCCL_SO_PATH", "libnccl.so.2"))


class NcclUniqueId(ctypes.Structure):
    _fields_ = [("internal", ctypes.c_byte * 128)]


c_void_p, c_int, c_size_t = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
lib.ncclGetUniqueId.argtypes = [ctypes.POINTER(NcclUniqueId)]
lib.ncclCommInitRank.argtypes = [ctypes.POINTER(c_void_p), c_int, NcclUniqueId, c_int]
lib.ncclAllReduce.argtypes = [c_void_p, c_void_p, c_size_t, c_int, c_int, c_void_p, c_void_p]
lib.ncclSend.argtypes = [c_void_p, c_size_t, c_int, c_int, c_void_p, c_void_p]
lib.ncclRecv.argtypes = [c_void_p, c_size_t, c_int, c_int, c_void_p, c_void_p]
lib.ncclCommDestroy.argtypes = [c_void_p]

uid = NcclUniqueId()
if rank == 0:
    assert lib.ncclGetUniqueId(ctypes.byref(uid)) == 0
shared = torch.tensor(list(bytes(uid.internal)), dtype=torch.uint8)
dist.broadcast(shared, src=0)
ctypes.memmove(ctypes.byref(uid), bytes(shared.tolist()), 128)
comm = c_void_p()
assert lib.ncclCommInitRank(ctypes.byref(comm), world, uid, rank) == 0
stream = c_void_p(torch.cuda.current_stream().cuda_stream)
x = torch.ones(1 << 18, device="cuda")
for _ in range(ITERS):
    assert lib.ncclAllReduce(x.data_ptr(), x.data_ptr(), x.numel(), 7, 0, comm, stream) == 0
send, recv = torch.ones(1000, device="cuda"), torch.zeros(1000, device="cuda")
assert lib.ncclGroupStart() == 0
assert lib.ncclSend(send.data_ptr(), 1000, 7, (rank + 1) % world, comm, stream) == 0
assert lib.ncclRecv(recv.data_ptr(), 1000, 7, (rank - 1) % world, comm, stream) == 0
assert lib.ncclGroupEnd() == 0
torch.cuda.synchronize()
assert torch.all(x == world ** ITERS) and torch.all(recv == 1)
assert lib.ncclCommDestroy(comm) == 0
calls = [dict(op="AllReduce", bytes=x.numel() * 4)] * ITERS + [
    dict(op="Send", bytes=4000, peer=(rank + 1) % world),
    dict(op="Recv", bytes=4000, peer=(rank - 1) % world)]
with open(os.path.join(os.environ["PT_ISSUED_DIR"], f"issued-rank{rank}.json"), "w") as f:
    json.dump(dict(rank=rank, world=world, calls=calls), f)
dist.destroy_process_group()
print(f"rank {rank}: pynccl-style ctypes calls ok")
