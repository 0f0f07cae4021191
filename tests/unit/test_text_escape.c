/* The escapers of text_escape.h and the format's text cut: valid UTF-8 passes untouched, every
 * byte that could forge an output or drive a terminal is escaped, invalid bytes never reach a
 * JSON file, and a cut never leaves part of a character. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "check.h"
#include "util/text_escape.h"

typedef void (*escaper)(FILE *, const char *, size_t);

static const char *run(escaper f, const char *s, size_t n)
{
    static char out[1024];
    FILE *m = fmemopen(out, sizeof out, "w");
    CHECK(m);
    f(m, s, n);
    fclose(m);
    return out;
}

#define EQ(f, in, want)                                                                         \
    do {                                                                                        \
        const char *got_ = run(f, in, sizeof(in) - 1);                                          \
        if (strcmp(got_, want) != 0) {                                                          \
            fprintf(stderr, "%s:%d: %s(%s) gave '%s', expected '%s'\n", __FILE__, __LINE__, #f, \
                    #in, got_, want);                                                           \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

int main(void)
{
    /* Well-formed UTF-8 characters of 1 to 4 bytes, and what is not one. */
    CHECK(pt_utf8_char_len("a", 1) == 1);
    CHECK(pt_utf8_char_len("\xc3\xa9", 2) == 2);          /* é */
    CHECK(pt_utf8_char_len("\xe2\x82\xac", 3) == 3);      /* € */
    CHECK(pt_utf8_char_len("\xf0\x9f\x98\x80", 4) == 4);  /* 😀 */
    CHECK(pt_utf8_char_len("\xe2\x82", 2) == 0);          /* cut */
    CHECK(pt_utf8_char_len("\x80", 1) == 0);              /* stray continuation */
    CHECK(pt_utf8_char_len("\xc0\xaf", 2) == 0);          /* overlong '/' */
    CHECK(pt_utf8_char_len("\xed\xa0\x80", 3) == 0);      /* surrogate */
    CHECK(pt_utf8_char_len("\xf4\x90\x80\x80", 4) == 0);  /* above U+10FFFF */
    CHECK(pt_utf8_char_len("\xff", 1) == 0);

    /* JSON: UTF-8 kept (not \u00XX per byte), quotes and controls escaped, invalid -> U+FFFD. */
    EQ(pt_json_escape, "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
    EQ(pt_json_escape, "a\"},{\"x\":1", "a\\\"},{\\\"x\\\":1");
    EQ(pt_json_escape, "back\\slash", "back\\\\slash");
    EQ(pt_json_escape, "l1\nl2\t\x01\x7f", "l1\\nl2\\t\\u0001\\u007f");
    EQ(pt_json_escape, "bad\xff\xc3(", "bad\\ufffd\\ufffd(");

    /* Terminal: no escape sequence, newline or C1 control gets through. */
    EQ(pt_term_escape, "\x1b]0;owned\x07\x1b[2J", "\\e]0;owned\\x07\\e[2J");
    EQ(pt_term_escape, "a\nb\rc", "a\\nb\\rc");
    EQ(pt_term_escape, "\xc2\x9b" "31m", "\\u009b31m"); /* CSI as a C1 character */
    EQ(pt_term_escape, "ok \xc3\xa9\xff", "ok \xc3\xa9\\xff");

    /* HTML and Markdown. */
    EQ(pt_html_escape, "<script>&'\"", "&lt;script&gt;&amp;&#39;&quot;");
    EQ(pt_html_escape, "x\x01\xff", "x&#xfffd;&#xfffd;");
    EQ(pt_md_escape, "a|b *c* <i>", "a\\|b \\*c\\* &lt;i&gt;");
    EQ(pt_md_escape, "0.5 s (phase)", "0.5 s (phase)");

    /* The buffer form stops at a whole escape, never inside one or inside a character. */
    char buf[8];
    CHECK(strcmp(pt_json_escape_buf(buf, sizeof buf, "ab\"cd", 5), "ab\\\"cd") == 0);
    CHECK(strcmp(pt_json_escape_buf(buf, sizeof buf, "abcdef\xc3\xa9", 8), "abcdef") == 0);
    CHECK(strcmp(pt_term_escape_buf(buf, sizeof buf, "abcd\x1b", 5), "abcd\\e") == 0);
    CHECK(strcmp(pt_term_escape_buf(buf, sizeof buf, "abcdef\x1b", 7), "abcdef") == 0);

    /* The format's cut: whole characters only, and only where the field cuts. */
    const char *euro3 = "ab\xe2\x82\xac";
    CHECK(pt_text_cut(euro3, 5) == 5);
    CHECK(pt_text_cut(euro3, 9) == 5);
    CHECK(pt_text_cut(euro3, 4) == 2);
    CHECK(pt_text_cut(euro3, 3) == 2);
    CHECK(pt_text_cut(euro3, 2) == 2);
    const char *smile = "\xf0\x9f\x98\x80!";
    CHECK(pt_text_cut(smile, 3) == 0);
    CHECK(pt_text_cut(smile, 4) == 4);
    CHECK(pt_text_cut("abc", 3) == 3);
    CHECK(pt_text_cut("a\x80\x80", 3) == 3); /* no UTF-8: left for the reader's escapers */
    CHECK(pt_text_cut("ab\xff", 3) == 3);
    CHECK(pt_text_cut("ab\xc3", 8) == 3);      /* not cut: kept as it is */
    puts("text_escape: ok");
    return 0;
}
