/* Every record kind's dump printer, as text (one line, for the terminal) and as JSON Lines
 * (docs/partrace-dump.md): one function per kind, found through PT_REC_KINDS, so a kind added
 * to the table without a printer here does not build. */
#include "outputs/dump_records.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "read/trace_reader.h"
#include "util/diag.h"
#include "format/names.h"
#include "util/demangle.h"
#include "util/text_escape.h"

struct dump_at {
    FILE *out;
    uint32_t pid;
    const struct pt_trace_ctx *ctx;
    int json, mangled;
};

/* A kernel's name as shown: demangled unless the mangled one was asked for. */
static const char *kernel_name(const struct dump_at *at, uint32_t id, char *buf, size_t cap)
{
    const char *name = pt_trace_ctx_string(at->ctx, id);
    return at->mangled ? name : pt_demangle_name(name, buf, cap);
}

/* nvidia-smi's spelling of a GPU UUID. */
static void format_uuid(const uint8_t *u, char *out, size_t cap)
{
    snprintf(out, cap,
             "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* A string from the trace, made safe for a terminal (text_escape.h) into buf. */
#define TX(buf, s, n) pt_term_escape_buf(buf, sizeof buf, s, n)

/* A value whose parts are separated by NULs (a command line, environment), on the terminal. */
static void put_text_parts(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i <= n;) {
        size_t len = strnlen(s + i, n - i);
        pt_term_escape(out, s + i, len);
        i += len + 1;
        if (i <= n)
            fputc(' ', out);
    }
}

/* One stack frame as text: symbolised when the trace listed the loaded objects. */
static void format_frame(const struct pt_trace_ctx *ctx, uint64_t pc, char *out, size_t cap)
{
    if (ctx->symbols)
        pt_symbolize(ctx->symbols, pc, out, cap);
    else
        snprintf(out, cap, "0x%" PRIx64, pc);
}

static void dump_ATTR(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_attr *a = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"attr\":\"%s\",\"value\":", pt_attr_name(a->attr));
        pt_json_quoted(at->out, a->value, a->value_bytes);
        fprintf(at->out, "}\n");
    } else {
        fprintf(at->out, "- %" PRIu32 " attr %s=", at->pid, pt_attr_name(a->attr));
        put_text_parts(at->out, a->value, a->value_bytes);
        fputc('\n', at->out);
    }
}

static void dump_THREAD(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_thread *t = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"serial\":%" PRIu32 ",\"name\":", t->ts_ns, t->serial);
        pt_json_quoted(at->out, t->name, strnlen(t->name, sizeof t->name));
        fprintf(at->out, "}\n");
    } else {
        char name[128];
        fprintf(at->out, "%" PRIu64 " %" PRIu32 "/%" PRIu32 " thread serial=%" PRIu32 " name=%s\n",
               t->ts_ns, at->pid, h->tid, t->serial, TX(name, t->name, strnlen(t->name, sizeof t->name)));
    }
}

static void dump_NCCL_CALL(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_nccl_call *c = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"op\":\"%s\",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"comm\":\"0x%016" PRIx64
               "\",\"seq\":%" PRIu64 ",\"rank\":%" PRId32 ",\"nranks\":%" PRId32
               ",\"device\":%" PRId32 ",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"dtype\":\"%s\",\"redop\":\"%s\",\"peer\":%" PRId32 ",\"stream\":\"0x%" PRIx64
               "\",\"aux\":\"0x%" PRIx64 "\",\"call_id\":%" PRIu64 ",\"group_id\":%" PRIu64
               ",\"group_depth\":%u,\"result\":%d}\n",
               pt_op_name(c->op), c->t_enter_ns, c->t_exit_ns - c->t_enter_ns, c->comm_id, c->seq,
               c->rank, c->nranks, c->device, c->count, c->bytes, pt_dtype_name(c->dtype),
               pt_redop_name(c->redop), c->peer, c->stream, c->aux, c->call_id, c->group_id,
               c->group_depth, c->result);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 "/%" PRIu32 " nccl %-14s comm=%016" PRIx64 " rank=%" PRId32
               "/%" PRId32 " seq=%" PRIu64 " bytes=%" PRIu64 " count=%" PRIu64 " %s %s peer=%" PRId32
               " dev=%" PRId32 " stream=0x%" PRIx64 " dur=%" PRIu64 "ns group=%" PRIu64 "/%u res=%d\n",
               c->t_enter_ns, at->pid, h->tid, pt_op_name(c->op), c->comm_id, c->rank, c->nranks,
               c->seq, c->bytes, c->count, pt_dtype_name(c->dtype), pt_redop_name(c->redop),
               c->peer, c->device, c->stream, c->t_exit_ns - c->t_enter_ns, c->group_id,
               c->group_depth, c->result);
    }
}

