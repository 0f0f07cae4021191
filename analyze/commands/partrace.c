/* partrace: entry point and command table. */
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "commands/cli.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} commands[] = {
    {"record", cmd_record, "record [-o DIR] [--force] -- CMD [ARGS...]   run CMD under partrace"},
    {"info", cmd_info, "info PATH                                   header, span, counts, integrity"},
    {"dump", cmd_dump, "dump [--json] PATH                          one line per event"},
    {"report", cmd_report, "report [--json|--markdown] [--from S] [--to S] [--phase NAME] [--layout L]\n"
                           "       [--fail-if EXPR]... PATH               collectives, stragglers, GPU time; CI gate"},
    {"diff", cmd_diff, "diff [--json] [--max-regression PCT] [--phase NAME] BASE NEW\n"
                       "                                              two runs, category by category; CI gate"},
    {"export", cmd_export, "export --perfetto|--chrome -o FILE [--force] [--gz] [--ranks L] [--from S]\n"
                           "       [--to S] [--phase NAME] PATH           a trace for ui.perfetto.dev / Chrome JSON"},
    {"compare", cmd_compare, "compare [--json|--markdown] [--html FILE] [--phase NAME] RUN RUN...\n"
                             "                                              layouts side by side, with findings"},
    {"whatif", cmd_whatif, "whatif [--json|--markdown] --model-config FILE [--gpus N] [--layout L]... RUN\n"
                           "                                              other layouts predicted from RUN's steps"},
    {"check", cmd_check, "check FILE.pftrace                          a Perfetto trace's validity"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: partrace COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %s\n", commands[i].usage);
    fprintf(out, "\nPATH is a trace file (*%s) or a run directory.\n"
                 "Settings of the recorder are PARTRACE_* variables: see docs/CONFIG.md.\n",
            PT_FILE_SUFFIX);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("partrace, trace format %d.%d\n", PT_VERSION_MAJOR, PT_VERSION_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    pt_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
