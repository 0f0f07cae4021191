#include "kernel_class.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *substring, *cls;
} builtin[] = {
    {"ncclDevKernel", "nccl"},          {"ncclKernel", "nccl"},
    {"ncclSymkDevKernel", "nccl"},      {"cross_device_reduce", "custom_allreduce"},
    {"multimem_all_reduce", "symm_mem"}, {"two_shot_all_reduce", "symm_mem"},
    {"one_shot_all_reduce", "symm_mem"}, {"deep_ep", "deepep"},
    {"dispatchKernel", "pplx"},         {"combineKernel", "pplx"},
    {"allreduce_fusion_kernel", "trtllm_allreduce"}, {"moe_comm", "moe_comm"},
};

/* User entries, parsed once from PARTRACE_COMM_KERNELS; they are checked first. */
static struct {
    char substring[128], cls[32];
} user[32];
static int n_user = -1;

static void parse_user(void)
{
    n_user = 0;
    const char *v = getenv("PARTRACE_COMM_KERNELS");
    while (v && *v && n_user < 32) {
        const char *end = strchr(v, ','), *eq = strchr(v, '=');
        size_t len = end ? (size_t)(end - v) : strlen(v);
        if (!eq || eq >= v + len || eq == v || (size_t)(eq - v) >= sizeof user[0].substring ||
            len - (size_t)(eq - v) - 1 >= sizeof user[0].cls || len - (size_t)(eq - v) - 1 == 0) {
            fprintf(stderr, "partrace: PARTRACE_COMM_KERNELS: ignoring '%.*s' (want substring=class)\n",
                    (int)len, v);
        } else {
            snprintf(user[n_user].substring, sizeof user[0].substring, "%.*s", (int)(eq - v), v);
            snprintf(user[n_user].cls, sizeof user[0].cls, "%.*s", (int)(len - (size_t)(eq - v) - 1),
                     eq + 1);
            n_user++;
        }
        v = end ? end + 1 : NULL;
    }
}

const char *pt_kernel_comm_class(const char *name)
{
    if (n_user < 0)
        parse_user();
    for (int i = 0; i < n_user; i++)
        if (strstr(name, user[i].substring))
            return user[i].cls;
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
        if (strstr(name, builtin[i].substring))
            return builtin[i].cls;
    return NULL;
}