static void dump_COMM_INIT(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_comm_init *c = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"how\":\"%s\",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"comm\":\"0x%016" PRIx64
               "\",\"parent\":\"0x%016" PRIx64 "\",\"rank\":%" PRId32 ",\"nranks\":%" PRId32
               ",\"device\":%" PRId32 ",\"color\":%" PRId32 ",\"key\":%" PRId32
               ",\"handle\":\"0x%" PRIx64 "\",\"call_id\":%" PRIu64
               ",\"local_id\":%s,\"nonblocking\":%s,\"result\":%d}\n",
               pt_comm_how_name(c->how), c->t_enter_ns, c->t_exit_ns - c->t_enter_ns, c->comm_id,
               c->parent_comm_id, c->rank, c->nranks, c->device, c->color, c->key, c->handle,
               c->call_id, c->flags & PT_COMM_LOCAL_ID ? "true" : "false",
               c->flags & PT_COMM_NONBLOCKING ? "true" : "false", c->result);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 "/%" PRIu32 " comm_init %s comm=%016" PRIx64
               " parent=%016" PRIx64 " rank=%" PRId32 "/%" PRId32 " dev=%" PRId32 " color=%" PRId32
               " key=%" PRId32 " dur=%" PRIu64 "ns%s%s res=%d\n",
               c->t_enter_ns, at->pid, h->tid, pt_comm_how_name(c->how), c->comm_id, c->parent_comm_id,
               c->rank, c->nranks, c->device, c->color, c->key, c->t_exit_ns - c->t_enter_ns,
               c->flags & PT_COMM_LOCAL_ID ? " local-id" : "",
               c->flags & PT_COMM_NONBLOCKING ? " nonblocking" : "", c->result);
    }
}

static void dump_FLUSH(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_flush *f = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"reason\":\"%s\",\"records_total\":%" PRIu64
               ",\"dropped_total\":%" PRIu64 ",\"frame\":%" PRIu64 ",\"threads\":%" PRIu32 "}\n",
               f->ts_ns, pt_flush_reason_name(f->reason), f->records_total, f->dropped_total,
               f->frame_index, f->threads);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " flush %s frame=%" PRIu64 " records=%" PRIu64
               " dropped=%" PRIu64 " threads=%" PRIu32 "\n",
               f->ts_ns, at->pid, pt_flush_reason_name(f->reason), f->frame_index, f->records_total,
               f->dropped_total, f->threads);
    }
}

static void dump_END(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_end *e = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"how\":\"%s\",\"records_total\":%" PRIu64
               ",\"dropped_total\":%" PRIu64 "}\n",
               e->ts_ns, pt_end_how_name(e->how), e->records_total, e->dropped_total);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " end %s records=%" PRIu64 " dropped=%" PRIu64 "\n", e->ts_ns,
               at->pid, pt_end_how_name(e->how), e->records_total, e->dropped_total);
    }
}

static void dump_STRING(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_string *s = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"id\":%" PRIu32 ",\"text\":", s->id);
        pt_json_quoted(at->out, s->text, s->text_bytes);
        fprintf(at->out, "}\n");
    } else {
        fprintf(at->out, "- %" PRIu32 " string %" PRIu32 "=", at->pid, s->id);
        pt_term_escape(at->out, s->text, s->text_bytes);
        fputc('\n', at->out);
    }
}

