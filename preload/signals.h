/* Termination signals (SIGTERM, SIGINT). Once recording has started, our handler sits in front
 * of the application's: it flushes, then runs the application's handler, or performs the
 * default action so the exit status stays what it would have been. The application's
 * signal()/sigaction() calls for these signals are recorded and answered as if it owned them. */
#ifndef PT_SIGNALS_H
#define PT_SIGNALS_H

/* Installs our handler in front (first event of the process). */
void pt_signals_take_over(void);

#endif
