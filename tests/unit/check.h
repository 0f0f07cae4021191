/* Minimal assertion helpers for the C unit tests: print what failed and where, exit 1. */
#ifndef PT_CHECK_H
#define PT_CHECK_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                              \
    do {                                                                                \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);  \
        if (a_ != b_) {                                                                 \
            fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__,       \
                    __LINE__, #a, a_, #b, b_);                                          \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)
#endif
