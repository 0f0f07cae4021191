/* Every setting of libpartrace.so, read once from PARTRACE_* variables when the library loads
 * (the constructor): one table, which docs/CONFIG.md lists and a test checks against it.
 * A bad value gets one warning line on stderr and the default. */
#ifndef PT_CONFIG_H
#define PT_CONFIG_H

#include <limits.h>
#include <stdint.h>

/* X(field, VARIABLE, type, default, lo, hi, choices), by type:
 *   INT     a whole number in lo..hi
 *   BOOL    1/0, true/false, yes/no, on/off
 *   CHOICE  one of the '|'-separated choices; the field holds its index (default: an index);
 *           empty is the default
 *   TEXT    a path or list, up to PATH_MAX - 1 bytes; empty when unset */
#define PT_SETTINGS(X)                                                                          \
    X(dir,              "PARTRACE_DIR",              TEXT,   0,    0, 0,     "")                   \
    X(disabled,         "PARTRACE_DISABLE",          BOOL,   0,    0, 1,     "")                   \
    X(flush_ms,         "PARTRACE_FLUSH_MS",         INT,    100,  1, 60000, "")                   \
    X(buffer_mb,        "PARTRACE_BUFFER_MB",        INT,    64,   1, 65536, "")                   \
    X(thread_buffer_kb, "PARTRACE_THREAD_BUFFER_KB", INT,    512,  64, 65536, "")                  \
    X(zstd_level,       "PARTRACE_ZSTD_LEVEL",       INT,    3,    1, 19,    "")                   \
    X(exit_wait_ms,     "PARTRACE_EXIT_WAIT_MS",     INT,    2000, 0, 60000, "")                   \
    X(clock,            "PARTRACE_CLOCK",            CHOICE, 0,    0, 0,     "auto|tsc|monotonic") \
    X(nccl_lib,         "PARTRACE_NCCL_LIB",         TEXT,   0,    0, 0,     "")                   \
    X(verbose,          "PARTRACE_VERBOSE",          BOOL,   0,    0, 1,     "")                   \
    X(cuda,             "PARTRACE_CUDA",             CHOICE, 1,    0, 0,     "off|kernels|launches") \
    X(cuda_records,     "PARTRACE_CUDA_RECORDS",     TEXT,   0,    0, 0,     "")                   \
    X(cuda_tie,         "PARTRACE_CUDA_TIE",         CHOICE, 0,    0, 0,     "callback|none")      \
    X(cuda_capture,     "PARTRACE_CUDA_CAPTURE",     CHOICE, 0,    0, 0,     "all|profiler")       \
    X(stacks,           "PARTRACE_STACKS",           CHOICE, 0,    0, 0,     "0|1|all")            \
    X(cuda_buffer_mb,   "PARTRACE_CUDA_BUFFER_MB",   INT,    32,   8, 1024,  "")                   \
    X(cupti_lib,        "PARTRACE_CUPTI_LIB",        TEXT,   0,    0, 0,     "")                   \
    X(metrics_url,      "PARTRACE_METRICS_URL",      TEXT,   0,    0, 0,     "")                   \
    X(metrics_interval_ms, "PARTRACE_METRICS_INTERVAL_MS", INT, 1000, 100, 3600000, "")

/* The choices' indices, as the CHOICE fields hold them. */
enum { PT_CLOCK_AUTO, PT_CLOCK_TSC, PT_CLOCK_MONOTONIC };
enum { PT_CUDA_OFF, PT_CUDA_KERNELS, PT_CUDA_LAUNCHES };
enum { PT_CUDA_TIE_CALLBACK, PT_CUDA_TIE_NONE };
enum { PT_CUDA_CAPTURE_ALL, PT_CUDA_CAPTURE_PROFILER };

#define PT_SETTING_FIELD_INT(f) long f;
#define PT_SETTING_FIELD_BOOL(f) int f;
#define PT_SETTING_FIELD_CHOICE(f) int f;
#define PT_SETTING_FIELD_TEXT(f) char f[PATH_MAX];
struct pt_config {
#define PT_X(field, var, type, def, lo, hi, choices) PT_SETTING_FIELD_##type(field)
    PT_SETTINGS(PT_X)
#undef PT_X
};

extern struct pt_config pt_cfg;

/* Reads the environment into pt_cfg. Called once from the library constructor. */
void pt_config_load(void);

/* Parsers of the INT and BOOL types; return 0 and set *out, or -1 on a bad value. */
int pt_parse_long(const char *s, long lo, long hi, long *out);
int pt_parse_bool(const char *s, int *out);

#endif
