/* One record as the dump prints it. */
#ifndef PT_DUMP_RECORDS_H
#define PT_DUMP_RECORDS_H

#include <stdint.h>
#include <stdio.h>

#include "read/trace_context.h"

/* Prints record h of process pid as one line on out: text, or JSON (json != 0), kernel names
 * demangled unless mangled. ctx is what its file taught so far (names, stacks' symbols, kernels'
 * calls). */
void pt_dump_record(FILE *out, const struct pt_rec_hdr *h, uint32_t pid, const struct pt_trace_ctx *ctx, int json,
                    int mangled);
/* Every record of trace file path, in file order, as pt_dump_record prints them. Returns 0; 1
 * when its tail is cut short or damaged, after its readable part (the reader's warning in err,
 * *damaged set for damage, not for a cut); -1 when it cannot be opened (the reason in err). */
int pt_dump_file(FILE *out, const char *path, int json, int mangled, int *damaged, char *err, size_t errlen);

#endif
