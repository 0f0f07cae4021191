/* Stands in for libtorch_cuda.so: a library linked against NCCL that the program loads
 * RTLD_LOCAL, so NCCL is not in the global scope. */
#include <nccl.h>

int shim_run(int iters);

int shim_run(int iters)
{
    ncclUniqueId id;
    ncclComm_t comm;
    static float buf[256];
    if (ncclGetUniqueId(&id) != ncclSuccess || ncclCommInitRank(&comm, 1, id, 0) != ncclSuccess)
        return 1;
    for (int i = 0; i < iters; i++) {
        if (ncclAllReduce(buf, buf, 256, ncclFloat32, ncclSum, comm, NULL) != ncclSuccess)
            return 1;
        ncclGroupStart();
        ncclSend(buf, 16, ncclFloat32, 0, comm, NULL);
        ncclRecv(buf, 16, ncclFloat32, 0, comm, NULL);
        if (ncclGroupEnd() != ncclSuccess)
            return 1;
    }
    return ncclCommDestroy(comm) != ncclSuccess;
}
