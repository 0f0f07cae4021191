/* partrace whatif [OPTIONS] RUN: the run's load under other layouts, predicted from its own
 * steps (docs/partrace-whatif.md, the model in docs/WHATIF.md). */
#include <stdio.h>
#include <stdlib.h>

#include "analyses/whatif.h"
#include "commands/cli.h"
#include "commands/options.h"
#include "outputs/output.h"

static const struct pt_option options[] = {
    {"--model-config", "FILE", "the model's Hugging Face config.json", 0},
    {"--gpus", "N", "GPUs of the predicted layouts (default: the run's)", 0},
    {"--layout", "L", "a layout to predict: tp=N,pp=N,dp=N,ep=N (default: every one that fits)", 1},
    {"--max-batched-tokens", "N", "the serving loop's tokens a step (default 2048)", 0},
    {"--max-seqs", "N", "sequences running at once (default 256)", 0},
    {"--json", NULL, "print JSON", 0},
    {"--markdown", NULL, "print Markdown", 0},
    {0},
};
const struct pt_command pt_cmd_whatif = {
    "whatif", "RUN", "the run's load under other layouts, predicted from its own steps", options, cmd_whatif,
    1, 1, 0, "docs/partrace-whatif.md (the model: docs/WHATIF.md)", "which run?"};

int cmd_whatif(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_whatif, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const struct pt_output *shown;
    long gpus = 0, max_tokens = 0, max_seqs = 0;
    if (pt_arg_output(&a, &shown) || pt_arg_whole(&a, "--gpus", 1, 4096, &gpus) ||
        pt_arg_whole(&a, "--max-batched-tokens", 1, 1 << 24, &max_tokens) ||
        pt_arg_whole(&a, "--max-seqs", 1, 1 << 20, &max_seqs))
        return PT_EXIT_USAGE;
    int n_layouts = pt_arg_count(&a, "--layout");
    if (n_layouts > PT_WHATIF_MAX) {
        pt_error("whatif: at most %d layouts", PT_WHATIF_MAX);
        return PT_EXIT_USAGE;
    }
    struct pt_wi_layout asked[PT_WHATIF_MAX];
    char err[512];
    for (int i = 0; i < n_layouts; i++)
        if (pt_whatif_parse_layout(pt_arg_at(&a, "--layout", i), (int)gpus, &asked[i], err, sizeof err) != 0) {
            pt_error("whatif: %s", err);
            return PT_EXIT_USAGE;
        }
    struct pt_whatif *w = malloc(sizeof *w);
    struct pt_compare *c = calloc(1, sizeof *c);
    if (!w || !c) {
        free(w);
        free(c);
        pt_error("out of memory");
        return PT_EXIT_INPUT;
    }
    int rc = pt_whatif_build(a.operands[0], pt_arg(&a, "--model-config"), asked, n_layouts, (int)gpus,
                             (uint32_t)max_tokens, (uint32_t)max_seqs, w, err, sizeof err);
    if (rc != 0) {
        pt_error("whatif: %s", err);
    } else {
        c->without_findings = 1;
        pt_whatif_rows(w, c, 1);
        shown->whatif(stdout, w, c);
        rc = fflush(stdout) != 0 ? PT_EXIT_INPUT : PT_EXIT_OK;
    }
    pt_whatif_free(w);
    free(w);
    free(c);
    return rc;
}
