/* The reader for other languages (reader_api.h): dump's and report's JSON into memory. */
#include "api/reader_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "analyses/report_build.h"
#include "outputs/dump_records.h"
#include "outputs/output.h"
#include "read/trace_set.h"

#define PT_STR(x) #x
#define PT_XSTR(x) PT_STR(x)

__attribute__((visibility("default"))) const char *pt_api_version(void)
{
    return "partrace " PT_API_RELEASE ", trace format " PT_XSTR(PT_VERSION_MAJOR) "." PT_XSTR(PT_VERSION_MINOR);
}

__attribute__((visibility("default"))) void pt_api_free(char *text)
{
    free(text);
}

__attribute__((visibility("default"))) char *pt_api_records_json(const char *path, int mangled, size_t *len,
                                                                 char *err, size_t errlen)
{
    struct pt_trace_set set;
    if (pt_trace_set_open(path, &set, err, errlen) != 0)
        return NULL;
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    int bad = !out;
    for (size_t i = 0; !bad && i < set.count; i++) {
        char why[512];
        int damaged, rc = pt_dump_file(out, set.paths[i], 1, mangled, &damaged, why, sizeof why);
        if (rc < 0) /* the reason names the file */
            snprintf(err, errlen, "%s", why);
        else if (damaged) /* a tail merely cut short still gives its records */
            snprintf(err, errlen, "%s: %s", set.paths[i], why);
        bad = rc < 0 || damaged;
    }
    if (out)
        bad |= fclose(out) != 0;
    pt_trace_set_free(&set);
    if (bad) {
        if (!out)
            snprintf(err, errlen, "out of memory");
        free(text);
        return NULL;
    }
    *len = n;
    return text;
}

__attribute__((visibility("default"))) char *pt_api_report_json(const char *path, char *err, size_t errlen)
{
    struct pt_report_opts o = {.window = {.from_s = 0, .to_s = -1}, .quiet = 1};
    struct pt_report rep;
    if (pt_report_build(path, &o, &rep) != 0) {
        snprintf(err, errlen, "%s: cannot be reported (partrace report says why)", path);
        return NULL;
    }
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    if (out) {
        const struct pt_report_view view = {.source = path, .rep = &rep};
        pt_output_json.report(out, &view);
        if (fclose(out) != 0) {
            free(text);
            text = NULL;
        }
    }
    pt_report_free(&rep);
    if (!text)
        snprintf(err, errlen, "out of memory");
    return text;
}
