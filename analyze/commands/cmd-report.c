/* partrace report [--json|--markdown] [window] [--layout] [--fail-if]... PATH: prints what
 * report_build gathered: communicators and roles, the layout, the collectives matched across
 * ranks, the stragglers, where each GPU's time went; then runs the CI gates. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/compare.h"
#include "analyses/fail_if.h"
#include "analyses/report_build.h"
#include "commands/cli.h"
#include "outputs/output.h"


/* Evaluates every --fail-if over the ranks' attribution. Returns 3 when any holds, else 0. */
static int run_gates(const struct pt_report *shown, const char *path, const struct pt_gate *gates,
                     int n_gates)
{
    struct pt_compare_run run; /* the run's own figures, for gates that name one */
    int have_run = 0;
    size_t n = shown->n;
    double (*pct)[PT_GATE_METRICS] = calloc(n ? n : 1, sizeof *pct);
    size_t ranks = 0;
    for (size_t i = 0; pct && i < n; i++) {
        uint64_t cat[PT_CATS], hidden, span;
        double share[PT_CATS];
        if (!pt_report_shares(shown, i, cat, share, &hidden, &span))
            continue;
        memcpy(pct[ranks++], share, sizeof pct[0]);
    }
    int status = 0;
    for (int g = 0; g < n_gates; g++) {
        double v = 0;
        if (gates[g].metric < 0) {
            if (!have_run++) {
                int with_memory = 0;
                for (int k = 0; k < n_gates; k++)
                    with_memory |= gates[k].metric < 0 && gates[k].run_metric == PT_RM_mem_peak_gib;
                pt_compare_run_of(shown, path, with_memory, &run);
            }
            v = run.v[gates[g].run_metric];
            int holds = pt_gate_eval_value(&gates[g], v);
            if (holds < 0)
                pt_error("fail-if '%s': this run does not tell %s", gates[g].text,
                         pt_run_metric_names[gates[g].run_metric]);
            else if (holds)
                pt_error("fail-if '%s' holds: %.3f", gates[g].text, v);
            if (holds)
                status = 3;
            continue;
        }
        int holds = pct ? pt_gate_eval(&gates[g], (const double(*)[PT_GATE_METRICS])pct, ranks, &v) : -1;
        if (holds < 0) {
            pt_error("fail-if '%s': no GPU attribution in this run (no kernel records)", gates[g].text);
            status = 3;
        } else if (holds) {
            pt_error("fail-if '%s' holds: %.3f over %zu ranks", gates[g].text, v, ranks);
            status = 3;
        }
    }
    free(pct);
    return status;
}

/* Each NVTX phase's own report (one more pass per range name), for the per-phase views of the
 * text, Markdown and HTML (unless the report is itself one phase). Returns how many. */
static int phase_reports(const char *source, const struct pt_report *rep, const struct pt_report_opts *opts,
                         struct pt_report *reps, struct pt_report_phase *phases)
{
    int n = 0;
    for (int p = 0; !opts->window.phase && p < rep->n_phase_names; p++) {
        struct pt_report_opts o = *opts;
        o.window.phase = rep->phase_names[p];
        o.window.run_start = 0;
        o.again = o.quiet = 1;
        if (pt_report_build(source, &o, &reps[n]) != 0) {
            pt_report_free(&reps[n]);
            continue;
        }
        phases[n] = (struct pt_report_phase){rep->phase_names[p], &reps[n]};
        n++;
    }
    return n;
}

