/* Return addresses → "function+0xoff (object)", from the MODULE records of a trace and the ELF
 * symbol tables of the objects, when they are present on the reading machine; else
 * "object+0xoffset", which stays exact for later symbolisation elsewhere. */
#ifndef PT_SYMBOLIZE_H
#define PT_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

struct pt_symbolizer;

struct pt_symbolizer *pt_symbolizer_new(void);
void pt_symbolizer_free(struct pt_symbolizer *s);

/* Learns a loaded object (a MODULE record). */
void pt_symbolizer_add_module(struct pt_symbolizer *s, const struct pt_rec_module *m);

/* Writes the description of pc into out (always NUL-terminated). */
void pt_symbolize(struct pt_symbolizer *s, uint64_t pc, char *out, size_t cap);

#endif
