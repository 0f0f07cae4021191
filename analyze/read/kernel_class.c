#include "read/kernel_class.h"
#include "util/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A kernel's name (a substring of it), its communication class, and the role of that class's
 * traffic when it runs outside NCCL: the all-reduces of vLLM/SGLang, PyTorch symmetric memory and
 * TensorRT-LLM serve tensor parallelism; DeepEP, pplx and MoE communication kernels serve expert
 * parallelism (NULL: its NCCL call's communicator says). */
static const struct {
    const char *substring, *cls, *role;
} builtin[] = {
    {"ncclDevKernel", "nccl", NULL},
    {"ncclKernel", "nccl", NULL},
    {"ncclSymkDevKernel", "nccl", NULL},
    {"cross_device_reduce", "custom_allreduce", "TP"},
    {"multimem_all_reduce", "symm_mem", "TP"},
    {"two_shot_all_reduce", "symm_mem", "TP"},
    {"one_shot_all_reduce", "symm_mem", "TP"},
    {"allreduce_fusion_kernel", "trtllm_allreduce", "TP"},
    {"deep_ep", "deepep", "EP"},
    {"dispatchKernel", "pplx", "EP"},
    {"combineKernel", "pplx", "EP"},
    {"moe_comm", "moe_comm", "EP"},
};

/* User entries, parsed once from PARTRACE_COMM_KERNELS; they are checked first. */
static struct {
    char substring[128], cls[32];
} user[32];
static int n_user = -1;

static void parse_user(void)
{
    n_user = 0;
    const char *v = pt_settings()->comm_kernels;
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

const char *pt_comm_class_role(const char *cls)
{
    for (size_t i = 0; cls && i < sizeof builtin / sizeof *builtin; i++)
        if (!strcmp(cls, builtin[i].cls))
            return builtin[i].role;
    return NULL;
}
