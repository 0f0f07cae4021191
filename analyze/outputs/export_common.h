/* What `partrace export --perfetto` and `--chrome` share: which files of a run to export (the
 * --ranks selection) and the creation of the output file. */
#ifndef PT_EXPORT_COMMON_H
#define PT_EXPORT_COMMON_H

#include <stddef.h>
#include <stdint.h>

struct pt_report;

/* keep[i] (one per file of r) is 1 when file i is exported: every file without a selection, else
 * the files of the ranks in spec ("0,2-3"). Returns 0, or 2 for a bad spec (said on stderr); a
 * spec that matches no rank of the run is said as a warning. */
int pt_export_keep(const struct pt_report *r, const char *spec, uint8_t *keep);

/* Creates path for writing; an existing file only with force. Returns the descriptor, or -1 with
 * the reason in err. */
int pt_export_create(const char *path, int force, char *err, size_t errlen);

/* "rank 3 · TP1 PP0 · node1:4711 · GPU3": the name of file `file`'s process in a built report. */
void pt_export_process_name(const struct pt_report *r, size_t file, char *out, size_t cap);

#endif
