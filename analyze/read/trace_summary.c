#include "read/trace_summary.h"

#include <stdio.h>
#include <string.h>

#include "read/trace_context.h"

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
    struct pt_trace_ctx ctx = {0};
    const struct pt_rec_hdr *h;
    while (pt_reader_next(r, &h) == 1) {
        pt_trace_ctx_learn(&ctx, h);
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
        case PT_REC_KERNEL: {
            const struct pt_rec_kernel *k = (const void *)h;
            const char *cls = pt_trace_ctx_comm_class(&ctx, k->name_id);
            if (cls && strcmp(cls, "nccl") == 0) {
                s->nccl_kernels++;
                s->nccl_kernels_tied += pt_trace_ctx_kernel_call(&ctx, k) != 0;
            }
            if (!s->gpu_first_ns || k->start_ns < s->gpu_first_ns)
                s->gpu_first_ns = k->start_ns;
            if (k->end_ns > s->gpu_last_ns)
                s->gpu_last_ns = k->end_ns;
            break;
        }
        case PT_REC_MEMORY: {
            const struct pt_rec_memory *m = (const void *)h;
            int64_t delta = m->operation == 1 ? (int64_t)m->bytes : -(int64_t)m->bytes;
            int64_t *in_use = NULL, *peak = NULL;
            if (m->memory_kind == 3 && m->device < 16) /* device */
                in_use = &s->device_in_use[m->device], peak = &s->device_peak[m->device];
            else if (m->memory_kind == 2) /* pinned host */
                in_use = &s->pinned_in_use, peak = &s->pinned_peak;
            if (in_use) {
                /* A free of memory allocated before recording started cannot go below 0. */
                *in_use = *in_use + delta < 0 ? 0 : *in_use + delta;
                if (*in_use > *peak)
                    *peak = *in_use;
            }
            break;
        }
        case PT_REC_GPU:
            if (s->n_gpus < sizeof s->gpus / sizeof *s->gpus)
                s->gpus[s->n_gpus++] = *(const struct pt_rec_gpu *)h;
            break;
        case PT_REC_CUDA_STATUS:
            s->cuda = *(const struct pt_rec_cuda_status *)h;
            break;
        case PT_REC_NVTX:
            s->capture_ranges += pt_nvtx_is_capture_start((const struct pt_rec_nvtx *)h);
            break;
        case PT_REC_THREAD:
            widen(s, ((const struct pt_rec_thread *)h)->ts_ns, ((const struct pt_rec_thread *)h)->ts_ns);
            break;
        }
    }
    pt_trace_ctx_free(&ctx);
    s->stats = *pt_reader_stats(r);
    const char *w = pt_reader_warning(r);
    if (w)
        snprintf(s->warning, sizeof s->warning, "%s", w);
    pt_reader_close(r);
    return 0;
}
