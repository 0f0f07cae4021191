#include "preload/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "preload/config.h"

static void log_line(const char *fmt, va_list ap)
{
    int saved = errno;
    char line[512];
    int n = snprintf(line, sizeof line, "partrace[%d]: ", (int)getpid());
    if (n < 0)
        n = 0;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    errno = saved;
}

void pt_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void pt_info(const char *fmt, ...)
{
    if (!pt_cfg.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void pt_warn_raw(const char *msg)
{
    int saved = errno;
    ssize_t w = write(STDERR_FILENO, msg, strlen(msg));
    (void)w;
    errno = saved;
}
