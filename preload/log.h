/* Messages of the preload library. Quiet by default: warnings (bad settings, lost data) are
 * printed, informational lines only with PARTRACE_VERBOSE=1. Every line starts "partrace[pid]:". */
#ifndef PT_LOG_H
#define PT_LOG_H

__attribute__((format(printf, 1, 2))) void pt_warn(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void pt_info(const char *fmt, ...);
/* Async-signal-safe: writes a fixed string, no formatting. */
void pt_warn_raw(const char *msg);

#endif
