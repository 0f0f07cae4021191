/* Every setting of the `partrace` commands: environment variables, one table, read once at the
 * first use. docs/CONFIG.md lists them, and a test checks it against this table. A value the
 * table does not know leaves the default (these are knobs, not inputs: no warning). */
#ifndef PT_SETTINGS_H
#define PT_SETTINGS_H

/* X(field, VARIABLE, type, default, choices), by type:
 *   TEXT    the value as set; NULL when unset or empty
 *   CHOICE  the index of the value among the '|'-separated choices, else the default */
#define PT_TOOL_SETTINGS(X)                                                   \
    X(lib,             "PARTRACE_LIB",                   TEXT,   0,  "")      \
    X(comm_kernels,    "PARTRACE_COMM_KERNELS",          TEXT,   0,  "")      \
    X(read_ahead,      "PARTRACE_READ_AHEAD",            CHOICE, -1, "0|1")   \
    X(report_turns,    "PARTRACE_REPORT_TURNS",          CHOICE, 1,  "0|1")   \
    X(generic_packer,  "PARTRACE_EXPORT_GENERIC_PACKER", CHOICE, 0,  "0|1")

#define PT_TOOL_FIELD_TEXT(f) const char *f;
#define PT_TOOL_FIELD_CHOICE(f) int f;
struct pt_tool_settings {
#define PT_X(field, var, type, def, choices) PT_TOOL_FIELD_##type(field)
    PT_TOOL_SETTINGS(PT_X)
#undef PT_X
};

/* The settings, read from the environment at the first call (thread-safe). */
const struct pt_tool_settings *pt_settings(void);

#endif
