#include "preload/signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <partrace/format.h>

#include "preload/export.h"
#include "preload/libc_real.h"
#include "preload/runtime.h"

static const int handled[] = {SIGTERM, SIGINT};
#define N_HANDLED (sizeof handled / sizeof *handled)

/* What the application believes is installed, exactly as the kernel reports it (flags such as
 * SA_RESTORER included), so that a query answers the same traced and plain. */
static struct sigaction app_action[N_HANDLED];
static _Atomic int in_front;                   /* our handler is installed */
/* This thread is inside our flush: a signal nested in it (the application asked for SA_NODEFER)
 * goes straight to the application's handler. */
static __thread int flushing __attribute__((tls_model("initial-exec")));

static int slot_of(int sig)
{
    for (unsigned i = 0; i < N_HANDLED; i++)
        if (handled[i] == sig)
            return (int)i;
    return -1;
}

static void on_signal(int sig, siginfo_t *info, void *uctx);

/* Our handler in place of the application's action `app`, with its mask and flags (SA_NODEFER
 * too: an application that longjmps out of its handler relies on the signal not staying
 * blocked), or SIG_IGN as it asked. SA_RESETHAND is done by us, after our flush. */
static struct sigaction ours_for(const struct sigaction *app)
{
    struct sigaction ours = *app;
    if (ours.sa_handler == SIG_IGN)
        return ours;
    ours.sa_sigaction = on_signal;
    ours.sa_flags = (ours.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    return ours;
}

static int install(int i)
{
    struct sigaction ours = ours_for(&app_action[i]);
    return pt_real_sigaction(handled[i], &ours, NULL);
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    int i = slot_of(sig);
    struct sigaction app = app_action[i];
    if (app.sa_handler == SIG_DFL) {
        /* The default action ends the process: write everything and the end record, then let
         * the signal do what it would have done. It stays blocked until we return. */
        pt_runtime_sync(PT_FLUSH_SIGNAL, 1, PT_END_SIGNAL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        pt_real_sigaction(sig, &dfl, NULL);
        atomic_store(&in_front, 0);
        raise(sig);
        errno = saved;
        return;
    }
    if (!flushing) {
        flushing = 1;
        pt_runtime_sync(PT_FLUSH_SIGNAL, 0, 0);
        flushing = 0;
    }
    if (app.sa_flags & SA_RESETHAND) {
        memset(&app_action[i], 0, sizeof app_action[i]);
        app_action[i].sa_handler = SIG_DFL;
        install(i);
    }
    errno = saved;
    if (app.sa_handler == SIG_IGN)
        return;
    if (app.sa_flags & SA_SIGINFO)
        app.sa_sigaction(sig, info, uctx);
    else
        app.sa_handler(sig);
}

void pt_signals_take_over(void)
{
    for (unsigned i = 0; i < N_HANDLED; i++) {
        if (pt_real_sigaction(handled[i], NULL, &app_action[i]) != 0)
            return;
    }
    atomic_store(&in_front, 1);
    for (unsigned i = 0; i < N_HANDLED; i++)
        install((int)i);
}

PT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int i = slot_of(sig);
    if (i < 0 || !atomic_load(&in_front))
        return pt_real_sigaction(sig, act, old);
    struct sigaction prev = app_action[i];
    if (act) {
        /* The kernel's view of the application's action is learnt by installing it, then ours
         * in its place (in between, a signal reaches the application's handler directly, as
         * it would untraced). */
        struct sigaction view, ours = ours_for(act);
        if (pt_real_sigaction(sig, act, NULL) != 0)
            return -1;
        if (pt_real_sigaction(sig, &ours, &view) != 0)
            view = *act;
        app_action[i] = view;
    }
    if (old)
        *old = prev;
    return 0;
}

PT_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    if (slot_of(sig) < 0 || !atomic_load(&in_front))
        return pt_real_signal(sig, handler);
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}
