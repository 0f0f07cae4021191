/* `partrace report --markdown`: the text report's content as GitHub-flavoured Markdown tables,
 * for a CI job summary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/names.h"
#include "outputs/output.h"
#include "outputs/report_print.h"
#include "util/text_escape.h"

/* The report being printed and where (set at entry: the printers' common input). */
static FILE *out;
static const struct pt_report *shown;
static const struct pt_window *report_window; /* NULL: the whole run */
static const struct pt_report_view *view;

/* The same content for a CI job summary (GitHub-flavoured Markdown tables). */
static void print_markdown(void)
{
    const struct pt_collectives *c = shown->c;
    const struct pt_role *roles = shown->roles;
    const struct pt_layout *l = &shown->layout;
    const struct pt_rank_totals *t = shown->totals;
    const size_t *by_rank = shown->by_rank;
    size_t n_files = shown->n;
    int gpu = shown->gpu;
    fprintf(out, "## partrace report\n\n%d ranks, layout TP=%d PP=%d DP=%d EP=%d; timing from %s.\n\n",
           l->world, l->tp, l->pp, l->dp, l->ep, gpu ? "GPU kernels" : "host calls only");
    if (report_window) {
        char w[512];
        pt_report_describe_window(report_window, w, sizeof w);
        fprintf(out, "Window: ");
        pt_md_escape(out, w, strlen(w));
        fprintf(out, ".\n\n");
    }
    if (gpu) {
        fprintf(out, "| rank | GPU span ms |");
        for (int k = 0; k < PT_CATS; k++)
            fprintf(out, " %s %% |", pt_cat_names[k]);
        fprintf(out, " hidden comm ms |\n|---|---|");
        for (int k = 0; k < PT_CATS; k++)
            fprintf(out, "---|");
        fprintf(out, "---|\n");
        for (size_t o = 0; o < n_files; o++) {
            size_t i = by_rank[o];
            uint64_t cat[PT_CATS], hidden, span;
            double pct[PT_CATS];
            if (!pt_report_shares(shown, i, cat, pct, &hidden, &span))
                continue;
            fprintf(out, "| %d | %.3f |", t[i].rank, (double)span / 1e6);
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, " %.1f |", pct[k]);
            fprintf(out, " %.3f |\n", (double)hidden / 1e6);
        }
        fprintf(out, "\n");
        if (view->n_phases) {
            fprintf(out, "Per phase (NVTX ranges of each name; %% of GPU time inside them, mean over ranks):\n\n"
                         "| phase | GPU ms/rank |");
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, " %s %% |", pt_cat_names[k]);
            fprintf(out, "\n|---|---|");
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, "---|");
            fprintf(out, "\n");
        }
        for (int p = 0; p < view->n_phases; p++) {
            double pct[PT_CATS];
            uint64_t ns[PT_CATS], span = 0;
            int ranks = pt_report_mean_shares(view->phases[p].report, pct, ns, &span);
            fprintf(out, "| ");
            pt_md_escape(out, view->phases[p].name, strlen(view->phases[p].name));
            fprintf(out, " | %.3f |", ranks ? (double)span / 1e6 / ranks : 0.0);
            for (int k = 0; k < PT_CATS; k++)
                fprintf(out, " %.1f |", pct[k]);
            fprintf(out, "\n");
        }
        if (view->n_phases)
            fprintf(out, "\n");
    }
    pt_report_print_seed(out, shown, "- ");
    fprintf(out, "\n");
    fprintf(out, "| role | communicator | ranks | op | bytes | count | timed on GPU | time ms | algbw GB/s "
           "| busbw GB/s | wait ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (struct pt_report_row w = {0}; pt_report_next_row(shown, &w);) {
        struct pt_row_cells cell;
        pt_report_row_cells(&w, &cell);
        fprintf(out, "| %s | `%016" PRIx64 "` | %s | %s | %s | %" PRIu64 " | %" PRIu64
               " | %.3f | %s | %s | %.3f |\n",
               roles[w.comm].role, w.s->id, cell.ranks, pt_op_name(w.op), cell.bytes, w.k->count, w.k->gpu_timed,
               (double)w.k->transfer_ns / 1e6, cell.algbw, cell.busbw, (double)w.k->wait_ns / 1e6);
    }
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        char note[512];
        if (pt_report_missing_ranks(pt_collectives_comm(c, i), note, sizeof note))
            fprintf(out, "\n**Incomplete:** %s.\n", note);
    }
    fprintf(out, "\n| role | communicator | straggler | last in | waiting caused ms |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < pt_collectives_count(c); i++) {
        const struct pt_comm_stats *s = pt_collectives_comm(c, i);
        uint64_t total;
        int32_t worst = pt_report_straggler(s, &total);
        if (worst >= 0)
            fprintf(out, "| %s | `%016" PRIx64 "` | rank %d | %" PRIu64 " of %" PRIu64 " | %.3f |\n",
                   roles[i].role, s->id, s->member_rank[worst], s->last_count[worst],
                   s->instances + s->pairs, (double)s->late_cost_ns[worst] / 1e6);
    }
}

static void report_markdown(FILE *to, const struct pt_report_view *v)
{
    out = to;
    view = v;
    shown = v->rep;
    report_window = v->window;
    print_markdown();
}

const struct pt_output pt_output_markdown = {.name = "markdown", .report = report_markdown, .compare = pt_compare_markdown,
                                       .whatif = pt_whatif_markdown};
