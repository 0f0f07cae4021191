/* Every output of the analysis side behind one interface, and the options they share. Two
 * families: report outputs print a built report, or a comparison of runs (text, markdown, json,
 * html); trace outputs stream a run into a trace file (perfetto, chrome). A command takes the
 * output its options ask for (pt_output_json for --json, ...) and fills the neutral options
 * below; adding an output is one struct pt_output in a file of its own, declared here. */
#ifndef PT_OUTPUT_H
#define PT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "analyses/compare.h"
#include "analyses/report_build.h"
#include "analyses/report_window.h"
#include "analyses/whatif.h"

/* What a trace output is asked for. */
struct pt_output_opts {
    const char *run;           /* run directory or trace file */
    const char *out;           /* output path */
    int gz;                    /* gzip the output */
    int force;                 /* overwrite an existing output */
    struct pt_window window;   /* --from/--to/--phase */
    const char *ranks;         /* --ranks "0,2-3", NULL: all */
};

/* What a trace output wrote. */
struct pt_export_stats {
    uint64_t events_in, slices, flows, counters, packets, bytes, clipped;
    uint64_t timed; /* collective slices that got this rank's wait and transfer */
    uint64_t ranges_left_out; /* NVTX start/end ranges beyond the lanes (32 a process open at once) */
};

/* One phase's report (NVTX ranges of that name), for a per-phase view. */
struct pt_report_phase {
    const char *name;
    const struct pt_report *report;
};

/* A built report as the report outputs take it. */
struct pt_report_view {
    const char *source;                  /* what was read (a title) */
    const struct pt_report *rep;
    const struct pt_window *window;      /* NULL: the whole run */
    int clocks_trusted;                  /* --trust-clocks */
    const struct pt_report_phase *phases; /* each NVTX phase's own report, for outputs that show */
    int n_phases;                        /* them (HTML); none when the report is one phase */
};

struct pt_output {
    const char *name;
    /* Report outputs: writes the report to out. */
    void (*report)(FILE *out, const struct pt_report_view *v);
    /* Trace outputs: writes the run to o->out. Returns 0, 1 when the run could not be read or the
     * output not written, 2 for a bad --ranks list (said on stderr). */
    int (*trace)(const struct pt_output_opts *o, struct pt_export_stats *st);
    /* Report outputs also print a comparison of runs (`partrace compare`), and (not HTML) the
     * predictions of `partrace whatif`: the profile they came from, then c, their rows. */
    void (*compare)(FILE *out, const struct pt_compare *c);
    void (*whatif)(FILE *out, const struct pt_whatif *w, const struct pt_compare *c);
};

/* The comparison printers of the report outputs (outputs/compare_*.c). */
void pt_compare_text(FILE *out, const struct pt_compare *c);
void pt_compare_markdown(FILE *out, const struct pt_compare *c);
void pt_compare_json(FILE *out, const struct pt_compare *c);
void pt_compare_html(FILE *out, const struct pt_compare *c);
/* The predictions' printers (outputs/whatif_*.c). */
void pt_whatif_text(FILE *out, const struct pt_whatif *w, const struct pt_compare *c);
void pt_whatif_markdown(FILE *out, const struct pt_whatif *w, const struct pt_compare *c);
void pt_whatif_json(FILE *out, const struct pt_whatif *w, const struct pt_compare *c);

extern const struct pt_output pt_output_text, pt_output_markdown, pt_output_json, pt_output_html,
    pt_output_perfetto, pt_output_chrome;

#endif
