/* docs/CONFIG.md against the two settings tables (preload/config.h, analyze/util/settings.h):
 * every variable of a table has its row in the doc's section of that side, with the table's
 * default and range or choices, and the doc lists no variable that neither table reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/config.h"
#include "util/settings.h"

#define MAX_ROWS 64

struct row {
    char var[64], dflt[64], range[128];
    int section; /* 0 the library's table, 1 the commands' */
    int seen;
};
static struct row rows[MAX_ROWS];
static int n_rows, failures;

static void fail(const char *var, const char *what, const char *doc, const char *want)
{
    fprintf(stderr, "docs/CONFIG.md: %s: %s is '%s', the table says '%s'\n", var, what, doc, want);
    failures++;
}

/* "| `VAR` | default | range | meaning |" */
static void read_doc(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[8192];
    int section = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3))
            section++;
        if (strncmp(line, "| `", 3) != 0 || n_rows == MAX_ROWS)
            continue;
        struct row *r = &rows[n_rows++];
        r->section = section;
        char *p = line + 3, *end = strchr(p, '`');
        snprintf(r->var, sizeof r->var, "%.*s", (int)(end - p), p);
        char *cols[2] = {0};
        p = strchr(end, '|');
        for (int c = 0; c < 2 && p; c++) {
            char *next = strchr(p + 1, '|');
            if (!next)
                break;
            *next = 0;
            cols[c] = p + 1;
            while (*cols[c] == ' ')
                cols[c]++;
            for (char *e = next - 1; e > cols[c] && *e == ' '; e--)
                *e = 0;
            p = next;
        }
        snprintf(r->dflt, sizeof r->dflt, "%s", cols[0] ? cols[0] : "");
        snprintf(r->range, sizeof r->range, "%s", cols[1] ? cols[1] : "");
    }
    fclose(f);
}

static struct row *find(const char *var, int section)
{
    for (int i = 0; i < n_rows; i++)
        if (!strcmp(rows[i].var, var) && rows[i].section == section)
            return rows[i].seen = 1, &rows[i];
    fprintf(stderr, "docs/CONFIG.md: no row for %s in its section\n", var);
    failures++;
    return NULL;
}

/* "a|b|c" as "a, b, c"; the choice at index i. */
static void choices_text(const char *choices, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *c = choices; *c && n < cap; c++)
        n += (size_t)snprintf(out + n, cap - n, *c == '|' ? ", " : "%c", *c);
}
static void choice_at(const char *choices, int i, char *out, size_t cap)
{
    const char *c = choices;
    while (i-- > 0 && strchr(c, '|'))
        c = strchr(c, '|') + 1;
    snprintf(out, cap, "%.*s", (int)strcspn(c, "|"), c);
}

static void check_choice(const struct row *r, int def, const char *choices, const char *none)
{
    char want[128];
    if (def < 0)
        snprintf(want, sizeof want, "%s", none);
    else
        choice_at(choices, def, want, sizeof want);
    if (strcmp(r->dflt, want))
        fail(r->var, "the default", r->dflt, want);
    choices_text(choices, want, sizeof want);
    if (strcmp(r->range, want))
        fail(r->var, "the choices", r->range, want);
}

static void check_library(void)
{
    char want[128];
    struct row *r;
#define CHECK_INT(var, def, lo, hi, choices)                              \
    snprintf(want, sizeof want, "%d", def);                               \
    if (strcmp(r->dflt, want))                                            \
        fail(var, "the default", r->dflt, want);                          \
    snprintf(want, sizeof want, "%d..%d", lo, hi);                        \
    if (strcmp(r->range, want))                                           \
        fail(var, "the range", r->range, want);
#define CHECK_BOOL(var, def, lo, hi, choices)                             \
    snprintf(want, sizeof want, "%d", def);                               \
    if (strcmp(r->dflt, want))                                            \
        fail(var, "the default", r->dflt, want);                          \
    if (strcmp(r->range, "1/0, true/false, yes/no, on/off"))              \
        fail(var, "the values", r->range, "1/0, true/false, yes/no, on/off");
#define CHECK_CHOICE(var, def, lo, hi, choices) check_choice(r, def, choices, "");
#define CHECK_TEXT(var, def, lo, hi, choices)
#define PT_X(field, var, type, def, lo, hi, choices) \
    if ((r = find(var, 0))) {                        \
        CHECK_##type(var, def, lo, hi, choices)      \
    }
    PT_SETTINGS(PT_X)
#undef PT_X
}

static void check_commands(void)
{
    struct row *r;
#define CHECK_TOOL_CHOICE(var, def, choices) check_choice(r, def, choices, "by size");
#define CHECK_TOOL_TEXT(var, def, choices)                    \
    if (strcmp(r->dflt, "—"))                                 \
        fail(var, "the default", r->dflt, "—");
#define PT_X(field, var, type, def, choices) \
    if ((r = find(var, 1))) {                \
        CHECK_TOOL_##type(var, def, choices) \
    }
    PT_TOOL_SETTINGS(PT_X)
#undef PT_X
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_settings_doc docs/CONFIG.md\n");
        return 2;
    }
    read_doc(argv[1]);
    check_library();
    check_commands();
    for (int i = 0; i < n_rows; i++)
        if (!rows[i].seen) {
            fprintf(stderr, "docs/CONFIG.md: %s is in no settings table of its side\n", rows[i].var);
            failures++;
        }
    if (n_rows < 20) {
        fprintf(stderr, "docs/CONFIG.md: only %d rows read\n", n_rows);
        failures++;
    }
    return failures != 0;
}
