/* libpartrace_reader.so: the reader for other languages (the Python module, python/), a few
 * calls that hand back what `partrace dump --json` and `partrace report --json` print, as text in
 * memory, so that no other language carries a second decoder of the format. */
#ifndef PT_READER_API_H
#define PT_READER_API_H

#include <stddef.h>

/* Every record of a run (a trace file or a run directory), one JSON object a line, as `partrace
 * dump --json [--mangled]` prints them. NULL with a message in err when the run cannot be read;
 * the text is the caller's to free with pt_api_free. *len: its length. */
char *pt_api_records_json(const char *path, int mangled, size_t *len, char *err, size_t errlen);
/* The run's report, as `partrace report --json` prints it. NULL with a message in err. */
char *pt_api_report_json(const char *path, char *err, size_t errlen);
void pt_api_free(char *text);
/* "partrace 0.1.0, trace format 3.1" */
const char *pt_api_version(void);

#endif
