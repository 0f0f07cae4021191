/* partrace export --perfetto|--chrome -o FILE [OPTIONS] RUN: the run as a trace file for
 * ui.perfetto.dev (or Chrome-JSON tools). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/cli.h"
#include "commands/options.h"
#include "analyses/report_build.h"
#include "outputs/output.h"

static const struct pt_option options[] = {
    {"--perfetto", NULL, "a Perfetto trace (ui.perfetto.dev)", 0},
    {"--chrome", NULL, "Chrome trace JSON in Kineto's shape", 0},
    {"-o", "FILE", "the output file (its folders are created)", 0},
    {"--force", NULL, "replace FILE if it exists", 0},
    {"--gz", NULL, "gzip the output (also when FILE ends in .gz)", 0},
    {"--ranks", "LIST", "only these ranks: 0,2-3", 0},
    {"--from", "S", "from S seconds after the run's first event", 0},
    {"--to", "S", "up to S seconds after the run's first event", 0},
    {"--phase", "NAME", "only inside NVTX ranges NAME", 0},
    {0},
};
const struct pt_command pt_cmd_export = {
    "export", "RUN", "the run as a Perfetto trace or Chrome JSON", options, cmd_export, 1, 1, 0,
    "docs/partrace-export.md", "which run?"};

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

int cmd_export(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_export, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    struct pt_output_opts o = {.window = {.from_s = 0, .to_s = -1}};
    int perfetto = pt_flag(&a, "--perfetto"), chrome = pt_flag(&a, "--chrome");
    o.run = a.operands[0];
    o.out = pt_arg(&a, "-o");
    o.force = pt_flag(&a, "--force");
    o.ranks = pt_arg(&a, "--ranks");
    if (pt_arg_window(&a, &o.window))
        return PT_EXIT_USAGE;
    if (perfetto + chrome != 1 || !o.out) {
        pt_error("export: %s ('partrace export --help')",
                 perfetto + chrome != 1 ? "choose one of --perfetto and --chrome" : "-o FILE is needed");
        return PT_EXIT_USAGE;
    }
    if (pt_output_file_ready("export", o.out, o.force) != 0)
        return PT_EXIT_USAGE;
    if (o.window.phase || o.window.from_s > 0 || o.window.to_s >= 0) {
        /* A window that holds nothing is the report's error, said the same way, before the
         * output is made (one more pass, for windowed exports only). */
        struct pt_report_opts ro = {.window = o.window, .quiet = 1};
        struct pt_report r;
        int empty = pt_report_build(o.run, &ro, &r) != 0;
        pt_report_free(&r);
        if (empty)
            return PT_EXIT_INPUT;
    }
    o.gz = pt_flag(&a, "--gz") || ends_with(o.out, ".gz");
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
