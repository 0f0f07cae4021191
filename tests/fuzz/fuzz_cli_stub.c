/* The fuzz targets link the exporters without the partrace command: its message helpers. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_json_string(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
}
