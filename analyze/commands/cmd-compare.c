/* partrace compare [--json|--markdown] [--html FILE [--force]] [--phase NAME] [--from S]
 * [--to S] RUN RUN...: runs side by side, best values marked, findings most costly first
 * (docs/partrace-compare.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyses/compare.h"
#include "commands/cli.h"
#include "outputs/output.h"

#define USAGE "usage: partrace compare [--json|--markdown] [--html FILE [--force]] [--phase NAME] " \
              "[--from S] [--to S] RUN RUN..."

int cmd_compare(int argc, char **argv)
{
    const char *html = NULL, *runs[PT_COMPARE_MAX_RUNS];
    int n = 0, json = 0, markdown = 0, force = 0;
    struct pt_window w = {.from_s = 0, .to_s = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--html") || !strcmp(a, "--phase") || !strcmp(a, "--from") ||
                    !strcmp(a, "--to");
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
