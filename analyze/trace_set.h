/* The trace files named on a command line: a file, or a run directory holding *.ptrace files. */
#ifndef PT_TRACE_SET_H
#define PT_TRACE_SET_H

#include <stddef.h>

struct pt_trace_set {
    char **paths; /* sorted by name */
    size_t count;
};

/* Fills set from path. Returns 0, or -1 with a message in err (missing, empty directory...). */
int pt_trace_set_open(const char *path, struct pt_trace_set *set, char *err, size_t errlen);
void pt_trace_set_free(struct pt_trace_set *set);

#endif
