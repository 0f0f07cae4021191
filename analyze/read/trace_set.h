/* The trace files named on a command line: a file, or a run directory holding *.ptrace files. */
#ifndef PT_TRACE_SET_H
#define PT_TRACE_SET_H

#include <stddef.h>

struct pt_trace_set {
    char **paths;      /* sorted by name; each a regular file with a trace header */
    size_t count;
    size_t skipped;    /* entries named *.ptrace that are no trace: empty, cut in the header,
                        * a directory, FIFO, device or dangling link (pt_reader_probe) */
    char warning[640]; /* one line about the skipped entries, "" when none */
};

/* Fills set from path: that file, or a directory's *.ptrace entries that pt_reader_probe takes
 * (never opening a FIFO or device for long, never following a dangling link). The others are
 * counted in one warning line, whatever their number. Returns 0, or -1 with a message in err
 * (missing, a bad file named alone, a directory with no readable trace...). */
int pt_trace_set_open(const char *path, struct pt_trace_set *set, char *err, size_t errlen);
void pt_trace_set_free(struct pt_trace_set *set);

#endif
