/* Binds NCCL the way ctypes (vLLM's pynccl) does: dlopen("libnccl.so.2", RTLD_LOCAL), then
 * dlsym by name. Also checks that RTLD_NEXT / RTLD_DEFAULT lookups still behave as glibc's. */
#include <dlfcn.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIND(h, name, type)                                                        \
    type name = (type)dlsym(h, #name);                                             \
    if (!name) {                                                                   \
        fprintf(stderr, "dlsym %s: %s\n", #name, dlerror());                      \
        return 1;                                                                  \
    }

typedef ncclResult_t (*uid_fn)(ncclUniqueId *);
typedef ncclResult_t (*init_fn)(ncclComm_t *, int, ncclUniqueId, int);
typedef ncclResult_t (*ar_fn)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                              cudaStream_t);
typedef ncclResult_t (*destroy_fn)(ncclComm_t);
typedef ncclResult_t (*version_fn)(int *);

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 5;
    void *h = dlopen("libnccl.so.2", RTLD_LOCAL | RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    BIND(h, ncclGetVersion, version_fn);
    BIND(h, ncclGetUniqueId, uid_fn);
    BIND(h, ncclCommInitRank, init_fn);
    BIND(h, ncclAllReduce, ar_fn);
    BIND(h, ncclCommDestroy, destroy_fn);
    int version = 0;
    ncclUniqueId id;
    ncclComm_t comm;
    static float buf[64];
    if (ncclGetVersion(&version) || ncclGetUniqueId(&id) || ncclCommInitRank(&comm, 1, id, 0))
        return 1;
    for (int i = 0; i < iters; i++)
        if (ncclAllReduce(buf, buf, 64, ncclFloat32, ncclSum, comm, NULL))
            return 1;
    if (ncclCommDestroy(comm))
        return 1;
    /* Caller-relative lookups must not be answered relative to the preload. */
    void *next_malloc = dlsym(RTLD_NEXT, "malloc"), *default_malloc = dlsym(RTLD_DEFAULT, "malloc");
    if (!next_malloc || next_malloc != default_malloc) {
        fprintf(stderr, "RTLD_NEXT malloc %p != RTLD_DEFAULT malloc %p\n", next_malloc,
                default_malloc);
        return 1;
    }
    printf("version %d iters %d\n", version, iters);
    return 0;
}
