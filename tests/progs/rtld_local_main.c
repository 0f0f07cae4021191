/* Loads NCCL_SHIM (argv[1]) RTLD_LOCAL, as Python loads torch, and runs argv[2] iterations. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rtld_local_main SHIM.so ITERS\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_LOCAL | RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*run)(int) = (int (*)(int))dlsym(h, "shim_run");
    if (!run) {
        fprintf(stderr, "dlsym shim_run: %s\n", dlerror());
        return 1;
    }
    return run(atoi(argv[2]));
}
