#include "preload/attrs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <partrace/format.h>

const char *const pt_env_whitelist[] = {
    "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "ROLE_RANK",
    "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID", "CUDA_VISIBLE_DEVICES",
    "SLURM_JOB_ID", "SLURM_STEP_ID", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID",
    "SLURM_NTASKS", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
    "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_RANK", "DP_RANK", "TP_RANK", "PP_RANK",
    NULL,
};

struct buf {
    char *p;
    size_t len, cap;
};

static void put_attr(struct buf *b, uint32_t attr, const char *value, size_t n)
{
    if (n > PT_ATTR_MAX_BYTES)
        n = PT_ATTR_MAX_BYTES;
    size_t size = PT_REC_BYTES(sizeof(struct pt_rec_attr), n);
    if (!b->p || b->len + size > b->cap)
        return;
    struct pt_rec_attr *r = (void *)(b->p + b->len);
    memset(r, 0, size);
    r->hdr.kind = PT_REC_ATTR;
    r->hdr.size = (uint16_t)size;
    r->attr = attr;
    r->value_bytes = (uint32_t)n;
    memcpy(r->value, value, n);
    b->len += size;
}

const char *pt_attrs_collect(size_t *bytes)
{
    static _Alignas(8) char space[64 * 1024];
    struct buf b = {space, 0, sizeof space};
    char tmp[PT_ATTR_MAX_BYTES];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        close(fd);
        if (n > 0)
            put_attr(&b, PT_ATTR_CMDLINE, tmp, (size_t)(tmp[n - 1] == '\0' ? n - 1 : n));
    }
    ssize_t n = readlink("/proc/self/exe", tmp, sizeof tmp);
    if (n > 0)
        put_attr(&b, PT_ATTR_EXE, tmp, (size_t)n);
    for (const char *const *name = pt_env_whitelist; *name; name++) {
        const char *v = getenv(*name);
        if (!v)
            continue;
        size_t kl = strlen(*name), vl = strnlen(v, sizeof tmp - kl - 2);
        memcpy(tmp, *name, kl);
        tmp[kl] = '=';
        memcpy(tmp + kl + 1, v, vl);
        put_attr(&b, PT_ATTR_ENV, tmp, kl + 1 + vl);
    }
    *bytes = b.len;
    return b.p;
}
