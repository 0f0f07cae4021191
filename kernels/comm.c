#include "comm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int publish(const char *path, const ncclUniqueId *id, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, id, sizeof *id) != (ssize_t)sizeof *id || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write the NCCL id to %s: %s", path, strerror(errno));
        return -1;
    }
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
    snprintf(err, errlen, "no NCCL id in %s after %.0f s (is rank 0 running?)", path, timeout_s);
    return -1;
}

int pt_comms_init(const struct pt_layout *l, uint32_t rank, const char *id_file, double timeout_s,
                  struct pt_comms *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    ncclUniqueId id;
    if (rank == 0) {
        if (ncclGetUniqueId(&id) != ncclSuccess) {
            snprintf(err, errlen, "ncclGetUniqueId failed");
            return -1;
        }
        if (publish(id_file, &id, err, errlen))
            return -1;
    } else if (await(id_file, &id, timeout_s, err, errlen)) {
        return -1;
    }
    ncclResult_t r = ncclCommInitRank(&c->world, (int)pt_layout_world(l), id, (int)rank);
    if (r != ncclSuccess) {
        snprintf(err, errlen, "ncclCommInitRank (rank %u of %u): %s", rank, pt_layout_world(l), ncclGetErrorString(r));
        return -1;
    }
    /* TP groups: ranks that differ only in their TP index (TP is innermost); none for tp = 1. */
    if (l->tp > 1)
        r = ncclCommSplit(c->world, (int)(rank / l->tp), (int)(rank % l->tp), &c->tp, NULL);
    if (r != ncclSuccess) {
        snprintf(err, errlen, "ncclCommSplit (TP groups of %u): %s", l->tp, ncclGetErrorString(r));
        pt_comms_free(c);
        return -1;
    }
    if (l->pp > 1) {
        uint32_t stage = rank / l->tp % l->pp, dp = rank / (l->tp * l->pp);
        r = ncclCommSplit(c->world, (int)(dp * l->tp + rank % l->tp), (int)stage, &c->pp, NULL);
        if (r != ncclSuccess) {
            snprintf(err, errlen, "ncclCommSplit (PP groups of %u): %s", l->pp, ncclGetErrorString(r));
            pt_comms_free(c);
            return -1;
        }
    }
    if (l->ep > 1) {
        r = ncclCommSplit(c->world, (int)(rank / l->tp % l->pp), (int)(rank / (l->tp * l->pp)), &c->ep, NULL);
        if (r != ncclSuccess) {
            snprintf(err, errlen, "ncclCommSplit (EP groups of %u): %s", l->ep, ncclGetErrorString(r));
            pt_comms_free(c);
            return -1;
        }
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
