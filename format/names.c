#include "format/names.h"

#include <stddef.h>

#include <partrace/format.h>

const char *pt_kind_name(uint16_t kind)
{
    switch (kind) {
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit) \
    case val:                      \
        return label;
        PT_REC_KINDS(PT_X)
#undef PT_X
    }
    return "unknown";
}

const char *pt_op_name(uint16_t op)
{
    switch (op) {
#define PT_X(name, val, fam, busbw, bytes) \
    case val:                \
        return #name;
        PT_NCCL_OPS(PT_X)
#undef PT_X
    }
    return "unknown";
}

const char *pt_dtype_name(uint8_t dtype)
{
    static const char *const names[] = {"int8",    "uint8",   "int32",    "uint32",
                                        "int64",   "uint64",  "float16",  "float32",
                                        "float64", "bfloat16", "float8e4m3", "float8e5m2"};
    if (dtype == PT_NO_DTYPE)
        return "none";
    return dtype < sizeof names / sizeof *names ? names[dtype] : "unknown";
}

const char *pt_redop_name(uint8_t redop)
{
    static const char *const names[] = {"sum", "prod", "max", "min", "avg"};
    if (redop == PT_NO_REDOP)
        return "none";
    if (redop == PT_CUSTOM_REDOP)
        return "custom";
    return redop < sizeof names / sizeof *names ? names[redop] : "unknown";
}

const char *pt_attr_name(uint32_t attr)
{
    switch (attr) {
#define PT_X(name, val, label) \
    case val:                  \
        return label;
        PT_ATTRS(PT_X)
#undef PT_X
    }
    return "unknown";
}

const char *pt_comm_how_name(uint16_t how)
{
    switch (how) {
#define PT_X(name, val) \
    case val:           \
        return #name;
        PT_COMM_HOWS(PT_X)
#undef PT_X
    }
    return "unknown";
}

const char *pt_flush_reason_name(uint32_t reason)
{
    switch (reason) {
#define PT_X(name, val) \
    case val:           \
        return #name;
        PT_FLUSH_REASONS(PT_X)
#undef PT_X
    }
    return "unknown";
}

const char *pt_end_how_name(uint32_t how)
{
    switch (how) {
    case PT_END_EXIT:
        return "exit";
    case PT_END_UNDERSCORE_EXIT:
        return "_exit";
    case PT_END_SIGNAL:
        return "fatal signal";
    }
    return "unknown";
}

/* Looks a code up in a table of names; "unknown" past its end. */
static const char *name_of(const char *const *names, size_t n, unsigned code)
{
    return code < n && names[code] ? names[code] : "unknown";
}
#define NAME_OF(table, code) name_of(table, sizeof table / sizeof *table, (unsigned)(code))

const char *pt_copy_kind_name(uint8_t kind)
{
    static const char *const names[] = {"unknown", "HtoD", "DtoH", "HtoA", "AtoH", "AtoA",
                                        "AtoD",    "DtoA", "DtoD", "HtoH", "PtoP"};
    return NAME_OF(names, kind);
}

const char *pt_memory_kind_name(uint8_t kind)
{
    static const char *const names[] = {"unknown", "pageable", "pinned", "device",
                                        "array",   "managed",  "device_static", "managed_static"};
    return NAME_OF(names, kind);
}

const char *pt_sync_type_name(uint32_t type)
{
    static const char *const names[] = {"unknown", "event_synchronize", "stream_wait_event",
                                        "stream_synchronize", "context_synchronize"};
    return NAME_OF(names, type);
}

const char *pt_pool_type_name(uint8_t type)
{
    static const char *const names[] = {"none", "local", "imported", "vmm"};
    return NAME_OF(names, type);
}

const char *pt_nvtx_event_name(uint16_t event)
{
    static const char *const names[] = {NULL, "push", "pop", "start", "end", "mark"};
    return NAME_OF(names, event);
}

const char *pt_cuda_state_name(uint32_t state)
{
    static const char *const names[] = {NULL, "active", "no CUPTI library",
                                        "CUPTI held by another tool", "CUPTI error"};
    return NAME_OF(names, state);
}

const char *pt_cuda_level_name(uint32_t level)
{
    static const char *const names[] = {"off", "kernels", "launches"};
    return NAME_OF(names, level);
}

const char *pt_metric_type_name(uint8_t type)
{
    static const char *const names[] = {"untyped", "counter", "gauge", "histogram", "summary"};
    return type < sizeof names / sizeof *names ? names[type] : "unknown";
}
