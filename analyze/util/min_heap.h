/* One binary min-heap for the reader's two: held records of a file (event_source.c) and an
 * export's pending slice ends (export_tracks.c).
 * PT_MIN_HEAP(prefix, T, before) defines, for an array of T ordered by
 * int before(const T *a, const T *b), static functions over (array, count):
 *   prefix_sift_down(h, n, i)  moves h[i] down to its place (after h[i] grew later)
 *   prefix_push(h, &n, e)      adds e; the array must have room for one more
 *   prefix_pop(h, &n)          removes and returns the earliest; n must be > 0
 * The hole moves and the moved element is written once. A user needs only some of them: they
 * are marked unused so that clang does not warn about the others. */
#ifndef PT_MIN_HEAP_H
#define PT_MIN_HEAP_H

#include <stddef.h>

#define PT_MIN_HEAP(prefix, T, before)                                                 \
    __attribute__((unused)) static inline void prefix##_sift_down(T *h, size_t n, size_t i) \
    {                                                                                  \
        T k = h[i];                                                                    \
        for (;;) {                                                                     \
            size_t c = 2 * i + 1;                                                      \
            if (c >= n)                                                                \
                break;                                                                 \
            if (c + 1 < n && before(&h[c + 1], &h[c]))                                 \
                c++;                                                                   \
            if (!before(&h[c], &k))                                                    \
                break;                                                                 \
            h[i] = h[c];                                                               \
            i = c;                                                                     \
        }                                                                              \
        h[i] = k;                                                                      \
    }                                                                                  \
    __attribute__((unused)) static inline void prefix##_push(T *h, size_t *n, T e)     \
    {                                                                                  \
        size_t i = (*n)++;                                                             \
        while (i && before(&e, &h[(i - 1) / 2])) {                                     \
            h[i] = h[(i - 1) / 2];                                                     \
            i = (i - 1) / 2;                                                           \
        }                                                                              \
        h[i] = e;                                                                      \
    }                                                                                  \
    __attribute__((unused)) static inline T prefix##_pop(T *h, size_t *n)              \
    {                                                                                  \
        T top = h[0];                                                                  \
        h[0] = h[--*n];                                                                \
        prefix##_sift_down(h, *n, 0);                                                  \
        return top;                                                                    \
    }

#endif
