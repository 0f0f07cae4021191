/* partrace whatif [--json|--markdown] --model-config FILE [--gpus N] [--layout L]...
 * [--max-batched-tokens N] [--max-seqs N] RUN: the run's load under other layouts, predicted
 * from its own steps (docs/partrace-whatif.md, the model in docs/WHATIF.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/whatif.h"
#include "commands/cli.h"
#include "outputs/output.h"

#define USAGE "usage: partrace whatif [--json|--markdown] --model-config FILE [--gpus N] [--layout L]... " \
              "[--max-batched-tokens N] [--max-seqs N] RUN"

/* A whole number in [1, max] for option name, or -1 (said). */
static long count_of(const char *name, const char *v, long max)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > max) {
        pt_error("whatif: %s takes a whole number from 1 to %ld, not '%s'", name, max, v);
        return -1;
    }
    return n;
}

int cmd_whatif(int argc, char **argv)
{
    const char *run = NULL, *config = NULL, *layouts[PT_WHATIF_MAX];
    int n_layouts = 0, json = 0, markdown = 0;
    long gpus = 0, max_tokens = 0, max_seqs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--model-config") || !strcmp(a, "--gpus") || !strcmp(a, "--layout") ||
                    !strcmp(a, "--max-batched-tokens") || !strcmp(a, "--max-seqs");
        if (takes && (i + 1 >= argc || !argv[i + 1][0])) {
            pt_error("whatif: %s needs a value (%s)", a, USAGE);
            return 2;
        }
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--markdown"))
            markdown = 1;
        else if (!strcmp(a, "--model-config"))
            config = argv[++i];
        else if (!strcmp(a, "--gpus") && (gpus = count_of(a, argv[++i], 4096)) < 0)
            return 2;
        else if (!strcmp(a, "--max-batched-tokens") && (max_tokens = count_of(a, argv[++i], 1 << 24)) < 0)
            return 2;
        else if (!strcmp(a, "--max-seqs") && (max_seqs = count_of(a, argv[++i], 1 << 20)) < 0)
            return 2;
        else if (!strcmp(a, "--layout")) {
            if (n_layouts == PT_WHATIF_MAX) {
                pt_error("whatif: at most %d layouts", PT_WHATIF_MAX);
                return 2;
            }
            layouts[n_layouts++] = argv[++i];
        } else if (takes) {
            continue; /* taken above */
        } else if (a[0] == '-' && a[1]) {
            pt_error("whatif: unknown option '%s' (%s)", a, USAGE);
            return 2;
        } else if (run) {
            pt_error("whatif: one run at a time ('%s' and '%s')", run, a);
            return 2;
        } else {
            run = a;
        }
    }
    if (json && markdown) {
        pt_error("whatif: choose one of --json and --markdown");
        return 2;
    }
    if (!run) {
        pt_error("whatif: which run? (%s)", USAGE);
        return 2;
    }
    struct pt_wi_layout asked[PT_WHATIF_MAX];
    char err[512];
    for (int i = 0; i < n_layouts; i++)
        if (pt_whatif_parse_layout(layouts[i], (int)gpus, &asked[i], err, sizeof err) != 0) {
            pt_error("whatif: %s", err);
            return 2;
        }
    struct pt_whatif *w = malloc(sizeof *w);
    struct pt_compare *c = calloc(1, sizeof *c);
    if (!w || !c) {
        free(w);
        free(c);
        pt_error("out of memory");
        return 1;
    }
    int rc = pt_whatif_build(run, config, asked, n_layouts, (int)gpus, (uint32_t)max_tokens, (uint32_t)max_seqs,
                             w, err, sizeof err);
    if (rc != 0) {
        pt_error("whatif: %s", err);
    } else {
        c->without_findings = 1;
        pt_whatif_rows(w, c, 1);
        const struct pt_output *shown = json ? &pt_output_json : markdown ? &pt_output_markdown : &pt_output_text;
        shown->whatif(stdout, w, c);
        rc = fflush(stdout) != 0;
    }
    pt_whatif_free(w);
    free(w);
    free(c);
    return rc;
}
