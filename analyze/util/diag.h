/* Messages of the analysis side (every layer and command): one line on stderr each. */
#ifndef PT_DIAG_H
#define PT_DIAG_H

#include <stddef.h>

/* Prints "partrace: <message>" on stderr, the message escaped for the terminal. */
__attribute__((format(printf, 1, 2))) void pt_error(const char *fmt, ...);
/* Prints n bytes of s as a JSON string literal on stdout. */
void pt_json_string(const char *s, size_t n);

#endif