/* The HTML page. Returns 0, or -1 when FILE could not be written. */
static int write_html(const char *file, const struct pt_report_view *view)
{
    FILE *out = fopen(file, "w");
    int bad = !out;
    if (out) {
        pt_output_html.report(out, view);
        bad = ferror(out);
        bad |= fclose(out) != 0;
    }
    if (bad)
        pt_error("report: cannot write --html %s", file);
    return bad ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
    int json = 0, markdown = 0, n_gates = 0;
    const char *html = NULL;
    struct pt_report_opts opts = {.window = {.from_s = 0, .to_s = -1}};
    struct pt_gate gates[16];
    const char *path = NULL;
    static const char *const with_value[] = {"--from", "--to", "--phase", "--layout", "--html"};
    for (int i = 1; i < argc; i++) {
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
            if (!strcmp(argv[i], with_value[k]) && (i + 1 >= argc || !argv[i + 1][0])) {
                pt_error("report: %s needs a value", argv[i]);
                return 2;
            }
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = 1;
        else if (strcmp(argv[i], "--trust-clocks") == 0)
            opts.trust_clocks = 1;
        else if ((strcmp(argv[i], "--from") == 0 || strcmp(argv[i], "--to") == 0) && i + 1 < argc) {
            char *end = NULL;
            double v = strtod(argv[i + 1], &end);
            if (end == argv[i + 1] || *end || v < 0) {
                pt_error("report: %s takes seconds after the run's start, not '%s'", argv[i],
                          argv[i + 1]);
                return 2;
            }
            *(argv[i][2] == 'f' ? &opts.window.from_s : &opts.window.to_s) = v;
            i++;
        } else if (strcmp(argv[i], "--layout") == 0 && i + 1 < argc) {
            char err[256];
            if (pt_layout_parse(argv[i + 1], &opts.given, err, sizeof err) != 0) {
                pt_error("report: --layout '%s': %s", argv[i + 1], err);
                return 2;
            }
            i++;
        } else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc && argv[i + 1][0]) {
            html = argv[++i];
        } else if (strcmp(argv[i], "--phase") == 0 && i + 1 < argc && argv[i + 1][0])
            opts.window.phase = argv[++i];
        else if (strcmp(argv[i], "--fail-if") == 0) {
            char err[512];
            if (i + 1 >= argc) {
                pt_error("report: --fail-if needs an expression, e.g. 'tp_comm_pct > 15'");
                return 2;
            }
            if (n_gates == 16) {
                pt_error("report: at most 16 --fail-if");
                return 2;
            }
            if (pt_gate_parse(argv[++i], &gates[n_gates], err, sizeof err) != 0) {
                pt_error("report: --fail-if %s", err);
                return 2;
            }
            n_gates++;
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            pt_error("report: unknown option '%s' (usage: partrace report [--json|--markdown] "
                      "[--from S] [--to S] [--phase NAME] [--layout tp=N,pp=N,dp=N,ep=N] [--html FILE] [--trust-clocks] "
                      "[--fail-if EXPR]... PATH)",
                      argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            pt_error("report: more than one PATH ('%s', '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        pt_error("report: missing PATH (usage: partrace report [--json|--markdown] "
                  "[--fail-if EXPR]... PATH)");
        return 2;
    }
    opts.quiet = json;
    if (json && markdown) {
        pt_error("report: choose one of --json and --markdown");
        return 2;
    }
    if (opts.window.to_s >= 0 && opts.window.to_s <= opts.window.from_s) {
        pt_error("report: --to (%g s) must come after --from (%g s)", opts.window.to_s,
                  opts.window.from_s);
        return 2;
    }
    struct pt_report rep;
    if (pt_report_build(path, &opts, &rep) != 0) {
        pt_report_free(&rep);
        return 1;
    }
    struct pt_report phase_reps[PT_REPORT_PHASES];
    struct pt_report_phase phases[PT_REPORT_PHASES];
    /* Only the outputs that show them, and only with GPU records (the per-phase view is of GPU
     * time): each phase is one more pass over the run. */
    int n_phases = (json && !html) || !rep.gpu ? 0 : phase_reports(path, &rep, &opts, phase_reps, phases);
    const struct pt_report_view view = {.source = path, .rep = &rep,
                                        .window = rep.windowed ? &opts.window : NULL,
                                        .clocks_trusted = opts.trust_clocks,
                                        .phases = phases, .n_phases = n_phases};
    const struct pt_output *shown_as = json ? &pt_output_json : markdown ? &pt_output_markdown : &pt_output_text;
    shown_as->report(stdout, &view);
    fflush(stdout);
    int status = run_gates(&rep, path, gates, n_gates);
    if (html && write_html(html, &view) != 0 && status == 0)
        status = 1;
    for (int p = 0; p < n_phases; p++)
        pt_report_free(&phase_reps[p]);
    pt_report_free(&rep);
    return status;
}