static void dump_KERNEL(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_kernel *k = (const void *)h;
    if (at->json) {
        char buf[512];
        const char *name = kernel_name(at, k->name_id, buf, sizeof buf);
        const char *cls = pt_trace_ctx_comm_class(at->ctx, k->name_id);
        uint64_t call = pt_trace_ctx_kernel_call(at->ctx, k);
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"name\":", k->start_ns,
               k->end_ns - k->start_ns);
        pt_json_quoted(at->out, name, strlen(name));
        fprintf(at->out, ",\"device\":%" PRIu32 ",\"context\":%" PRIu32 ",\"stream\":%" PRIu32
               ",\"correlation_id\":%" PRIu32 ",\"graph_id\":%" PRIu32 ",\"graph_node_id\":%" PRIu64
               ",\"grid\":[%d,%d,%d],\"block\":[%d,%d,%d],\"smem_static\":%d,\"smem_dynamic\":%d"
               ",\"registers\":%u,\"comm\":",
               k->device, k->context, k->stream, k->correlation_id, k->graph_id, k->graph_node_id,
               k->grid[0], k->grid[1], k->grid[2], k->block[0], k->block[1], k->block[2],
               k->smem_static, k->smem_dynamic, k->registers);
        if (cls)
            fprintf(at->out, "\"%s\"", cls);
        else
            fprintf(at->out, "null");
        if (call)
            fprintf(at->out, ",\"nccl_call\":%" PRIu64 "}\n", call);
        else
            fprintf(at->out, ",\"nccl_call\":null}\n");
    } else {
        char buf[512];
        const char *name = kernel_name(at, k->name_id, buf, sizeof buf);
        char shown[161];
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " kernel dev=%" PRIu32 " stream=%" PRIu32 " dur=%" PRIu64
               "ns corr=%" PRIu32 " nccl_call=%" PRIu64 " graph_node=%" PRIu64 " %s\n",
               k->start_ns, at->pid, k->device, k->stream, k->end_ns - k->start_ns, k->correlation_id,
               pt_trace_ctx_kernel_call(at->ctx, k), k->graph_node_id, TX(shown, name, strlen(name)));
    }
}

static void dump_MEMCPY(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_memcpy *m = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"copy\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"device\":%" PRIu32
               ",\"stream\":%" PRIu32 ",\"correlation_id\":%" PRIu32 ",\"graph_node_id\":%" PRIu64 "}\n",
               m->start_ns, m->end_ns - m->start_ns, m->bytes, pt_copy_kind_name(m->copy_kind),
               pt_memory_kind_name(m->src_kind), pt_memory_kind_name(m->dst_kind), m->device,
               m->stream, m->correlation_id, m->graph_node_id);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " memcpy %s bytes=%" PRIu64 " dev=%" PRIu32 " stream=%" PRIu32
               " dur=%" PRIu64 "ns\n",
               m->start_ns, at->pid, pt_copy_kind_name(m->copy_kind), m->bytes, m->device, m->stream,
               m->end_ns - m->start_ns);
    }
}

static void dump_MEMSET(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_memset *m = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"value\":%" PRIu32 ",\"memory\":\"%s\",\"device\":%" PRIu32 ",\"stream\":%" PRIu32
               ",\"correlation_id\":%" PRIu32 "}\n",
               m->start_ns, m->end_ns - m->start_ns, m->bytes, m->value,
               pt_memory_kind_name((uint8_t)m->memory_kind), m->device, m->stream,
               m->correlation_id);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " memset bytes=%" PRIu64 " dev=%" PRIu32 " stream=%" PRIu32
               " dur=%" PRIu64 "ns\n",
               m->start_ns, at->pid, m->bytes, m->device, m->stream, m->end_ns - m->start_ns);
    }
}

