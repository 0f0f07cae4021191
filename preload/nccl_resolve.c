#include "preload/nccl_resolve.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include <nccl.h>

#include "preload/config.h"
#include "preload/libc_real.h"
#include "preload/log.h"

_Atomic(void *) pt_nccl_real_slot[PT_SYM_COUNT];

static const char *const sym_names[PT_SYM_COUNT] = {
#define PT_X(name) #name,
    PT_NCCL_SYMS(PT_X)
#undef PT_X
};

/* Our own wrappers (bound inside this library by -Bsymbolic), for the dlsym hook. */
static void *const wrappers[PT_SYM_COUNT] = {
#define PT_X(name) (void *)nccl##name,
    PT_NCCL_SYMS(PT_X)
#undef PT_X
};

/* No lock is held around dl* calls (the loader has its own lock, and a constructor running
 * under it may call NCCL): lookups are idempotent, and the primary is set once by CAS. */
static void *_Atomic primary_handle;  /* dlopen handle of the traced NCCL */
static void *_Atomic primary_base;    /* its load address */
static _Atomic int warned_second, warned_missing[PT_SYM_COUNT];

/* Threads may race to fill the cache; each computes the same address, so a relaxed atomic
 * store is enough (a plain static was a data race that TSan reported). */
static void *own_base(void)
{
    static void *_Atomic base;
    void *b = atomic_load_explicit(&base, memory_order_relaxed);
    if (!b) {
        Dl_info info;
        if (dladdr((void *)own_base, &info)) {
            b = info.dli_fbase;
            atomic_store_explicit(&base, b, memory_order_relaxed);
        }
    }
    return b;
}

static void *base_of(void *fn)
{
    Dl_info info;
    return dladdr(fn, &info) ? info.dli_fbase : NULL;
}

/* Looks `name` up in one library: the strong pnccl alias first, then the nccl name. */
static void *lookup_in(void *handle, enum pt_nccl_sym s)
{
    char sym[64];
    strcpy(sym, "pnccl");
    strcat(sym, sym_names[s]);
    void *p = pt_real_dlsym(handle, sym);
    if (!p || base_of(p) == own_base()) {
        p = pt_real_dlsym(handle, sym + 1);
        if (p && base_of(p) == own_base())
            p = NULL;
    }
    return p;
}

/* Makes the library that holds fn the primary NCCL, if there is none yet. */
static void adopt_primary(void *fn)
{
    Dl_info info;
    if (atomic_load(&primary_base) || !dladdr(fn, &info))
        return;
    void *h = info.dli_fname ? dlopen(info.dli_fname, RTLD_NOLOAD | RTLD_LAZY) : NULL;
    if (!h)
        return;
    void *expected = NULL;
    if (!atomic_compare_exchange_strong(&primary_base, &expected, info.dli_fbase)) {
        dlclose(h);
        return;
    }
    atomic_store(&primary_handle, h);
    pt_info("tracing NCCL from %s", info.dli_fname);
}

struct scan {
    char path[PATH_MAX];
};

static int find_loaded_nccl(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct scan *s = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strncmp(base, "libnccl", 7) == 0 && strlen(name) < sizeof s->path) {
        strcpy(s->path, name);
        return 1;
    }
    return 0;
}

/* Finds a NCCL that is loaded but not visible to RTLD_NEXT. Never loads one. */
static void *find_nccl_handle(void)
{
    const char *candidates[] = {pt_cfg.nccl_lib, getenv("VLLM_NCCL_SO_PATH"),
                                getenv("SGLANG_NCCL_SO_PATH"), "libnccl.so.2", "libnccl.so"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        void *h = dlopen(candidates[i], RTLD_NOLOAD | RTLD_LAZY);
        if (h)
            return h;
    }
    struct scan s = {{0}};
    if (dl_iterate_phdr(find_loaded_nccl, &s))
        return dlopen(s.path, RTLD_NOLOAD | RTLD_LAZY);
    return NULL;
}

void *pt_nccl_resolve(enum pt_nccl_sym s)
{
    void *p = NULL, *primary = atomic_load(&primary_handle);
    if (primary) {
        p = lookup_in(primary, s);
    } else {
        p = lookup_in(RTLD_NEXT, s);
        if (!p) {
            void *h = find_nccl_handle();
            if (h) {
                p = lookup_in(h, s);
                dlclose(h); /* drops the reference NOLOAD took; adopt_primary takes its own */
            }
        }
        if (p)
            adopt_primary(p);
    }
    if (p)
        atomic_store_explicit(&pt_nccl_real_slot[s], p, memory_order_release);
    return p;
}

void *pt_nccl_offer(const char *name, void *real)
{
    int s = -1;
    for (int i = 0; i < PT_SYM_COUNT; i++)
        if (strcmp(name + 4, sym_names[i]) == 0) {
            s = i;
            break;
        }
    void *base = base_of(real);
    if (s < 0 || base == own_base())
        return real;
    adopt_primary(real);
    int same = atomic_load(&primary_base) == base;
    if (!same) {
        if (!atomic_exchange(&warned_second, 1))
            pt_warn("a second NCCL library is in use (lookup of %s); its calls are not traced", name);
        return real;
    }
    if (!atomic_load(&pt_nccl_real_slot[s]))
        pt_nccl_resolve((enum pt_nccl_sym)s);
    return atomic_load(&pt_nccl_real_slot[s]) ? wrappers[s] : real;
}

int pt_nccl_missing(enum pt_nccl_sym s)
{
    if (!atomic_exchange(&warned_missing[s], 1))
        pt_warn("nccl%s called, but no loaded NCCL library provides it; returning ncclSystemError",
                sym_names[s]);
    return ncclSystemError;
}
