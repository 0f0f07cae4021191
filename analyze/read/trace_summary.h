/* One pass over a trace file that totals what `info` and `record` print. */
#ifndef PT_TRACE_SUMMARY_H
#define PT_TRACE_SUMMARY_H

#include <stdint.h>

#include <partrace/format.h>

#include "read/trace_reader.h"

#define PT_SUMMARY_MAX_COMMS 64

struct pt_trace_summary {
    struct pt_file_header header;
    struct pt_reader_stats stats;
    char warning[512];                  /* empty when the file read cleanly */
    uint64_t by_kind[PT_REC_KIND_LIMIT];
    uint64_t by_op[PT_OP_LIMIT];
    uint64_t t_first_ns, t_last_ns;     /* span of event timestamps; 0 when none */
    uint64_t dropped;                   /* from the end record, else the last flush record */
    int has_end;
    uint32_t end_how;
    uint32_t last_flush_reason;         /* 0 when no flush record */
    uint32_t threads;
    struct pt_rec_comm_init comms[PT_SUMMARY_MAX_COMMS];
    uint32_t n_comms, comms_omitted;
    struct pt_rec_gpu gpus[16];
    uint32_t n_gpus;
    struct pt_rec_cuda_status cuda;     /* last status; state 0 when none was written */
    uint64_t nccl_kernels;              /* kernels whose name says NCCL */
    uint64_t nccl_kernels_tied;         /* ... of them tied to their NCCL call */
    uint64_t gpu_first_ns, gpu_last_ns; /* span of kernels and copies */
    uint64_t capture_ranges;            /* PT_CAPTURE_RANGE_NAME ranges (PARTRACE_CUDA_CAPTURE) */
    /* Memory in use from allocation records: device memory per GPU ordinal, pinned host. */
    int64_t device_in_use[16], device_peak[16];
    int64_t pinned_in_use, pinned_peak;
};

/* Reads the whole file. Returns 0, or -1 with a message in err when it cannot be opened. */
int pt_trace_summarize(const char *path, struct pt_trace_summary *s, char *err, size_t errlen);

#endif
