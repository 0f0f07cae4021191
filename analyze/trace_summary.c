#include "trace_summary.h"

#include <stdio.h>
#include <string.h>

static void widen(struct pt_trace_summary *s, uint64_t t0, uint64_t t1)
{
    if (!t0)
        return;
    if (!s->t_first_ns || t0 < s->t_first_ns)
        s->t_first_ns = t0;
    if (t1 > s->t_last_ns)
        s->t_last_ns = t1;
}

int pt_trace_summarize(const char *path, struct pt_trace_summary *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    struct pt_reader *r;
    if (pt_reader_open(path, &r, err, errlen) != 0)
        return -1;
    s->header = *pt_reader_header(r);
    const struct pt_rec_hdr *h;
    while (pt_reader_next(r, &h) == 1) {
        if (h->kind < PT_REC_KIND_LIMIT)
            s->by_kind[h->kind]++;
        switch (h->kind) {
        case PT_REC_NCCL_CALL: {
            const struct pt_rec_nccl_call *c = (const void *)h;
            if (c->op < PT_OP_LIMIT)
                s->by_op[c->op]++;
            widen(s, c->t_enter_ns, c->t_exit_ns);
            break;
        }
        case PT_REC_COMM_INIT: {
            const struct pt_rec_comm_init *c = (const void *)h;
            widen(s, c->t_enter_ns, c->t_exit_ns);
            if (s->n_comms < PT_SUMMARY_MAX_COMMS)
                s->comms[s->n_comms++] = *c;
            else
                s->comms_omitted++;
            break;
        }
        case PT_REC_FLUSH: {
            const struct pt_rec_flush *f = (const void *)h;
            s->dropped = f->dropped_total;
            s->last_flush_reason = f->reason;
            s->threads = f->threads;
            break;
        }
        case PT_REC_END: {
            const struct pt_rec_end *e = (const void *)h;
            s->has_end = 1;
            s->end_how = e->how;
            s->dropped = e->dropped_total;
            break;
        }
        case PT_REC_THREAD:
            widen(s, ((const struct pt_rec_thread *)h)->ts_ns, ((const struct pt_rec_thread *)h)->ts_ns);
            break;
        }
    }
    s->stats = *pt_reader_stats(r);
    const char *w = pt_reader_warning(r);
    if (w)
        snprintf(s->warning, sizeof s->warning, "%s", w);
    pt_reader_close(r);
    return 0;
}
