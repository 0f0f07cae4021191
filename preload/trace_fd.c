#include "preload/trace_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lowest number our descriptor may take: half the soft limit, at most 1024 (a larger number
 * would only grow the kernel's table of descriptors). */
static int high_floor(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 2048)
        return 1024;
    return rl.rlim_cur / 2 > 3 ? (int)(rl.rlim_cur / 2) : 3;
}

/* Moves fd to a high number; keeps it where it is when none is free. */
static int move_high(int fd)
{
    int high = fcntl(fd, F_DUPFD_CLOEXEC, high_floor());
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

static int same_file(int fd, const struct pt_trace_fd *t)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino;
}

int pt_trace_fd_create(struct pt_trace_fd *t, const char *path)
{
    t->fd = -1;
    t->reopened = 0;
    size_t n = strlen(path);
    if (n >= sizeof t->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    memcpy(t->path, path, n + 1);
    t->dev = st.st_dev;
    t->ino = st.st_ino;
    t->fd = move_high(fd);
    return 0;
}

int pt_trace_fd_check(struct pt_trace_fd *t)
{
    if (t->fd < 0)
        return -1;
    if (same_file(t->fd, t))
        return 0;
    /* The number is the application's now: leave it alone and open our file again. */
    t->fd = -1;
    int fd = open(t->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (!same_file(fd, t)) {
        close(fd); /* another file by our name: not ours to write */
        errno = ESTALE;
        return -1;
    }
    t->fd = move_high(fd);
    t->reopened++;
    return 0;
}

void pt_trace_fd_close(struct pt_trace_fd *t)
{
    if (same_file(t->fd, t))
        close(t->fd);
    t->fd = -1;
}
