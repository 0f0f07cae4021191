/* exec and _exit end this process image without running destructors: everything buffered is
 * written first. The new image (same pid) starts its own trace file via LD_PRELOAD. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <partrace/format.h>

#include "preload/export.h"
#include "preload/libc_real.h"
#include "preload/runtime.h"

static void before_exec(void)
{
    int saved = errno;
    pt_runtime_sync(PT_FLUSH_EXEC, 0, 0);
    errno = saved;
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
PT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    PT_LIBC_REAL(execve_fn, execve);
    if (!fn)
        return errno = ENOSYS, -1;
    before_exec();
    return fn(path, argv, envp);
}

typedef int (*execv_fn)(const char *, char *const[]);
PT_EXPORT int execv(const char *path, char *const argv[])
{
    PT_LIBC_REAL(execv_fn, execv);
    if (!fn)
        return errno = ENOSYS, -1;
    before_exec();
    return fn(path, argv);
}

PT_EXPORT int execvp(const char *file, char *const argv[])
{
    PT_LIBC_REAL(execv_fn, execvp);
    if (!fn)
        return errno = ENOSYS, -1;
    before_exec();
    return fn(file, argv);
}

PT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    PT_LIBC_REAL(execve_fn, execvpe);
    if (!fn)
        return errno = ENOSYS, -1;
    before_exec();
    return fn(file, argv, envp);
}

typedef int (*fexecve_fn)(int, char *const[], char *const[]);
PT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    PT_LIBC_REAL(fexecve_fn, fexecve);
    if (!fn)
        return errno = ENOSYS, -1;
    before_exec();
    return fn(fd, argv, envp);
}

/* execl, execlp, execle: collect the variadic arguments, then use the vector forms. */
#define MAX_LIST_ARGS 1024
static int collect(const char *arg0, va_list ap, char **argv)
{
    int n = 0;
    argv[n++] = (char *)arg0;
    while (argv[n - 1]) {
        if (n == MAX_LIST_ARGS)
            return -1;
        argv[n++] = va_arg(ap, char *);
    }
    return n;
}

PT_EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[MAX_LIST_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = collect(arg, ap, argv);
    va_end(ap);
    if (n < 0)
        return errno = E2BIG, -1;
    return execv(path, argv);
}

PT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[MAX_LIST_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = collect(arg, ap, argv);
    va_end(ap);
    if (n < 0)
        return errno = E2BIG, -1;
    return execvp(file, argv);
}

PT_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[MAX_LIST_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = collect(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    if (n < 0)
        return errno = E2BIG, -1;
    return execve(path, argv, envp);
}

typedef void (*exit_fn)(int);
PT_EXPORT void _exit(int status)
{
    PT_LIBC_REAL(exit_fn, _exit);
    pt_runtime_sync(PT_FLUSH_EXIT, 1, PT_END_UNDERSCORE_EXIT);
    if (fn)
        fn(status);
    for (;;)
        syscall(SYS_exit_group, status); /* only if no _exit could be found */
}

PT_EXPORT void _Exit(int status)
{
    _exit(status);
}