static void dump_MEMORY(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_memory *m = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"op\":\"%s\",\"address\":\"0x%" PRIx64 "\",\"bytes\":%" PRIu64
               ",\"memory\":\"%s\",\"device\":%" PRIu32 ",\"stream\":%" PRIu32
               ",\"pool\":\"0x%" PRIx64 "\",\"pool_type\":\"%s\",\"async\":%s,\"correlation_id\":%" PRIu32 "}\n",
               m->ts_ns, m->operation == 1 ? "alloc" : m->operation == 2 ? "free" : "unknown",
               m->address, m->bytes, pt_memory_kind_name(m->memory_kind), m->device, m->stream,
               m->pool_address, pt_pool_type_name(m->pool_type), m->is_async ? "true" : "false",
               m->correlation_id);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " memory %s %s bytes=%" PRIu64 " addr=0x%" PRIx64 " dev=%" PRIu32
               "%s\n",
               m->ts_ns, at->pid, m->operation == 1 ? "alloc" : "free", pt_memory_kind_name(m->memory_kind),
               m->bytes, m->address, m->device, m->is_async ? " async" : "");
    }
}

static void dump_SYNC(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_sync *y = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"type\":\"%s\",\"stream\":%" PRIu32
               ",\"event\":%" PRIu32 ",\"correlation_id\":%" PRIu32 "}\n",
               y->start_ns, y->end_ns - y->start_ns, pt_sync_type_name(y->type), y->stream,
               y->event_id, y->correlation_id);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " sync %s stream=%" PRIu32 " dur=%" PRIu64 "ns\n", y->start_ns,
               at->pid, pt_sync_type_name(y->type), y->stream, y->end_ns - y->start_ns);
    }
}

static void dump_EXT_CORR(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_ext_corr *e = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"correlation_id\":%" PRIu32 ",\"nccl_call\":%" PRIu64 "}\n", e->correlation_id,
               e->nccl_call_id);
    } else {
        fprintf(at->out, "- %" PRIu32 " ext_corr corr=%" PRIu32 " nccl_call=%" PRIu64 "\n", at->pid,
               e->correlation_id, e->nccl_call_id);
    }
}

static void dump_GPU(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_gpu *g = (const void *)h;
    if (at->json) {
        char uuid[64];
        format_uuid(g->uuid, uuid, sizeof uuid);
        fprintf(at->out, ",\"device\":%" PRIu32 ",\"name\":", g->device);
        pt_json_quoted(at->out, g->name, strnlen(g->name, sizeof g->name));
        fprintf(at->out, ",\"uuid\":\"%s\",\"pci_bus_id\":", uuid);
        pt_json_quoted(at->out, g->pci_bus_id, strnlen(g->pci_bus_id, sizeof g->pci_bus_id));
        fprintf(at->out, ",\"sm_count\":%" PRIu32 ",\"memory_bytes\":%" PRIu64 "}\n", g->sm_count,
               g->total_memory_bytes);
    } else {
        char uuid[64], name[512], bus[128];
        format_uuid(g->uuid, uuid, sizeof uuid);
        fprintf(at->out, "- %" PRIu32 " gpu %" PRIu32 " %s sms=%" PRIu32 " mem=%" PRIu64 " bus=%s %s\n",
               at->pid, g->device, TX(name, g->name, strnlen(g->name, sizeof g->name)), g->sm_count,
               g->total_memory_bytes,
               TX(bus, g->pci_bus_id, strnlen(g->pci_bus_id, sizeof g->pci_bus_id)), uuid);
    }
}

static void dump_GRAPH_NODE(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_graph_node *g = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"graph_id\":%" PRIu32 ",\"node_id\":%" PRIu64
               ",\"cloned_from\":%" PRIu64 ",\"nccl_call\":%" PRIu64 "}\n",
               g->ts_ns, g->graph_id, g->node_id, g->original_node_id, g->nccl_call_id);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " graph_node graph=%" PRIu32 " node=%" PRIu64
               " cloned_from=%" PRIu64 " nccl_call=%" PRIu64 "\n",
               g->ts_ns, at->pid, g->graph_id, g->node_id, g->original_node_id, g->nccl_call_id);
    }
}

