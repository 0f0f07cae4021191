/* The analysis side's two ways of speaking: messages on stderr and JSON strings on stdout. */
#include <stdarg.h>
#include <stdio.h>

#include "util/diag.h"
#include "util/text_escape.h"

/* Messages name files, hosts and phases that come from traces: shown escaped for the terminal
 * (text_escape.h), so that no name can send control sequences to it. */
void pt_error(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    fputs("partrace: ", stderr);
    pt_term_escape(stderr, msg, len);
    fputc('\n', stderr);
}

/* Prints a string as a JSON string literal (text_escape.h: valid UTF-8 kept as it is). */
void pt_json_string(const char *s, size_t n)
{
    pt_json_quoted(stdout, s, n);
}
