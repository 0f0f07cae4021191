/* The process attributes written at the top of a trace: command line, executable and the
 * launcher variables of a fixed whitelist (never the whole environment: it holds secrets). */
#ifndef PT_ATTRS_H
#define PT_ATTRS_H

#include <stddef.h>

/* Builds ATTR records into a static buffer (no allocation: a fork child calls it too) and
 * returns it, size in *bytes. Not reentrant: called once per process image by the starter. */
const char *pt_attrs_collect(size_t *bytes);

/* The whitelist, NULL-terminated; also printed by `partrace info`'s documentation. */
extern const char *const pt_env_whitelist[];

#endif