static void dump_NVTX(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_nvtx *n = (const void *)h;
    if (at->json) {
        const char *domain = n->domain_id ? pt_trace_ctx_string(at->ctx, n->domain_id) : "";
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"event\":\"%s\",\"range_id\":%" PRIu64 ",\"domain\":",
               n->ts_ns, pt_nvtx_event_name(n->event), n->range_id);
        pt_json_quoted(at->out, domain, strlen(domain));
        fprintf(at->out, ",\"text\":");
        pt_json_quoted(at->out, n->text, n->text_bytes);
        fprintf(at->out, ",\"color\":%" PRIu32 ",\"category\":%" PRIu32 "}\n", n->color, n->category);
    } else {
        const char *domain = n->domain_id ? pt_trace_ctx_string(at->ctx, n->domain_id) : "";
        char dom[1024], text[4096];
        fprintf(at->out, "%" PRIu64 " %" PRIu32 "/%" PRIu32 " nvtx %s %s%s%s\n", n->ts_ns, at->pid, h->tid,
               pt_nvtx_event_name(n->event), TX(dom, domain, strlen(domain)),
               n->domain_id ? ": " : "", TX(text, n->text, n->text_bytes));
    }
}

static void dump_CUDA_STATUS(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_cuda_status *c = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"state\":\"%s\",\"level\":\"%s\",\"buffers_refused\":%" PRIu64
               "}\n",
               c->ts_ns, pt_cuda_state_name(c->state), pt_cuda_level_name(c->level),
               c->buffers_refused);
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " cuda_status %s level=%s buffers_refused=%" PRIu64 "\n",
               c->ts_ns, at->pid, pt_cuda_state_name(c->state), pt_cuda_level_name(c->level),
               c->buffers_refused);
    }
}

static void dump_STACK(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_stack *s = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"ref_kind\":\"%s\",\"ref\":%" PRIu64 ",\"frames\":[", pt_kind_name(s->ref_kind), s->ref);
        for (uint16_t i = 0; i < s->frames; i++) {
            char frame[512];
            format_frame(at->ctx, s->pc[i], frame, sizeof frame);
            fprintf(at->out, i ? "," : "");
            pt_json_quoted(at->out, frame, strlen(frame));
        }
        fprintf(at->out, "]}\n");
    } else {
        fprintf(at->out, "- %" PRIu32 " stack of %s %" PRIu64 ":", at->pid, pt_kind_name(s->ref_kind), s->ref);
        for (uint16_t i = 0; i < s->frames; i++) {
            char frame[512];
            format_frame(at->ctx, s->pc[i], frame, sizeof frame);
            fputs(i ? " < " : " ", at->out);
            pt_term_escape(at->out, frame, strlen(frame));
        }
        fputc('\n', at->out);
    }
}

static void dump_MODULE(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_module *m = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"start\":\"0x%" PRIx64 "\",\"end\":\"0x%" PRIx64 "\",\"path\":", m->start, m->end);
        pt_json_quoted(at->out, m->path, strnlen(m->path, m->hdr.size - sizeof *m));
        fprintf(at->out, "}\n");
    } else {
        fprintf(at->out, "- %" PRIu32 " module 0x%" PRIx64 "-0x%" PRIx64 " ", at->pid, m->start, m->end);
        pt_term_escape(at->out, m->path, strnlen(m->path, m->hdr.size - sizeof *m));
        fputc('\n', at->out);
    }
}

