#include "preload/libc_real.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

typedef void *(*dlsym_fn)(void *, const char *);

/* Read by the dlsym trampoline (dlsym_hook.c) without a call. */
__attribute__((visibility("hidden"))) _Atomic(dlsym_fn) pt_dlsym_real_ptr;

static void *dlsym_unavailable(void *h, const char *n)
{
    (void)h;
    (void)n;
    return NULL;
}

/* Also called from the trampoline's slow path, possibly by a sanitizer runtime that is still
 * initialising (it resolves its interceptors with dlsym): so never instrumented. */
__attribute__((visibility("hidden"), no_sanitize("address", "undefined")))
dlsym_fn pt_dlsym_resolve_real(void)
{
    dlsym_fn f = atomic_load(&pt_dlsym_real_ptr);
    if (f)
        return f;
    f = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!f)
        f = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    if (!f)
        f = dlsym_unavailable;
    atomic_store(&pt_dlsym_real_ptr, f);
    return f;
}

void *pt_real_dlsym(void *handle, const char *name)
{
    return pt_dlsym_resolve_real()(handle, name);
}

void *pt_dlsym_next(const char *name)
{
    return pt_dlsym_resolve_real()(RTLD_NEXT, name);
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);

int pt_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    PT_LIBC_REAL(sigaction_fn, sigaction);
    if (!fn)
        return errno = ENOSYS, -1;
    return fn(sig, act, old);
}

sighandler_t pt_real_signal(int sig, sighandler_t handler)
{
    PT_LIBC_REAL(signal_fn, signal);
    if (!fn)
        return errno = ENOSYS, SIG_ERR;
    return fn(sig, handler);
}
