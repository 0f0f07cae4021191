/* Call stacks of selected events (PARTRACE_STACKS): 0 none (default); 1 communicator creations
 * and GPU memory the application maps (cuMemCreate); all: also every NCCL call. Unwound with the
 * compiler runtime's unwinder (libgcc, linked in statically), written as raw return addresses;
 * the writer adds the loaded objects whenever they change, and the reader symbolises. */
#ifndef PT_STACKS_H
#define PT_STACKS_H

#include <stddef.h>
#include <stdint.h>

extern int pt_stacks_level; /* 0, 1, 2 (all) */

/* Constructor time: reads PARTRACE_STACKS. */
void pt_stacks_config(void);

/* Writes a STACK record for the record of kind ref_kind identified by ref, from the caller's
 * caller on (the wrapper frames are skipped). */
void pt_stack_emit(uint16_t ref_kind, uint64_t ref);

/* Leading frames inside the object that holds addr are skipped too (CUPTI and the CUDA driver
 * stand between an allocation and the application code that asked for it). */
void pt_stacks_skip_object(const void *addr);

/* Writer thread: MODULE records through put when objects were loaded or unloaded since. */
void pt_modules_collect(void (*put)(const void *rec, size_t bytes, void *arg), void *arg);

/* New trace file (fork child): the modules must be written again. */
void pt_modules_forget(void);

#endif
