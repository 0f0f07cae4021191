#include "util/demangle.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Reads <length><identifier> at *p into out (appending at *n); returns 0, or -1 when *p holds no
 * source name. */
static int source_name(const char **p, char *out, size_t cap, size_t *n)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    size_t len = 0;
    while (isdigit((unsigned char)**p))
        len = len * 10 + (size_t)(*(*p)++ - '0');
    if (len == 0 || strnlen(*p, len) < len)
        return -1;
    size_t take = len < cap - 1 - *n ? len : cap - 1 - *n;
    memcpy(out + *n, *p, take);
    *n += take;
    *p += len;
    return 0;
}

const char *pt_demangle_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    const char *p = name;
    if (cap < 8 || strncmp(p, "_Z", 2) != 0)
        goto as_is;
    p += 2;
    if (*p == 'N') { /* nested: N <qualifiers> <name>... E */
        p++;
        while (*p == 'K' || *p == 'V' || *p == 'r')
            p++;
        int parts = 0;
        while (isdigit((unsigned char)*p)) {
            if (parts++ && n + 2 < cap)
                out[n++] = ':', out[n++] = ':';
            if (source_name(&p, out, cap, &n) != 0)
                goto as_is;
        }
        if (!parts)
            goto as_is;
    } else if (source_name(&p, out, cap, &n) != 0)
        goto as_is;
    out[n] = '\0';
    return out;
as_is:
    snprintf(out, cap, "%s", name);
    return out;
}
