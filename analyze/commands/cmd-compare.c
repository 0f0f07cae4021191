/* partrace compare [--json|--markdown] [--html FILE [--force]] [--phase NAME] [--from S]
 * [--to S] [--whatif LAYOUT... --model-config FILE [--gpus N]] RUN RUN...: runs side by side,
 * best values marked, findings most costly first, and layouts predicted from the first run
 * beside them (docs/partrace-compare.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/compare.h"
#include "analyses/whatif.h"
#include "commands/cli.h"
#include "commands/options.h"
#include "outputs/output.h"


/* The layouts predicted from the first run (whatif.h) as rows after the measured ones. */
static int add_predictions(struct pt_compare *c, const char *run, const char *config, const char *const *layouts,
                           int n, int gpus)
{
    struct pt_wi_layout asked[PT_WHATIF_MAX];
    char err[512];
    for (int i = 0; i < n; i++)
        if (pt_whatif_parse_layout(layouts[i], gpus, &asked[i], err, sizeof err) != 0) {
            pt_error("compare: --whatif: %s", err);
            return 2;
        }
    struct pt_whatif *w = malloc(sizeof *w);
    if (!w) {
        pt_error("out of memory");
        return 1;
    }
    int rc = pt_whatif_build(run, config, asked, n, gpus, 0, 0, w, err, sizeof err);
    if (rc != 0)
        pt_error("compare: --whatif: %s", err);
    else
        pt_whatif_rows(w, c, 0);
    pt_whatif_free(w);
    free(w);
    return rc;
}

static const struct pt_option options[] = {
    {"--json", NULL, "print JSON", 0},
    {"--markdown", NULL, "print Markdown", 0},
    {"--html", "FILE", "also write a page with charts", 0},
    {"--force", NULL, "replace the --html FILE if it exists", 0},
    {"--phase", "NAME", "every run inside NVTX ranges NAME", 0},
    {"--from", "S", "every run from S seconds after its first event", 0},
    {"--to", "S", "every run up to S seconds after its first event", 0},
    {"--whatif", "L", "the first run's load predicted under layout L (tp=N,pp=N,dp=N,ep=N)", 1},
    {"--model-config", "FILE", "the model's config.json, for --whatif", 0},
    {"--gpus", "N", "the GPUs of --whatif layouts (dp fills them)", 0},
    {0},
};
const struct pt_command pt_cmd_compare = {
    "compare", "RUN RUN...", "layouts side by side, with findings", options, cmd_compare, 1, PT_COMPARE_MAX_RUNS, 0,
    "docs/partrace-compare.md", "which runs?"};

int cmd_compare(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_compare, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const struct pt_output *shown;
    struct pt_window w = {.from_s = 0, .to_s = -1};
    long gpus = 0;
    if (pt_arg_output(&a, &shown) || pt_arg_window(&a, &w) || pt_arg_whole(&a, "--gpus", 1, 4096, &gpus))
        return PT_EXIT_USAGE;
    const char *html = pt_arg(&a, "--html"), *config = pt_arg(&a, "--model-config");
    int n = a.n_operands, n_whatif = pt_arg_count(&a, "--whatif");
    if ((config || gpus) && !n_whatif) {
        pt_error("compare: %s is for --whatif", config ? "--model-config" : "--gpus");
        return PT_EXIT_USAGE;
    }
    if (n + n_whatif + 1 > PT_COMPARE_MAX_RUNS) {
        pt_error("compare: at most %d rows: %d runs, %d --whatif layouts and the first run's own predicted",
                 PT_COMPARE_MAX_RUNS, n, n_whatif);
        return PT_EXIT_USAGE;
    }
    if (html && pt_output_file_ready("compare", html, pt_flag(&a, "--force")) != 0)
        return PT_EXIT_USAGE;
    const char *whatif[PT_WHATIF_MAX];
    for (int i = 0; i < n_whatif; i++)
        whatif[i] = pt_arg_at(&a, "--whatif", i);
    const char *const *runs = a.operands;
    struct pt_compare *c = malloc(sizeof *c);
    if (!c) {
        pt_error("out of memory");
        return 1;
    }
    if (pt_compare_build(runs, n, &w, c) != 0) {
        free(c);
        return 1;
    }
    int predicted = n_whatif ? add_predictions(c, runs[0], config, whatif, n_whatif, (int)gpus) : 0;
    if (predicted != 0) {
        free(c);
        return predicted;
    }
    shown->compare(stdout, c);
    int status = fflush(stdout) != 0;
    if (html) {
        FILE *out = fopen(html, "w");
        int bad = !out;
        if (out) {
            pt_output_html.compare(out, c);
            bad = ferror(out) | (fclose(out) != 0);
        }
        if (bad) {
            pt_error("compare: cannot write --html %s", html);
            status = 1;
        }
    }
    free(c);
    return status;
}
