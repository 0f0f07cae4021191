/* Calls NCCL entry points that no loaded library provides, through whatever dlsym(RTLD_DEFAULT)
 * finds (under partrace: its wrappers). argv[1] = "none": no NCCL in the process at all;
 * otherwise argv[1] is a NCCL library lacking ncclCommShrink, loaded RTLD_LOCAL first.
 * Prints each result code; a wrapper must return an error, never crash. */
#include <dlfcn.h>
#include <nccl.h>
#include <stdio.h>
#include <string.h>

typedef ncclResult_t (*allreduce_fn)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t,
                                     ncclComm_t, cudaStream_t);
typedef ncclResult_t (*shrink_fn)(ncclComm_t, int *, int, ncclComm_t *, ncclConfig_t *, int);
typedef ncclResult_t (*uid_fn)(ncclUniqueId *);
typedef ncclResult_t (*init_fn)(ncclComm_t *, int, ncclUniqueId, int);

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    static float buf[8];
    if (strcmp(argv[1], "none") == 0) {
        allreduce_fn ar = (allreduce_fn)dlsym(RTLD_DEFAULT, "ncclAllReduce");
        if (!ar) {
            printf("no ncclAllReduce\n");
            return 0;
        }
        printf("AllReduce -> %d\n", (int)ar(buf, buf, 8, ncclFloat32, ncclSum, NULL, NULL));
        return 0;
    }
    void *h = dlopen(argv[1], RTLD_LOCAL | RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    ncclUniqueId id;
    ncclComm_t comm, child;
    if (((uid_fn)dlsym(h, "ncclGetUniqueId"))(&id) != ncclSuccess ||
        ((init_fn)dlsym(h, "ncclCommInitRank"))(&comm, 1, id, 0) != ncclSuccess)
        return 1;
    printf("has shrink: %s\n", dlsym(h, "ncclCommShrink") ? "yes" : "no");
    shrink_fn shrink = (shrink_fn)dlsym(RTLD_DEFAULT, "ncclCommShrink");
    if (!shrink) {
        printf("no ncclCommShrink\n");
        return 0;
    }
    for (int i = 0; i < 3; i++)
        printf("CommShrink -> %d\n", (int)shrink(comm, NULL, 0, &child, NULL, 0));
    allreduce_fn ar = (allreduce_fn)dlsym(RTLD_DEFAULT, "ncclAllReduce");
    printf("AllReduce -> %d\n", (int)ar(buf, buf, 8, ncclFloat32, ncclSum, comm, NULL));
    return 0;
}
