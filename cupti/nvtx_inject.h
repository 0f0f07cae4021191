/* NVTX ranges that partrace itself records (nvtx_inject.c), beside the application's own. */
#ifndef PT_NVTX_INJECT_H
#define PT_NVTX_INJECT_H

#include <stdint.h>

/* A start/end range of the default domain named text (not tied to a thread, as NVTX's
 * nvtxRangeStart/End); returns its id for pt_nvtx_range_end. */
uint64_t pt_nvtx_range_start(const char *text);
void pt_nvtx_range_end(uint64_t id);

#endif
