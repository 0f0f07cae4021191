#include "util/text_escape.h"

#include <math.h>
#include <string.h>

size_t pt_utf8_char_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        if (p[0] == 0xe0)
            lo = 0xa0; /* overlong */
        else if (p[0] == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        if (p[0] == 0xf0)
            lo = 0x90; /* overlong */
        else if (p[0] == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* A sink: a FILE, or a buffer that stops taking whole pieces when full. */
struct sink {
    FILE *out;
    char *buf;
    size_t cap, len;
    int full;
};

static void put(struct sink *k, const char *s, size_t n)
{
    if (k->out) {
        fwrite(s, 1, n, k->out);
        return;
    }
    if (k->full || k->len + n + 1 > k->cap) {
        k->full = 1;
        return;
    }
    memcpy(k->buf + k->len, s, n);
    k->len += n;
}

static void put_hex(struct sink *k, const char *fmt, unsigned v)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    put(k, tmp, (size_t)n);
}

/* Walks s, handing each character to one output's rule (an invalid byte: len 0). */
typedef void (*char_rule)(struct sink *k, const char *c, size_t len);

static void walk(struct sink *k, const char *s, size_t n, char_rule rule)
{
    for (size_t i = 0; i < n && !k->full;) {
        size_t len = pt_utf8_char_len(s + i, n - i);
        rule(k, s + i, len);
        i += len ? len : 1;
    }
}

static int is_c1(const char *c, size_t len)
{
    return len == 2 && (unsigned char)c[0] == 0xc2 && (unsigned char)c[1] < 0xa0;
}

static void json_rule(struct sink *k, const char *c, size_t len)
{
    unsigned char ch = (unsigned char)c[0];
    if (len == 0)
        put(k, "\\ufffd", 6);
    else if (ch == '"' || ch == '\\') {
        char e[2] = {'\\', (char)ch};
        put(k, e, 2);
    } else if (ch == '\n')
        put(k, "\\n", 2);
    else if (ch == '\t')
        put(k, "\\t", 2);
    else if (ch < 0x20 || ch == 0x7f)
        put_hex(k, "\\u%04x", ch);
    else
        put(k, c, len);
}

static void term_rule(struct sink *k, const char *c, size_t len)
{
    unsigned char ch = (unsigned char)c[0];
    if (len == 0)
        put_hex(k, "\\x%02x", ch);
    else if (is_c1(c, len))
        put_hex(k, "\\u%04x", (unsigned char)c[1]);
    else if (ch == '\n')
        put(k, "\\n", 2);
    else if (ch == '\t')
        put(k, "\\t", 2);
    else if (ch == '\r')
        put(k, "\\r", 2);
    else if (ch == 0x1b)
        put(k, "\\e", 2);
    else if (ch < 0x20 || ch == 0x7f)
        put_hex(k, "\\x%02x", ch);
    else
        put(k, c, len);
}

static void html_rule(struct sink *k, const char *c, size_t len)
{
    unsigned char ch = (unsigned char)c[0];
    if (len == 0 || is_c1(c, len) || (ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
        put(k, "&#xfffd;", 8);
    else if (ch == '<')
        put(k, "&lt;", 4);
    else if (ch == '>')
        put(k, "&gt;", 4);
    else if (ch == '&')
        put(k, "&amp;", 5);
    else if (ch == '"')
        put(k, "&quot;", 6);
    else if (ch == '\'')
        put(k, "&#39;", 5);
    else
        put(k, c, len);
}

static void md_rule(struct sink *k, const char *c, size_t len)
{
    unsigned char ch = (unsigned char)c[0];
    if (len == 1 && ch == '<')
        put(k, "&lt;", 4);
    else if (len == 1 && ch == '>')
        put(k, "&gt;", 4);
    else if (len == 1 && ch == '&')
        put(k, "&amp;", 5);
    else if (len == 1 && ch > 0x20 && ch < 0x7f && strchr("|\\`*_[]~", ch)) {
        char e[2] = {'\\', (char)ch};
        put(k, e, 2);
    } else
        term_rule(k, c, len);
}

static void to_file(FILE *out, const char *s, size_t n, char_rule rule)
{
    struct sink k = {.out = out};
    walk(&k, s, n, rule);
}

static const char *to_buf(char *buf, size_t cap, const char *s, size_t n, char_rule rule)
{
    struct sink k = {.buf = buf, .cap = cap};
    walk(&k, s, n, rule);
    buf[k.len] = '\0';
    return buf;
}

void pt_json_escape(FILE *out, const char *s, size_t n) { to_file(out, s, n, json_rule); }

void pt_json_quoted(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    pt_json_escape(out, s, n);
    fputc('"', out);
}

void pt_json_number(FILE *out, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", out);
    else
        fprintf(out, "%.9g", v);
}
void pt_term_escape(FILE *out, const char *s, size_t n) { to_file(out, s, n, term_rule); }
void pt_html_escape(FILE *out, const char *s, size_t n) { to_file(out, s, n, html_rule); }
void pt_md_escape(FILE *out, const char *s, size_t n) { to_file(out, s, n, md_rule); }

const char *pt_json_escape_buf(char *buf, size_t cap, const char *s, size_t n)
{
    return to_buf(buf, cap, s, n, json_rule);
}

const char *pt_term_escape_buf(char *buf, size_t cap, const char *s, size_t n)
{
    return to_buf(buf, cap, s, n, term_rule);
}
