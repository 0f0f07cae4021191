#include "preload/config.h"

#include <errno.h>
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

static void copy_path(char *dst, const char *var)
{
    const char *v = getenv(var);
    dst[0] = '\0';
    if (!v || !*v)
        return;
    if (strlen(v) >= PATH_MAX) {
        pt_warn("%s is longer than %d bytes; ignored", var, PATH_MAX - 1);
        return;
    }
    strcpy(dst, v);
}

void pt_config_load(void)
{
    int saved = errno;
#define PT_X(field, var, def, lo, hi)                                                        \
    do {                                                                                    \
        const char *v = getenv(var);                                                        \
        pt_cfg.field = def;                                                                 \
        if (v && pt_parse_long(v, lo, hi, &pt_cfg.field) != 0)                              \
            pt_warn("%s='%.64s' is not a whole number in %ld..%ld; using %ld", var, v,      \
                    (long)(lo), (long)(hi), (long)(def));                                    \
    } while (0);
    PT_INT_SETTINGS(PT_X)
#undef PT_X
#define PT_X(field, var, def)                                                                \
    do {                                                                                    \
        const char *v = getenv(var);                                                        \
        pt_cfg.field = def;                                                                 \
        if (v && pt_parse_bool(v, &pt_cfg.field) != 0)                                      \
            pt_warn("%s='%.64s' is not one of 1/0/true/false/yes/no/on/off; using %d", var, \
                    v, def);                                                                \
    } while (0);
    PT_BOOL_SETTINGS(PT_X)
#undef PT_X
    copy_path(pt_cfg.dir, "PARTRACE_DIR");
    copy_path(pt_cfg.nccl_lib, "PARTRACE_NCCL_LIB");
    errno = saved;
}
