/* The C library's own versions of the functions we interpose, resolved lazily and never NULL
 * to the caller: when one cannot be found, the call fails with ENOSYS. */
#ifndef PT_LIBC_REAL_H
#define PT_LIBC_REAL_H

#include <signal.h>
#include <stdatomic.h>

/* glibc's dlsym (not our hook); resolved via dlvsym. Never NULL after the first call. */
void *pt_real_dlsym(void *handle, const char *name);
/* dlsym(RTLD_NEXT, name) as seen from libpartrace.so. */
void *pt_dlsym_next(const char *name);

/* Declares `fn`, the C library's `name` (NULL when it cannot be found), resolved once. */
#define PT_LIBC_REAL(type, name)                             \
    static _Atomic(type) real_##name;                        \
    type fn = atomic_load(&real_##name);                     \
    if (!fn) {                                               \
        fn = (type)pt_dlsym_next(#name);                     \
        atomic_store(&real_##name, fn);                      \
    }

int pt_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
sighandler_t pt_real_signal(int sig, sighandler_t handler);

#endif
