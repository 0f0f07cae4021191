/* Settings of the preload library, read once from PARTRACE_* variables at load.
 * A bad value gets one warning line on stderr and the default. docs/CONFIG.md lists them. */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include <limits.h>
#include <stdint.h>

/* X(field, VARIABLE, default, min, max) for integer settings. */
#define PT_INT_SETTINGS(X)                                            \
    X(flush_ms, "PARTRACE_FLUSH_MS", 100, 1, 60000)                   \
    X(buffer_mb, "PARTRACE_BUFFER_MB", 64, 1, 65536)                  \
    X(thread_buffer_kb, "PARTRACE_THREAD_BUFFER_KB", 512, 64, 65536)  \
    X(zstd_level, "PARTRACE_ZSTD_LEVEL", 3, 1, 19)                    \
    X(exit_wait_ms, "PARTRACE_EXIT_WAIT_MS", 2000, 0, 60000)         \
    X(cuda_buffer_mb, "PARTRACE_CUDA_BUFFER_MB", 32, 8, 1024)

/* X(field, VARIABLE, default) for on/off settings. */
#define PT_BOOL_SETTINGS(X)                  \
    X(disabled, "PARTRACE_DISABLE", 0)       \
    X(verbose, "PARTRACE_VERBOSE", 0)

struct pt_config {
#define PT_X(field, var, def, lo, hi) long field;
    PT_INT_SETTINGS(PT_X)
#undef PT_X
#define PT_X(field, var, def) int field;
    PT_BOOL_SETTINGS(PT_X)
#undef PT_X
    char dir[PATH_MAX];       /* run directory; see pt_config_run_dir() */
    char nccl_lib[PATH_MAX];  /* PARTRACE_NCCL_LIB: a NCCL library to look for first */
};

extern struct pt_config pt_cfg;

/* Reads the environment into pt_cfg. Called once from the library constructor. */
void pt_config_load(void);

/* Parsers shared with the CLI's checks; return 0 and set *out, or -1 on a bad value. */
int pt_parse_long(const char *s, long lo, long hi, long *out);
int pt_parse_bool(const char *s, int *out);

#endif
