#include "util/settings.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct pt_tool_settings settings;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *text(const char *v) { return v && *v ? v : NULL; }

static int choice(const char *v, int def, const char *choices)
{
    int i = 0;
    for (const char *c = choices; v && *c; i++) {
        size_t n = strcspn(c, "|");
        if (strlen(v) == n && !strncmp(v, c, n))
            return i;
        c += n + (c[n] != 0);
    }
    return def;
}

#define PT_READ_TEXT(field, var, def, choices) settings.field = text(getenv(var))
#define PT_READ_CHOICE(field, var, def, choices) settings.field = choice(getenv(var), def, choices)

static void read_settings(void)
{
#define PT_X(field, var, type, def, choices) PT_READ_##type(field, var, def, choices);
    PT_TOOL_SETTINGS(PT_X)
#undef PT_X
}

const struct pt_tool_settings *pt_settings(void)
{
    pthread_once(&once, read_settings);
    return &settings;
}
