/* `partrace export --chrome`: a run as Chrome Trace Event JSON, with the fields Kineto-based
 * tools (PyTorch profiler traces, HolisticTraceAnalysis) read: complete events ("X") with pid per
 * rank and tid per CUDA stream or host thread, categories kernel / gpu_memcpy / gpu_memset /
 * cpu_op (NCCL calls) / user_annotation (NVTX ranges), args with device, stream and correlation,
 * and a top-level distributedInfo with rank and world size. */
#ifndef PT_EXPORT_CHROME_H
#define PT_EXPORT_CHROME_H

#include "outputs/export_perfetto.h"

/* Returns 0, 1 when the run could not be read or the output not written, 2 for a bad --ranks. */
int pt_export_chrome(const struct pt_export_opts *o, struct pt_export_stats *st);

#endif
