/* Clocks of different hosts. Files of one host share CLOCK_MONOTONIC; another host's clock is
 * offset by an unknown amount. All ranks of a collective finish within microseconds of each
 * other, so the ends of the same collectives (their NCCL kernels' ends, else the host calls'
 * exits) seen on two hosts give the offset: the median of the differences; the residual is the
 * median distance left after correction. A first pass over the files, before the report. */
#ifndef PT_CLOCK_ALIGN_H
#define PT_CLOCK_ALIGN_H

#include <stddef.h>
#include <stdint.h>

struct pt_clock_host {
    char name[64];
    int64_t offset_ns;     /* add to this host's times to get the first host's */
    uint64_t residual_ns;  /* median |difference| after correction */
    uint64_t samples;      /* collectives compared */
};

struct pt_clock_align {
    struct pt_clock_host *hosts; /* as many as the run has, in the order of their first files */
    int n_hosts, hosts_cap;
    int *host_of_file;     /* per file, index into hosts */
    size_t n_files;
};

/* Reads the files and estimates every host's offset. Returns 0 or -1 (out of memory). */
int pt_clock_align_run(char **paths, size_t n, struct pt_clock_align *a);
void pt_clock_align_free(struct pt_clock_align *a);

#endif