static void dump_CUDA_API(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_cuda_api *a = (const void *)h;
    if (at->json) {
        const char *name = pt_trace_ctx_string(at->ctx, a->name_id);
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"name\":", a->start_ns,
               a->end_ns - a->start_ns);
        pt_json_quoted(at->out, name, strlen(name));
        fprintf(at->out, ",\"api\":\"%s\",\"correlation_id\":%" PRIu32 ",\"thread_id\":%" PRIu32
               ",\"result\":%" PRIu32 "}\n",
               a->domain == 1 ? "runtime" : "driver", a->correlation_id, a->thread_id, a->result);
    } else {
        const char *api = pt_trace_ctx_string(at->ctx, a->name_id);
        char name[1024];
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " cuda_api %s dur=%" PRIu64 "ns corr=%" PRIu32 " res=%" PRIu32 "\n",
               a->start_ns, at->pid, TX(name, api, strlen(api)), a->end_ns - a->start_ns,
               a->correlation_id, a->result);
    }
}

static void dump_STREAM(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_stream *s = (const void *)h;
    if (at->json) {
        fprintf(at->out, ",\"handle\":\"0x%" PRIx64 "\",\"stream_id\":%" PRIu32 ",\"context\":%" PRIu32 "}\n",
               s->handle, s->stream_id, s->context_id);
    } else {
        fprintf(at->out, "- %" PRIu32 " stream 0x%" PRIx64 " = CUPTI stream %" PRIu32 "\n", at->pid, s->handle,
               s->stream_id);
    }
}

static void dump_METRIC(const struct pt_rec_hdr *h, const struct dump_at *at)
{
    const struct pt_rec_metric *m = (const void *)h;
    const char *series = pt_trace_ctx_string(at->ctx, m->series_id);
    if (at->json) {
        fprintf(at->out, ",\"ts_ns\":%" PRIu64 ",\"series\":", m->ts_ns);
        pt_json_quoted(at->out, series, strlen(series));
        if (isfinite(m->value))
            fprintf(at->out, ",\"value\":%.17g", m->value);
        else
            fprintf(at->out, ",\"value\":\"%s\"", isnan(m->value) ? "NaN" : m->value > 0 ? "+Inf" : "-Inf");
        fprintf(at->out, ",\"type\":\"%s\"}\n", pt_metric_type_name(m->type));
    } else {
        fprintf(at->out, "%" PRIu64 " %" PRIu32 " metric %s ", m->ts_ns, at->pid, pt_metric_type_name(m->type));
        pt_term_escape(at->out, series, strlen(series));
        fprintf(at->out, " %.17g\n", m->value);
    }
}

typedef void dump_fn(const struct pt_rec_hdr *h, const struct dump_at *at);
static dump_fn *const printers[PT_REC_KIND_LIMIT] = {
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit) [PT_REC_##name] = dump_##name,
    PT_REC_KINDS(PT_X)
#undef PT_X
};

void pt_dump_record(FILE *out, const struct pt_rec_hdr *h, uint32_t pid, const struct pt_trace_ctx *ctx, int json,
                    int mangled)
{
    const struct dump_at at = {out, pid, ctx, json, mangled};
    dump_fn *print = h->kind < PT_REC_KIND_LIMIT ? printers[h->kind] : NULL;
    if (json)
        fprintf(out, "{\"kind\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32, pt_kind_name(h->kind), pid, h->tid);
    if (print)
        print(h, &at);
    else if (json)
        fprintf(out, "}\n");
}

int pt_dump_file(FILE *out, const char *path, int json, int mangled, int *damaged, char *err, size_t errlen)
{
    struct pt_reader *r;
    *damaged = 0;
    if (pt_reader_open(path, &r, err, errlen) != 0)
        return -1;
    uint32_t pid = pt_reader_header(r)->pid;
    struct pt_trace_ctx ctx = {0};
    const struct pt_rec_hdr *h;
    while (pt_reader_next(r, &h) == 1) {
        pt_trace_ctx_learn(&ctx, h);
        pt_dump_record(out, h, pid, &ctx, json, mangled);
    }
    pt_trace_ctx_free(&ctx);
    const char *w = pt_reader_warning(r);
    if (w) {
        snprintf(err, errlen, "%s", w);
        *damaged = pt_reader_stats(r)->corrupt != 0;
    }
    pt_reader_close(r);
    return w ? 1 : 0;
}
