#include "read/trace_set.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <partrace/format.h>

#include "read/trace_reader.h"

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

/* Keeps full if it opens as a trace, else counts it and remembers the first reason. */
static int add_checked(struct pt_trace_set *set, size_t *cap, char *full, char *first_why,
                       size_t why_cap)
{
    char why[512];
    if (full && pt_reader_probe(full, why, sizeof why) != 0) {
        /* The first by name, whatever order the directory lists its entries in. */
        if (!set->skipped++ || strcmp(why, first_why) < 0)
            snprintf(first_why, why_cap, "%s", why);
        free(full);
        return 0;
    }
    return add(set, cap, full);
}

int pt_trace_set_open(const char *path, struct pt_trace_set *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    size_t cap = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (pt_reader_probe(path, err, errlen) != 0)
            return -1;
        if (add(set, &cap, strdup(path)) != 0)
            goto oom;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: cannot list directory: %s", path, strerror(errno));
        return -1;
    }
    char first_why[512] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, PT_FILE_SUFFIX))
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *full = malloc(n);
        if (full)
            snprintf(full, n, "%s/%s", path, e->d_name);
        if (add_checked(set, &cap, full, first_why, sizeof first_why) != 0) {
            closedir(d);
            goto oom;
        }
    }
    closedir(d);
    if (set->skipped)
        snprintf(set->warning, sizeof set->warning, "%s: %zu of %zu %s entries are no readable "
                 "trace and were skipped (first: %s)", path, set->skipped,
                 set->skipped + set->count, PT_FILE_SUFFIX, first_why);
    if (set->count == 0) {
        if (set->skipped)
            snprintf(err, errlen, "%s: no readable trace among its %zu %s entries (first: %s)",
                     path, set->skipped, PT_FILE_SUFFIX, first_why);
        else
            snprintf(err, errlen, "%s: no %s files in this directory (is it a partrace run "
                     "directory?)", path, PT_FILE_SUFFIX);
        pt_trace_set_free(set);
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
