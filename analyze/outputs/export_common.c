#include "outputs/export_common.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"
#include "analyses/report_build.h"

/* Parses "0,2-3" into a bitmap of ranks below max. Returns 0, or -1 (bad list). */
static int ranks_parse(const char *s, uint8_t *ranks, int max)
{
    memset(ranks, 0, (size_t)max);
    if (!s || !*s)
        return -1;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0 || a >= max)
            return -1;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a || b >= max)
                return -1;
            s = end;
        }
        for (long r = a; r <= b; r++)
            ranks[r] = 1;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

int pt_export_keep(const struct pt_report *r, const char *spec, uint8_t *keep)
{
    static uint8_t ranks[PT_MAX_RANKS];
    if (spec && ranks_parse(spec, ranks, PT_MAX_RANKS) != 0) {
        pt_error("--ranks '%s': give ranks and ranges, e.g. 0,2-3 (ranks below %d)", spec, PT_MAX_RANKS);
        return 2;
    }
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        int32_t rank = pt_report_rank_of(r, i);
        keep[i] = !spec || (rank >= 0 && rank < PT_MAX_RANKS && ranks[rank]);
        kept += keep[i];
    }
    if (!kept) {
        pt_error("--ranks %s matches no rank of this run (ranks 0 to %d)", spec, r->layout.world - 1);
        return 2;
    }
    return 0;
}

int pt_export_create(const char *path, int force, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
    if (fd < 0)
        snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (use --force to overwrite it)" : "");
    return fd;
}

void pt_export_process_name(const struct pt_report *r, size_t file, char *out, size_t cap)
{
    static const char *const axes[] = {"TP", "PP", "DP", "EP"};
    const struct pt_rank_totals *t = &r->totals[file];
    const struct pt_file_header *h = pt_source_header(r->run.sources[file]);
    int ranked = pt_report_is_rank(r, file);
    size_t n = ranked ? (size_t)snprintf(out, cap, "rank %d ·", t->rank) : (size_t)snprintf(out, cap, "no NCCL ·");
    int any = 0;
    for (int k = 0; k < 4 && ranked && n < cap; k++) {
        int at = pt_topology_coord(r->c, r->roles, axes[k], t->rank);
        int size = k == 0 ? r->layout.tp : k == 1 ? r->layout.pp : k == 2 ? r->layout.dp : r->layout.ep;
        if (at >= 0 && size > 1) {
            n += (size_t)snprintf(out + n, cap - n, " %s%d", axes[k], at);
            any = 1;
        }
    }
    if (n < cap && any)
        n += (size_t)snprintf(out + n, cap - n, " ·");
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, " %s:%" PRIu32, t->host, h->pid);
    if (n < cap && t->gpu >= 0)
        snprintf(out + n, cap - n, " · GPU%d", t->gpu);
}
