/* The trace file's descriptor, which the application must never get to share. It lives at a
 * high number (F_DUPFD_CLOEXEC), away from the low numbers that open() hands the application,
 * and its identity (device, inode) is checked before every write: an application that closed it
 * (daemons close every descriptor) or dup2'ed its own file over it has taken that number, so we
 * open our file again by its path, never touching the number the application now owns. Writer
 * thread only (and the fork child's handler). */
#ifndef PT_TRACE_FD_H
#define PT_TRACE_FD_H

#include <limits.h>
#include <sys/types.h>

struct pt_trace_fd {
    int fd;                /* -1: none */
    dev_t dev;
    ino_t ino;
    char path[PATH_MAX];
    unsigned reopened;     /* times the application took the descriptor and we opened again */
};

/* Creates path (O_EXCL, O_NOFOLLOW, mode 0640) for appending. Returns 0, or -1 with errno. */
int pt_trace_fd_create(struct pt_trace_fd *t, const char *path);

/* Makes sure t->fd is still our file before a write: opens it again by path when the number
 * was taken. Returns 0, or -1 when our file is gone (deleted or replaced: stop writing). */
int pt_trace_fd_check(struct pt_trace_fd *t);

/* Closes the descriptor if it is still ours; forgets it either way. */
void pt_trace_fd_close(struct pt_trace_fd *t);

#endif
