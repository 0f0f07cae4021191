#include "comm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_error.h"

static int publish(const char *path, const ncclUniqueId *id, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, id, sizeof *id) != (ssize_t)sizeof *id || close(fd) != 0 || rename(tmp, path) != 0)
        return pt_engine_fail(err, errlen, "cannot write the NCCL id to %s: %s", path, strerror(errno));
    return 0;
}

static int await(const char *path, ncclUniqueId *id, double timeout_s, char *err, size_t errlen)
{
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (double waited = 0; waited < timeout_s; waited += 0.01) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, id, sizeof *id);
            close(fd);
            if (n == (ssize_t)sizeof *id)
                return 0;
        }
        nanosleep(&nap, NULL);
    }
    return pt_engine_fail(err, errlen, "no NCCL id in %s after %.0f s (is rank 0 running?)", path, timeout_s);
}

/* Splits groups of `size` ranks from the world (none when size is 1): this rank's by color,
 * ordered by key. */
static int split(struct pt_comms *c, uint32_t size, uint32_t color, uint32_t key, ncclComm_t *out, const char *what,
                 char *err, size_t errlen)
{
    if (size <= 1)
        return 0;
    ncclResult_t r = ncclCommSplit(c->world, (int)color, (int)key, out, NULL);
    return r == ncclSuccess ? 0
                            : pt_engine_fail(err, errlen, "ncclCommSplit (%s groups of %u): %s", what, size,
                                             ncclGetErrorString(r));
}

int pt_comms_init(const struct pt_layout *l, uint32_t rank, const char *id_file, double timeout_s,
                  struct pt_comms *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    ncclUniqueId id;
    if (rank == 0) {
        if (ncclGetUniqueId(&id) != ncclSuccess)
            return pt_engine_fail(err, errlen, "ncclGetUniqueId failed");
        if (publish(id_file, &id, err, errlen))
            return -1;
    } else if (await(id_file, &id, timeout_s, err, errlen)) {
        return -1;
    }
    ncclResult_t r = ncclCommInitRank(&c->world, (int)pt_layout_world(l), id, (int)rank);
    if (r != ncclSuccess)
        return pt_engine_fail(err, errlen, "ncclCommInitRank (rank %u of %u): %s", rank, pt_layout_world(l),
                              ncclGetErrorString(r));
    uint32_t tp = rank % l->tp, stage = rank / l->tp % l->pp, dp = rank / (l->tp * l->pp);
    /* TP: ranks that differ only in their TP index (TP is innermost). PP: one rank per stage, of
     * one replica and TP index, in stage order. EP: the ranks of one stage, one per replica. */
    if (split(c, l->tp, rank / l->tp, tp, &c->tp, "TP", err, errlen) ||
        split(c, l->pp, dp * l->tp + tp, stage, &c->pp, "PP", err, errlen) ||
        split(c, l->ep, stage, dp, &c->ep, "EP", err, errlen)) {
        pt_comms_free(c);
        return -1;
    }
    return 0;
}

void pt_comms_free(struct pt_comms *c)
{
    if (c->ep)
        ncclCommDestroy(c->ep);
    if (c->pp)
        ncclCommDestroy(c->pp);
    if (c->tp)
        ncclCommDestroy(c->tp);
    if (c->world)
        ncclCommDestroy(c->world);
    memset(c, 0, sizeof *c);
}
