#include "trace_set.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <partrace/format.h>

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && strcmp(name + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(struct pt_trace_set *set, size_t *cap, char *path)
{
    if (!path)
        return -1;
    if (set->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **p = realloc(set->paths, ncap * sizeof *p);
        if (!p) {
            free(path);
            return -1;
        }
        set->paths = p;
        *cap = ncap;
    }
    set->paths[set->count++] = path;
    return 0;
}

int pt_trace_set_open(const char *path, struct pt_trace_set *set, char *err, size_t errlen)
{
    set->paths = NULL;
    set->count = 0;
    size_t cap = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (add(set, &cap, strdup(path)) != 0)
            goto oom;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: cannot list directory: %s", path, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, PT_FILE_SUFFIX))
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(n);
        if (full)
            snprintf(full, n, "%s/%s", path, e->d_name);
        if (add(set, &cap, full) != 0) {
            closedir(d);
            goto oom;
        }
    }
    closedir(d);
    if (set->count == 0) {
        snprintf(err, errlen, "%s: no %s files in this directory (is it a partrace run directory?)",
                 path, PT_FILE_SUFFIX);
        return -1;
    }
    qsort(set->paths, set->count, sizeof *set->paths, by_name);
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    pt_trace_set_free(set);
    return -1;
}

void pt_trace_set_free(struct pt_trace_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->paths[i]);
    free(set->paths);
    set->paths = NULL;
    set->count = 0;
}
