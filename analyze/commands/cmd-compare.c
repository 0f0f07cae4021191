/* partrace compare [--json|--markdown] [--html FILE [--force]] [--phase NAME] [--from S]
 * [--to S] [--whatif LAYOUT... --model-config FILE [--gpus N]] RUN RUN...: runs side by side,
 * best values marked, findings most costly first, and layouts predicted from the first run
 * beside them (docs/partrace-compare.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyses/compare.h"
#include "analyses/whatif.h"
#include "commands/cli.h"
#include "outputs/output.h"

#define USAGE "usage: partrace compare [--json|--markdown] [--html FILE [--force]] [--phase NAME] " \
              "[--from S] [--to S] [--whatif LAYOUT... --model-config FILE [--gpus N]] RUN RUN..."

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

int cmd_compare(int argc, char **argv)
{
    const char *html = NULL, *runs[PT_COMPARE_MAX_RUNS], *config = NULL, *whatif[PT_WHATIF_MAX];
    int n = 0, json = 0, markdown = 0, force = 0, n_whatif = 0;
    long gpus = 0;
    struct pt_window w = {.from_s = 0, .to_s = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--html") || !strcmp(a, "--phase") || !strcmp(a, "--from") ||
                    !strcmp(a, "--to") || !strcmp(a, "--whatif") || !strcmp(a, "--model-config") ||
                    !strcmp(a, "--gpus");
        if (takes && (i + 1 >= argc || !argv[i + 1][0])) {
            pt_error("compare: %s needs a value (%s)", a, USAGE);
            return 2;
        }
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--markdown"))
            markdown = 1;
        else if (!strcmp(a, "--force"))
            force = 1;
        else if (!strcmp(a, "--html"))
            html = argv[++i];
        else if (!strcmp(a, "--phase"))
            w.phase = argv[++i];
        else if (!strcmp(a, "--model-config"))
            config = argv[++i];
        else if (!strcmp(a, "--whatif")) {
            if (n_whatif == PT_WHATIF_MAX) {
                pt_error("compare: at most %d --whatif layouts", PT_WHATIF_MAX);
                return 2;
            }
            whatif[n_whatif++] = argv[++i];
        } else if (!strcmp(a, "--gpus")) {
            char *end;
            gpus = strtol(argv[++i], &end, 10);
            if (*end || gpus < 1 || gpus > 4096) {
                pt_error("compare: --gpus takes a whole number from 1 to 4096, not '%s'", argv[i]);
                return 2;
            }
        }
        else if (!strcmp(a, "--from") || !strcmp(a, "--to")) {
            char *end;
            double v = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || v < 0) {
                pt_error("compare: %s takes seconds after the run's start, not '%s'", a, argv[i + 1]);
                return 2;
            }
            *(a[2] == 'f' ? &w.from_s : &w.to_s) = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            pt_error("compare: unknown option '%s' (%s)", a, USAGE);
            return 2;
        } else if (n == PT_COMPARE_MAX_RUNS) {
            pt_error("compare: at most %d runs", PT_COMPARE_MAX_RUNS);
            return 2;
        } else {
            runs[n++] = a;
        }
    }
    if (json && markdown) {
        pt_error("compare: choose one of --json and --markdown");
        return 2;
    }
    if (n < 1) {
        pt_error("compare: which runs? (%s)", USAGE);
        return 2;
    }
    if ((config || gpus) && !n_whatif) {
        pt_error("compare: %s is for --whatif", config ? "--model-config" : "--gpus");
        return 2;
    }
    if (n + n_whatif + 1 > PT_COMPARE_MAX_RUNS) {
        pt_error("compare: at most %d rows: %d runs, %d --whatif layouts and the first run's own predicted",
                 PT_COMPARE_MAX_RUNS, n, n_whatif);
        return 2;
    }
    if (w.to_s >= 0 && w.to_s <= w.from_s) {
        pt_error("compare: --to (%g s) must come after --from (%g s)", w.to_s, w.from_s);
        return 2;
    }
    struct stat st;
    if (html && !force && stat(html, &st) == 0) {
        pt_error("compare: %s exists (--force replaces it)", html);
        return 2;
    }
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
    const struct pt_output *shown = json ? &pt_output_json : markdown ? &pt_output_markdown : &pt_output_text;
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
