/* Mutexes held with every signal blocked on the holding thread. The fork hooks take these locks,
 * and an application may fork (or call NCCL) from a signal handler: if that handler could run
 * on a thread that holds one, it would wait for itself forever. Blocking costs two system calls,
 * so these guard only what happens rarely: a communicator made or destroyed, a thread's first
 * event, a ring handed back. */
#ifndef PT_SIGNAL_SAFE_LOCK_H
#define PT_SIGNAL_SAFE_LOCK_H

#include <pthread.h>
#include <signal.h>

static inline void pt_lock_signals_blocked(pthread_mutex_t *m, sigset_t *saved)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, saved);
    pthread_mutex_lock(m);
}

static inline void pt_unlock_signals_restored(pthread_mutex_t *m, const sigset_t *saved)
{
    pthread_mutex_unlock(m);
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

#endif
