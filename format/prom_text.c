#include "format/prom_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

int pt_prom_value(const char *s, size_t len, double *out)
{
    char buf[64];
    if (!len || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf"))
        return *out = INFINITY, 0;
    if (!strcmp(buf, "-Inf"))
        return *out = -INFINITY, 0;
    if (!strcmp(buf, "NaN"))
        return *out = NAN, 0;
    char *end;
    *out = strtod(buf, &end);
    return *end || end == buf ? -1 : 0;
}

/* Past the labels of a sample: s points after '{'; returns the '}' or NULL when malformed. */
static const char *labels_end(const char *s, const char *end)
{
    while (s < end) {
        while (s < end && (*s == ' ' || *s == ','))
            s++;
        if (s < end && *s == '}')
            return s;
        if (s >= end || !name_char(*s, 1))
            return NULL;
        while (s < end && name_char(*s, 0))
            s++;
        while (s < end && *s == ' ')
            s++;
        if (s >= end || *s++ != '=')
            return NULL;
        while (s < end && *s == ' ')
            s++;
        if (s >= end || *s++ != '"')
            return NULL;
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end)
                s++;
            s++;
        }
        if (s >= end)
            return NULL;
        s++; /* the closing quote */
    }
    return NULL;
}

/* A family's type by the suffix rules of the format: the sample's name, or it less a suffix. */
static enum pt_prom_type type_of(const char *name, size_t n, const char *family, size_t family_len,
                                 enum pt_prom_type family_type)
{
    static const char *const suffixes[] = {"", "_total", "_bucket", "_sum", "_count", "_created"};
    if (!family_len)
        return PT_PROM_UNTYPED;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n == family_len + k && !memcmp(name, family, family_len) &&
            !memcmp(name + family_len, suffixes[i], k))
            return family_type;
    }
    return PT_PROM_UNTYPED;
}

static enum pt_prom_type type_named(const char *s, size_t n)
{
    static const char *const names[] = {"untyped", "counter", "gauge", "histogram", "summary"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (n == strlen(names[i]) && !memcmp(s, names[i], n))
            return (enum pt_prom_type)i;
    return PT_PROM_UNTYPED;
}

int pt_prom_parse(const char *text, size_t len,
                  int (*fn)(const struct pt_prom_sample *s, void *arg), void *arg, char *err,
                  size_t errlen)
{
    const char *family = NULL, *p = text, *end = text + len;
    size_t family_len = 0;
    enum pt_prom_type family_type = PT_PROM_UNTYPED;
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *e = eol;
        if (e > p && e[-1] == '\r')
            e--;
        const char *s = p;
        p = eol + (eol < end);
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s == e)
            continue;
        if (*s == '#') { /* "# TYPE name type"; other comments (HELP, EOF) are skipped */
            if (e - s > 7 && !memcmp(s, "# TYPE ", 7)) {
                const char *n = s + 7, *ne = n;
                while (ne < e && *ne != ' ')
                    ne++;
                const char *t = ne;
                while (t < e && *t == ' ')
                    t++;
                family = n, family_len = (size_t)(ne - n);
                family_type = type_named(t, (size_t)(e - t));
            }
            continue;
        }
        struct pt_prom_sample smp = {.name = s, .labels = ""};
        if (!name_char(*s, 1)) {
            snprintf(err, errlen, "line %d: a sample must start with a metric name", line);
            return -1;
        }
        while (s < e && name_char(*s, 0))
            s++;
        smp.name_len = (size_t)(s - smp.name);
        if (s < e && *s == '{') {
            const char *close = labels_end(s + 1, e);
            if (!close) {
                snprintf(err, errlen, "line %d: labels not closed or not name=\"value\"", line);
                return -1;
            }
            smp.labels = s + 1, smp.labels_len = (size_t)(close - s - 1);
            s = close + 1;
        }
        while (s < e && *s == ' ')
            s++;
        const char *v = s;
        while (s < e && *s != ' ')
            s++;
        if (pt_prom_value(v, (size_t)(s - v), &smp.value) != 0) {
            snprintf(err, errlen, "line %d: '%.*s' is not a sample value", line,
                     (int)((s - v) > 32 ? 32 : (s - v)), v);
            return -1;
        }
        smp.type = type_of(smp.name, smp.name_len, family, family_len, family_type);
        int rc = fn(&smp, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int pt_prom_label(const char *labels, size_t len, const char *key, char *out, size_t cap)
{
    const char *s = labels, *end = labels + len;
    size_t klen = strlen(key);
    while (s < end) {
        while (s < end && (*s == ' ' || *s == ','))
            s++;
        const char *k = s;
        while (s < end && *s != '=' && *s != ' ')
            s++;
        int match = (size_t)(s - k) == klen && !memcmp(k, key, klen);
        while (s < end && *s != '"')
            s++;
        if (s >= end)
            return 0;
        s++;
        size_t n = 0;
        while (s < end && *s != '"') {
            char c = *s;
            if (c == '\\' && s + 1 < end) {
                c = *++s;
                if (c == 'n')
                    c = '\n';
            }
            if (match && n + 1 < cap)
                out[n++] = c;
            s++;
        }
        if (match) {
            if (cap)
                out[n] = 0;
            return 1;
        }
        s++;
    }
    return 0;
}
