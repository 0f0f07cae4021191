/* What the report's text and Markdown outputs share. */
#ifndef PT_REPORT_PRINT_H
#define PT_REPORT_PRINT_H

#include <stdio.h>

#include "analyses/report_build.h"

/* The seed metrics on one line (GPU busy, exposed communication, serving metrics when known),
 * after prefix. */
void pt_report_print_seed(FILE *out, const struct pt_report *rep, const char *prefix);

#endif
