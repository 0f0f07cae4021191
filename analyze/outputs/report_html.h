/* `partrace report --html FILE`: one self-contained page (inline CSS, no script, no network)
 * with a stacked bar of each rank's attribution, a per-phase view, the collectives and the
 * stragglers. */
#ifndef PT_REPORT_HTML_H
#define PT_REPORT_HTML_H

#include <stdio.h>

#include "analyses/report_build.h"

/* One phase's report (NVTX ranges of that name), for the per-phase view. */
struct pt_html_phase {
    const char *name;
    const struct pt_report *report;
};

/* Writes the page to out. source: what was read (shown as the title). */
void pt_report_html(FILE *out, const char *source, const struct pt_report *r,
                    const char *window_text, const struct pt_html_phase *phases, int n_phases);

#endif
