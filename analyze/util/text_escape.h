/* Every string that comes from a trace (host, command line, kernel and NVTX names, paths) or
 * from a user reaches an output through one of these: one function per output, so that no
 * string can forge JSON, inject markup or send escape sequences to a terminal, and text that is
 * not valid UTF-8 still gives a valid file. Valid UTF-8 passes through unchanged everywhere. */
#ifndef PT_TEXT_ESCAPE_H
#define PT_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Length (1-4) of the well-formed UTF-8 character at s[0..n), or 0 when the bytes there are
 * not one (a stray continuation byte, an overlong form, a surrogate, a cut sequence). */
size_t pt_utf8_char_len(const char *s, size_t n);

/* JSON: the inside of a string literal. Quotes, backslashes and control characters escaped;
 * a byte that is not part of valid UTF-8 becomes U+FFFD. */
void pt_json_escape(FILE *out, const char *s, size_t n);
/* The same into buf (cap >= 8); cut at a character boundary when full. Returns buf. */
const char *pt_json_escape_buf(char *buf, size_t cap, const char *s, size_t n);
/* A whole JSON string literal: the quotes and the escaped inside. */
void pt_json_quoted(FILE *out, const char *s, size_t n);
/* A JSON number (%.9g), or null for NaN and infinities (a figure the run does not tell). */
void pt_json_number(FILE *out, double v);

/* Terminal: control characters (C0, DEL, C1) and invalid bytes shown as \n, \t, \r, \e or
 * \xNN / \u00NN, so no name can move the cursor, recolour or retitle the terminal. */
void pt_term_escape(FILE *out, const char *s, size_t n);
/* The same into buf (cap >= 8), cut at a character boundary when full. Returns buf. */
const char *pt_term_escape_buf(char *buf, size_t cap, const char *s, size_t n);

/* HTML text and attribute values: & < > " ' as entities; controls and invalid bytes as
 * U+FFFD. */
void pt_html_escape(FILE *out, const char *s, size_t n);

/* Markdown text inside a paragraph or a table cell: | \ ` * _ [ ] ~ escaped with a backslash,
 * < > & as entities (inline HTML), controls and invalid bytes as in pt_term_escape. */
void pt_md_escape(FILE *out, const char *s, size_t n);

#endif
