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
#include "commands/options.h"
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

static const struct pt_option options[] = {
    {"--json", NULL, "print JSON", 0},
    {"--markdown", NULL, "print Markdown", 0},
    {"--html", "FILE", "also write an offline page", 0},
    {"--force", NULL, "replace the --html FILE if it exists", 0},
    {"--from", "S", "from S seconds after the run's first event", 0},
    {"--to", "S", "up to S seconds after the run's first event", 0},
    {"--phase", "NAME", "inside NVTX ranges NAME", 0},
    {"--layout", "L", "tp=N,pp=N,dp=N,ep=N instead of the inferred axes", 0},
    {"--trust-clocks", NULL, "take the hosts' clocks as they are (no alignment)", 0},
    {"--fail-if", "EXPR", "exit 3 when EXPR holds: 'tp_comm_pct > 15'", 1},
    {0},
};
const struct pt_command pt_cmd_report = {
    "report", "RUN", "collectives, stragglers, where GPU time went, serving; a CI gate", options, cmd_report, 1, 1,
    0, "docs/partrace-report.md", "which run?"};

int cmd_report(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_report, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const struct pt_output *shown_as;
    struct pt_report_opts opts = {.window = {.from_s = 0, .to_s = -1}};
    if (pt_arg_output(&a, &shown_as) || pt_arg_window(&a, &opts.window))
        return PT_EXIT_USAGE;
    int json = pt_flag(&a, "--json"), n_gates = pt_arg_count(&a, "--fail-if");
    const char *path = a.operands[0], *html = pt_arg(&a, "--html");
    opts.trust_clocks = pt_flag(&a, "--trust-clocks");
    char err[512];
    if (pt_arg(&a, "--layout") && pt_layout_parse(pt_arg(&a, "--layout"), &opts.given, err, sizeof err) != 0) {
        pt_error("report: --layout '%s': %s", pt_arg(&a, "--layout"), err);
        return PT_EXIT_USAGE;
    }
    struct pt_gate gates[PT_MAX_REPEATS];
    for (int g = 0; g < n_gates; g++)
        if (pt_gate_parse(pt_arg_at(&a, "--fail-if", g), &gates[g], err, sizeof err) != 0) {
            pt_error("report: --fail-if %s", err);
            return PT_EXIT_USAGE;
        }
    if (html && pt_output_file_ready("report", html, pt_flag(&a, "--force")) != 0)
        return PT_EXIT_USAGE;
    opts.quiet = json;
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
