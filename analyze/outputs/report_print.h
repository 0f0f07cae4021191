/* What the report's text, Markdown and HTML outputs share. */
#ifndef PT_REPORT_PRINT_H
#define PT_REPORT_PRINT_H

#include <stdio.h>

#include "analyses/report_build.h"

/* The seed metrics on one line (GPU busy, exposed communication, serving metrics when known),
 * after prefix. */
void pt_report_print_seed(FILE *out, const struct pt_report *rep, const char *prefix);

/* A collectives row's cells that may be unknown or marked: its size and bandwidths ("-" for
 * kernels outside NCCL, whose size is unknown) and its ranks ("N of M", "(incomplete)" added
 * when its communicator lacks a rank in the run, `lacks` then set). */
struct pt_row_cells {
    char bytes[24], algbw[24], busbw[24], ranks[48];
    int lacks;
};
void pt_report_row_cells(const struct pt_report_row *w, struct pt_row_cells *out);

#endif
