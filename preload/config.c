#include "preload/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "preload/log.h"

struct pt_config pt_cfg;

int pt_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int pt_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    return -1;
}

static void load_int(long *field, const char *var, const char *v, long def, long lo, long hi)
{
    *field = def;
    if (v && pt_parse_long(v, lo, hi, field) != 0)
        pt_warn("%s='%.64s' is not a whole number in %ld..%ld; using %ld", var, v, lo, hi, def);
}

static void load_bool(int *field, const char *var, const char *v, int def)
{
    *field = def;
    if (v && pt_parse_bool(v, field) != 0)
        pt_warn("%s='%.64s' is not one of 1/0/true/false/yes/no/on/off; using %d", var, v, def);
}

/* choices: "a|b|c". The warning lists them as "a, b or c". */
static void load_choice(int *field, const char *var, const char *v, int def, const char *choices)
{
    *field = def;
    if (!v || !*v)
        return;
    int i = 0;
    for (const char *c = choices;; i++) {
        size_t n = strcspn(c, "|");
        if (strlen(v) == n && !strncmp(v, c, n)) {
            *field = i;
            return;
        }
        if (!c[n])
            break;
        c += n + 1;
    }
    char list[128];
    size_t at = 0;
    const char *c = choices, *dflt = "";
    size_t dflt_len = 0;
    for (int k = 0; at < sizeof list; k++) {
        size_t n = strcspn(c, "|");
        if (k == def)
            dflt = c, dflt_len = n;
        const char *sep = k == 0 ? "" : c[n] ? ", " : " or ";
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%.*s", sep, (int)n, c);
        if (!c[n])
            break;
        c += n + 1;
    }
    pt_warn("%s='%.32s' is not %s; using %.*s", var, v, list, (int)dflt_len, dflt);
}

static void load_text(char *dst, const char *var, const char *v)
{
    dst[0] = '\0';
    if (!v || !*v)
        return;
    if (strlen(v) >= PATH_MAX) {
        pt_warn("%s is longer than %d bytes; ignored", var, PATH_MAX - 1);
        return;
    }
    strcpy(dst, v);
}

#define PT_LOAD_INT(field, var, v, def, lo, hi, choices) load_int(&pt_cfg.field, var, v, def, lo, hi)
#define PT_LOAD_BOOL(field, var, v, def, lo, hi, choices) load_bool(&pt_cfg.field, var, v, def)
#define PT_LOAD_CHOICE(field, var, v, def, lo, hi, choices) load_choice(&pt_cfg.field, var, v, def, choices)
#define PT_LOAD_TEXT(field, var, v, def, lo, hi, choices) load_text(pt_cfg.field, var, v)

void pt_config_load(void)
{
    int saved = errno;
#define PT_X(field, var, type, def, lo, hi, choices) \
    PT_LOAD_##type(field, var, getenv(var), def, lo, hi, choices);
    PT_SETTINGS(PT_X)
#undef PT_X
    errno = saved;
}
