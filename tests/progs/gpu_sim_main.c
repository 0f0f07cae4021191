/* Plays a GPU program on a CPU-only machine with the test CUPTI (GPU_SIM_CUPTI; partrace finds it
 * through PARTRACE_CUPTI_LIB), the test CUDA driver (GPU_SIM_CUDA, optional) and the test NCCL: "cuInit" (InitializeInjection, as the driver calls it), a context on device 0,
 * ITERS × (AllReduce, a gemm kernel, grouped Send/Recv), NB_ITERS × (AllReduce, grouped Send/Recv)
 * on a non-blocking communicator, copies and memory, then a CUDA graph
 * captured from an AllReduce and a gemm, instantiated and replayed twice. NB_CAPTURE=1 then
 * captures an AllReduce of 128 floats on the non-blocking communicator too (its node is made on
 * the test NCCL's launch thread, outside any call), instantiates and replays it once.
 * GPU_SIM_PROFILER=1 calls cudaProfilerStart before the second half of the ITERS and
 * cudaProfilerStop after them.
 *   gpu_sim_main [ITERS=3] [NB_ITERS=2] [NB_CAPTURE=0] */
#include <dlfcn.h>
#include <nccl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void fake_nccl_set_launch_hook(void (*hook)(const char *name, uint32_t stream));

#define BIND(h, name, type)                                      \
    type name = (type)dlsym(h, #name);                           \
    if (!name) {                                                 \
        fprintf(stderr, "gpu_sim_main: no %s\n", #name);         \
        return 1;                                                \
    }

typedef void (*launch_fn)(const char *, uint32_t);
typedef void (*void_fn)(void);
typedef void (*int_fn)(int);
typedef void (*vmm_fn)(uint64_t, size_t, int, int);

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 3;
    int nb_iters = argc > 2 ? atoi(argv[2]) : 2;
    int nb_capture = argc > 3 ? atoi(argv[3]) : 0;
    const char *lib = getenv("GPU_SIM_CUPTI");
    /* Global: the test driver finds the test CUPTI's node names through RTLD_DEFAULT. */
    void *cupti = lib ? dlopen(lib, RTLD_NOW | RTLD_GLOBAL) : NULL;
    /* GPU_SIM_CUDA: the test driver, loaded as the application's CUDA would be. */
    const char *driver = getenv("GPU_SIM_CUDA");
    if (driver && *driver && !dlopen(driver, RTLD_NOW | RTLD_GLOBAL)) {
        fprintf(stderr, "gpu_sim_main: cannot load %s: %s\n", driver, dlerror());
        return 1;
    }
    if (!cupti) {
        fprintf(stderr, "gpu_sim_main: set GPU_SIM_CUPTI to the test CUPTI\n");
        return 1;
    }
    BIND(cupti, fake_cupti_launch, launch_fn);
    BIND(cupti, fake_cupti_capture, int_fn);
    BIND(cupti, fake_cupti_instantiate, void_fn);
    BIND(cupti, fake_cupti_replay, void_fn);
    BIND(cupti, fake_cupti_misc, void_fn);
    BIND(cupti, fake_cupti_context_created, int_fn);
    BIND(cupti, fake_cupti_vmm, vmm_fn);
    BIND(cupti, fake_cupti_profiler, int_fn);
    const char *profiler = getenv("GPU_SIM_PROFILER");
    int ranged = profiler && *profiler == '1';
    int (*inject)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "InitializeInjection");
    if (inject)
        inject(); /* what the CUDA driver does at cuInit */
    fake_cupti_context_created(0);
    fake_nccl_set_launch_hook(fake_cupti_launch);

    ncclUniqueId id;
    ncclComm_t comm;
    static float buf[1024];
    cudaStream_t s = (cudaStream_t)(uintptr_t)3;
    if (ncclGetUniqueId(&id) || ncclCommInitRank(&comm, 1, id, 0))
        return 1;
    for (int i = 0; i < iters; i++) {
        if (ranged && i == iters / 2)
            fake_cupti_profiler(1);
        ncclAllReduce(buf, buf, 1024, ncclFloat32, ncclSum, comm, s);
        fake_cupti_launch("gemm_kernel", 3);
        ncclGroupStart();
        ncclSend(buf, 16, ncclFloat32, 0, comm, s);
        ncclRecv(buf, 16, ncclFloat32, 0, comm, s);
        ncclGroupEnd();
    }
    if (ranged)
        fake_cupti_profiler(0);
    /* A non-blocking communicator: its kernels are launched from another thread. */
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclComm_t nb;
    ncclUniqueId nb_id = id;
    nb_id.internal[0] ^= 1;
    ncclCommInitRankConfig(&nb, 1, nb_id, 0, &cfg);
    for (int i = 0; i < nb_iters; i++) {
        ncclAllReduce(buf, buf, 256, ncclFloat32, ncclSum, nb, s);
        ncclGroupStart();
        ncclSend(buf, 8, ncclFloat32, 0, nb, s);
        ncclRecv(buf, 8, ncclFloat32, 0, nb, s);
        ncclGroupEnd();
    }
    fake_cupti_misc();
    fake_cupti_vmm(0xbeef, (size_t)2 << 30, 0, 0); /* as expandable segments do */
    fake_cupti_vmm(0xbeef, 0, 0, 1);
    fake_cupti_capture(1);
    ncclAllReduce(buf, buf, 512, ncclFloat32, ncclSum, comm, s);
    fake_cupti_launch("gemm_kernel", 3);
    fake_cupti_capture(0);
    fake_cupti_instantiate();
    fake_cupti_replay();
    fake_cupti_replay();
    if (nb_capture) {
        fake_cupti_capture(1);
        ncclAllReduce(buf, buf, 128, ncclFloat32, ncclSum, nb, s);
        fake_cupti_capture(0);
        fake_cupti_instantiate();
        fake_cupti_replay();
    }
    return ncclCommDestroy(comm) != ncclSuccess;
}
