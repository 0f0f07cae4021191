/* partrace export --perfetto|--chrome [-o FILE] [--force] [--gz] [--ranks L] [--from S] [--to S]
 * [--phase NAME] RUN: the run as a trace file for ui.perfetto.dev (or Chrome-JSON tools). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cli.h"
#include "outputs/output.h"

#define USAGE "usage: partrace export --perfetto|--chrome -o FILE [--force] [--gz] [--ranks LIST] " \
              "[--from S] [--to S] [--phase NAME] RUN"

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

static int seconds(const char *opt, const char *v, double *out)
{
    char *end;
    *out = strtod(v, &end);
    if (end == v || *end || !(*out >= 0)) {
        pt_error("export: %s takes seconds >= 0 after the run's first event, not '%s'", opt, v);
        return -1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    struct pt_output_opts o = {.window = {.from_s = 0, .to_s = -1}};
    int perfetto = 0, chrome = 0, gz = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "-o") || !strcmp(a, "--ranks") || !strcmp(a, "--from") ||
                    !strcmp(a, "--to") || !strcmp(a, "--phase");
        if (takes && (i + 1 >= argc || !argv[i + 1][0])) {
            pt_error("export: %s needs a value (%s)", a, USAGE);
            return 2;
        }
        if (!strcmp(a, "--perfetto"))
            perfetto = 1;
        else if (!strcmp(a, "--chrome"))
            chrome = 1;
        else if (!strcmp(a, "--force"))
            o.force = 1;
        else if (!strcmp(a, "--gz"))
            gz = 1;
        else if (!strcmp(a, "-o"))
            o.out = argv[++i];
        else if (!strcmp(a, "--ranks"))
            o.ranks = argv[++i];
        else if (!strcmp(a, "--phase"))
            o.window.phase = argv[++i];
        else if (!strcmp(a, "--from")) {
            if (seconds(a, argv[++i], &o.window.from_s))
                return 2;
        } else if (!strcmp(a, "--to")) {
            if (seconds(a, argv[++i], &o.window.to_s))
                return 2;
        } else if (a[0] == '-' && a[1]) {
            pt_error("export: unknown option '%s' (%s)", a, USAGE);
            return 2;
        } else if (!o.run)
            o.run = a;
        else {
            pt_error("export: one run at a time ('%s' and '%s')", o.run, a);
            return 2;
        }
    }
    if (perfetto + chrome != 1 || !o.run || !o.out) {
        pt_error("export: %s (%s)", perfetto + chrome != 1 ? "choose one of --perfetto and --chrome"
                                     : !o.run ? "which run?" : "-o FILE is needed", USAGE);
        return 2;
    }
    if (o.window.to_s >= 0 && o.window.to_s <= o.window.from_s) {
        pt_error("export: --to %g is not after --from %g", o.window.to_s, o.window.from_s);
        return 2;
    }
    o.gz = gz || ends_with(o.out, ".gz");
    struct pt_export_stats st;
    int rc = (perfetto ? &pt_output_perfetto : &pt_output_chrome)->trace(&o, &st);
    if (rc == 0)
        fprintf(stderr, "partrace: wrote %s: %llu events in, %llu slices (%llu collectives timed), %llu flows, "
                        "%llu counter values, %llu packets, %llu bytes before compression (%.1f per event)\n",
                o.out, (unsigned long long)st.events_in, (unsigned long long)st.slices,
                (unsigned long long)st.timed, (unsigned long long)st.flows, (unsigned long long)st.counters,
                (unsigned long long)st.packets, (unsigned long long)st.bytes,
                st.events_in ? (double)st.bytes / (double)st.events_in : 0.0);
    return rc;
}
