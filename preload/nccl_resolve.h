/* Finds the real NCCL functions behind our wrappers, lazily, at their first call: NCCL may be
 * loaded after us, RTLD_LOCAL (Python loads torch so, and dlsym(RTLD_NEXT) then finds nothing),
 * or under another name. Prefers the strong pnccl* aliases, so our own wrappers are never hit.
 * Only one NCCL library is traced: the first one found ("primary"); lookups on another one
 * are handed its real functions, untraced, with one warning. */
#ifndef PT_NCCL_RESOLVE_H
#define PT_NCCL_RESOLVE_H

#include <stdatomic.h>

#include "preload/nccl_syms.h"

extern _Atomic(void *) pt_nccl_real_slot[PT_SYM_COUNT];

/* The real function, or NULL when no loaded NCCL has it. */
void *pt_nccl_resolve(enum pt_nccl_sym s);

static inline void *pt_nccl_real(enum pt_nccl_sym s)
{
    void *p = atomic_load_explicit(&pt_nccl_real_slot[s], memory_order_acquire);
    return p ? p : pt_nccl_resolve(s);
}

/* dlsym hook: `real` is what glibc found for `name` (starting "nccl"). Returns our wrapper when
 * we wrap that name and `real` belongs to the primary NCCL, else `real`. */
void *pt_nccl_offer(const char *name, void *real);

/* The result a wrapper returns when the real function is missing (warns once per symbol). */
int pt_nccl_missing(enum pt_nccl_sym s);

#endif
