/* How the engine's functions report an error: a message into the caller's buffer, and -1. */
#ifndef PT_ENGINE_ERROR_H
#define PT_ENGINE_ERROR_H

#include <stddef.h>

/* Formats the message into err (errlen bytes) and returns -1. */
__attribute__((format(printf, 3, 4))) int pt_engine_fail(char *err, size_t errlen, const char *fmt, ...);

#endif
