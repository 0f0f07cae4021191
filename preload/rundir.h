/* Where the trace files of a job go. All processes of one job share one run directory:
 * PARTRACE_DIR when set; else one derived from the launcher (SLURM job and step, torchelastic
 * run id); else one named after the first traced process, exported as PARTRACE_DIR so that
 * every descendant lands beside it. A relative PARTRACE_DIR is made absolute and exported. */
#ifndef PT_RUNDIR_H
#define PT_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Decides the run directory (constructor time; may setenv PARTRACE_DIR). */
void pt_run_dir_init(void);

/* Copies the run directory into out. Returns 0, or -1 when it does not fit. */
int pt_run_dir(char *out, size_t cap);

/* mkdir -p with mode for the directories it creates. Returns 0 or -1 (errno set). */
int pt_mkdirs(const char *path, mode_t mode);

/* A run directory others could tamper with: a symbolic link; a path through a symbolic link
 * that neither we nor root own; a directory of another user (root excepted), or one writable by
 * others without the sticky bit. Components not made yet are not judged (we make them).
 * Returns 1 with the reason in why, else 0. */
int pt_run_dir_unsafe(const char *dir, char *why, size_t cap);

#endif
