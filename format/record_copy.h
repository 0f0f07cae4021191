/* Copies of whole records, made once or twice per record read (unpacking a delta onto the
 * previous record of its kind; keeping a record in the reorder window). The sizes GPU runs are
 * made of get copies of a constant size, which the compiler makes a few moves instead of a call
 * to memcpy. */
#ifndef PT_RECORD_COPY_H
#define PT_RECORD_COPY_H

#include <stddef.h>
#include <string.h>

static inline void pt_record_copy(void *to, const void *from, size_t size)
{
    switch (size) {
    case 24: memcpy(to, from, 24); break;
    case 48: memcpy(to, from, 48); break;
    case 64: memcpy(to, from, 64); break;
    case 104: memcpy(to, from, 104); break;
    case 112: memcpy(to, from, 112); break;
    default: memcpy(to, from, size); break;
    }
}

#endif
