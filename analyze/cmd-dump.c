/* partrace dump [--json] PATH: every record of every trace file, one line each, in file order.
 * --json prints JSON Lines (schema in docs/partrace-dump.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "cli.h"
#include "names.h"
#include "trace_reader.h"
#include "trace_set.h"

/* Prints a string as a JSON string literal. */
static void json_string(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void dump_json(const struct pt_rec_hdr *h, uint32_t pid)
{
    printf("{\"kind\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32, pt_kind_name(h->kind), pid, h->tid);
    switch (h->kind) {
    case PT_REC_NCCL_CALL: {
        const struct pt_rec_nccl_call *c = (const void *)h;
        printf(",\"op\":\"%s\",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"comm\":\"0x%016" PRIx64
               "\",\"seq\":%" PRIu64 ",\"rank\":%" PRId32 ",\"nranks\":%" PRId32
               ",\"device\":%" PRId32 ",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64
               ",\"dtype\":\"%s\",\"redop\":\"%s\",\"peer\":%" PRId32 ",\"stream\":\"0x%" PRIx64
               "\",\"aux\":\"0x%" PRIx64 "\",\"call_id\":%" PRIu64 ",\"group_id\":%" PRIu64
               ",\"group_depth\":%u,\"result\":%d}\n",
               pt_op_name(c->op), c->t_enter_ns, c->t_exit_ns - c->t_enter_ns, c->comm_id, c->seq,
               c->rank, c->nranks, c->device, c->count, c->bytes, pt_dtype_name(c->dtype),
               pt_redop_name(c->redop), c->peer, c->stream, c->aux, c->call_id, c->group_id,
               c->group_depth, c->result);
        return;
    }
    case PT_REC_COMM_INIT: {
        const struct pt_rec_comm_init *c = (const void *)h;
        printf(",\"how\":\"%s\",\"ts_ns\":%" PRIu64 ",\"dur_ns\":%" PRIu64 ",\"comm\":\"0x%016" PRIx64
               "\",\"parent\":\"0x%016" PRIx64 "\",\"rank\":%" PRId32 ",\"nranks\":%" PRId32
               ",\"device\":%" PRId32 ",\"color\":%" PRId32 ",\"key\":%" PRId32
               ",\"handle\":\"0x%" PRIx64 "\",\"call_id\":%" PRIu64
               ",\"local_id\":%s,\"nonblocking\":%s,\"result\":%d}\n",
               pt_comm_how_name(c->how), c->t_enter_ns, c->t_exit_ns - c->t_enter_ns, c->comm_id,
               c->parent_comm_id, c->rank, c->nranks, c->device, c->color, c->key, c->handle,
               c->call_id, c->flags & PT_COMM_LOCAL_ID ? "true" : "false",
               c->flags & PT_COMM_NONBLOCKING ? "true" : "false", c->result);
        return;
    }
    case PT_REC_THREAD: {
        const struct pt_rec_thread *t = (const void *)h;
        printf(",\"ts_ns\":%" PRIu64 ",\"serial\":%" PRIu32 ",\"name\":", t->ts_ns, t->serial);
        json_string(t->name, strnlen(t->name, sizeof t->name));
        printf("}\n");
        return;
    }
    case PT_REC_ATTR: {
        const struct pt_rec_attr *a = (const void *)h;
        printf(",\"attr\":\"%s\",\"value\":", pt_attr_name(a->attr));
        json_string(a->value, a->value_bytes);
        printf("}\n");
        return;
    }
    case PT_REC_STRING: {
        const struct pt_rec_string *s = (const void *)h;
        printf(",\"id\":%" PRIu32 ",\"text\":", s->id);
        json_string(s->text, s->text_bytes);
        printf("}\n");
        return;
    }
    case PT_REC_FLUSH: {
        const struct pt_rec_flush *f = (const void *)h;
        printf(",\"ts_ns\":%" PRIu64 ",\"reason\":\"%s\",\"records_total\":%" PRIu64
               ",\"dropped_total\":%" PRIu64 ",\"frame\":%" PRIu64 ",\"threads\":%" PRIu32 "}\n",
               f->ts_ns, pt_flush_reason_name(f->reason), f->records_total, f->dropped_total,
               f->frame_index, f->threads);
        return;
    }
    case PT_REC_END: {
        const struct pt_rec_end *e = (const void *)h;
        printf(",\"ts_ns\":%" PRIu64 ",\"how\":\"%s\",\"records_total\":%" PRIu64
               ",\"dropped_total\":%" PRIu64 "}\n",
               e->ts_ns, pt_end_how_name(e->how), e->records_total, e->dropped_total);
        return;
    }
    }
    printf("}\n");
}

static void dump_text(const struct pt_rec_hdr *h, uint32_t pid)
{
    switch (h->kind) {
    case PT_REC_NCCL_CALL: {
        const struct pt_rec_nccl_call *c = (const void *)h;
        printf("%" PRIu64 " %" PRIu32 "/%" PRIu32 " nccl %-14s comm=%016" PRIx64 " rank=%" PRId32
               "/%" PRId32 " seq=%" PRIu64 " bytes=%" PRIu64 " count=%" PRIu64 " %s %s peer=%" PRId32
               " dev=%" PRId32 " stream=0x%" PRIx64 " dur=%" PRIu64 "ns group=%" PRIu64 "/%u res=%d\n",
               c->t_enter_ns, pid, h->tid, pt_op_name(c->op), c->comm_id, c->rank, c->nranks,
               c->seq, c->bytes, c->count, pt_dtype_name(c->dtype), pt_redop_name(c->redop),
               c->peer, c->device, c->stream, c->t_exit_ns - c->t_enter_ns, c->group_id,
               c->group_depth, c->result);
        return;
    }
    case PT_REC_COMM_INIT: {
        const struct pt_rec_comm_init *c = (const void *)h;
        printf("%" PRIu64 " %" PRIu32 "/%" PRIu32 " comm_init %s comm=%016" PRIx64
               " parent=%016" PRIx64 " rank=%" PRId32 "/%" PRId32 " dev=%" PRId32 " color=%" PRId32
               " key=%" PRId32 " dur=%" PRIu64 "ns%s%s res=%d\n",
               c->t_enter_ns, pid, h->tid, pt_comm_how_name(c->how), c->comm_id, c->parent_comm_id,
               c->rank, c->nranks, c->device, c->color, c->key, c->t_exit_ns - c->t_enter_ns,
               c->flags & PT_COMM_LOCAL_ID ? " local-id" : "",
               c->flags & PT_COMM_NONBLOCKING ? " nonblocking" : "", c->result);
        return;
    }
    case PT_REC_THREAD: {
        const struct pt_rec_thread *t = (const void *)h;
        printf("%" PRIu64 " %" PRIu32 "/%" PRIu32 " thread serial=%" PRIu32 " name=%.16s\n",
               t->ts_ns, pid, h->tid, t->serial, t->name);
        return;
    }
    case PT_REC_ATTR: {
        const struct pt_rec_attr *a = (const void *)h;
        printf("- %" PRIu32 " attr %s=", pid, pt_attr_name(a->attr));
        for (uint32_t i = 0; i < a->value_bytes; i++)
            putchar(a->value[i] ? a->value[i] : ' ');
        putchar('\n');
        return;
    }
    case PT_REC_STRING: {
        const struct pt_rec_string *s = (const void *)h;
        printf("- %" PRIu32 " string %" PRIu32 "=%.*s\n", pid, s->id, (int)s->text_bytes, s->text);
        return;
    }
    case PT_REC_FLUSH: {
        const struct pt_rec_flush *f = (const void *)h;
        printf("%" PRIu64 " %" PRIu32 " flush %s frame=%" PRIu64 " records=%" PRIu64
               " dropped=%" PRIu64 " threads=%" PRIu32 "\n",
               f->ts_ns, pid, pt_flush_reason_name(f->reason), f->frame_index, f->records_total,
               f->dropped_total, f->threads);
        return;
    }
    case PT_REC_END: {
        const struct pt_rec_end *e = (const void *)h;
        printf("%" PRIu64 " %" PRIu32 " end %s records=%" PRIu64 " dropped=%" PRIu64 "\n", e->ts_ns,
               pid, pt_end_how_name(e->how), e->records_total, e->dropped_total);
        return;
    }
    }
}

int cmd_dump(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("dump: unknown option '%s' (usage: partrace dump [--json] PATH)", argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            cli_error("dump: more than one PATH ('%s', '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        cli_error("dump: missing PATH (usage: partrace dump [--json] PATH)");
        return 2;
    }
    char err[1024];
    struct pt_trace_set set;
    if (pt_trace_set_open(path, &set, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < set.count; i++) {
        struct pt_reader *r;
        if (pt_reader_open(set.paths[i], &r, err, sizeof err) != 0) {
            cli_error("%s", err);
            status = 1;
            continue;
        }
        uint32_t pid = pt_reader_header(r)->pid;
        const struct pt_rec_hdr *h;
        while (pt_reader_next(r, &h) == 1)
            (json ? dump_json : dump_text)(h, pid);
        const char *w = pt_reader_warning(r);
        if (w) {
            fflush(stdout);
            cli_error("warning: %s", w);
            if (pt_reader_stats(r)->corrupt)
                status = 1;
        }
        pt_reader_close(r);
    }
    pt_trace_set_free(&set);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
