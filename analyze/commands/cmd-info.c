/* partrace info PATH: per trace file, who recorded it, what it holds, and whether it is whole. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "format/names.h"
#include "util/text_escape.h"
#include "read/trace_reader.h"
#include "read/trace_set.h"
#include "read/trace_summary.h"

static void print_attrs(const char *path)
{
    struct pt_reader *r;
    char err[256];
    if (pt_reader_open(path, &r, err, sizeof err) != 0)
        return;
    const struct pt_rec_hdr *h;
    int env_open = 0;
    /* Attributes come first in a trace: stop at the first record of another kind. */
    while (pt_reader_next(r, &h) == 1 && h->kind == PT_REC_ATTR) {
        const struct pt_rec_attr *a = (const void *)h;
        if (a->attr == PT_ATTR_ENV) {
            fputs(env_open ? " " : "  env       ", stdout);
            pt_term_escape(stdout, a->value, strnlen(a->value, a->value_bytes));
            env_open = 1;
            continue;
        }
        if (env_open)
            putchar('\n');
        env_open = 0;
        /* Long command lines are cut for the summary; `dump` prints them whole. */
        const uint32_t shown = a->value_bytes > 200 ? 200 : a->value_bytes;
        printf("  %-9s ", a->attr == PT_ATTR_CMDLINE ? "command" : pt_attr_name(a->attr));
        for (uint32_t i = 0; i < shown;) {
            uint32_t len = (uint32_t)strnlen(a->value + i, shown - i);
            pt_term_escape(stdout, a->value + i, len);
            i += len;
            for (; i < shown && !a->value[i]; i++)
                putchar(' ');
        }
        printf("%s\n", shown < a->value_bytes ? " ..." : "");
    }
    if (env_open)
        putchar('\n');
    pt_reader_close(r);
}

static void print_summary(const char *path, const struct pt_trace_summary *s)
{
    const struct pt_file_header *h = &s->header;
    char when[64] = "?";
    time_t secs = (time_t)(h->start_realtime_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    char host[sizeof h->host * 4 + 1];
    pt_term_escape(stdout, path, strlen(path));
    putchar('\n');
    printf("  process   pid %" PRIu32 " (ppid %" PRIu32 ") on %s, started %s.%03uZ%s", h->pid,
           h->ppid, pt_term_escape_buf(host, sizeof host, h->host, strnlen(h->host, sizeof h->host)),
           when, (unsigned)(h->start_realtime_ns / 1000000u % 1000u),
           h->flags & PT_FILE_FORKED ? ", fork child" : "");
    if (h->exec_index)
        printf(", image %u of this pid (after exec)", h->exec_index);
    putchar('\n');
    print_attrs(path);
    uint64_t on_disk = s->stats.bytes_on_disk;
    uint64_t events = s->by_kind[PT_REC_NCCL_CALL] + s->by_kind[PT_REC_COMM_INIT];
    printf("  format    %u.%u, %" PRIu64 " frames, %" PRIu64 " bytes, %" PRIu64 " records",
           h->version_major, h->version_minor, s->stats.frames, on_disk, s->stats.records);
    if (events)
        printf(" (%.1f bytes per event)", (double)on_disk / (double)events);
    putchar('\n');
    if (s->t_first_ns)
        printf("  span      %.3f ms of events, first at +%.3f ms after library load\n",
               (double)(s->t_last_ns - s->t_first_ns) / 1e6,
               (double)(s->t_first_ns - h->start_monotonic_ns) / 1e6);
    printf("  records  ");
    for (int k = 1; k < PT_REC_KIND_LIMIT; k++)
        if (s->by_kind[k])
            printf(" %s %" PRIu64, pt_kind_name((uint16_t)k), s->by_kind[k]);
    if (s->stats.unknown_records)
        printf(" unknown %" PRIu64 " (newer format; skipped)", s->stats.unknown_records);
    putchar('\n');
    if (s->by_kind[PT_REC_NCCL_CALL]) {
        printf("  nccl     ");
        for (int op = 1; op < PT_OP_LIMIT; op++)
            if (s->by_op[op])
                printf(" %s %" PRIu64, pt_op_name((uint16_t)op), s->by_op[op]);
        putchar('\n');
    }
    for (uint32_t i = 0; i < s->n_comms; i++) {
        const struct pt_rec_comm_init *c = &s->comms[i];
        printf("  comm      %016" PRIx64 " rank %" PRId32 "/%" PRId32 " device %" PRId32 " (%s%s%s)%s\n",
               c->comm_id, c->rank, c->nranks, c->device, pt_comm_how_name(c->how),
               c->parent_comm_id ? " of a parent" : "",
               c->flags & PT_COMM_NONBLOCKING ? ", non-blocking" : "",
               c->result == 7 ? " in progress" : c->result ? " FAILED" : "");
    }
    if (s->comms_omitted)
        printf("  comm      ... and %" PRIu32 " more\n", s->comms_omitted);
    for (uint32_t i = 0; i < s->n_gpus; i++) {
        const struct pt_rec_gpu *g = &s->gpus[i];
        char name[sizeof g->name * 4 + 1], bus[sizeof g->pci_bus_id * 4 + 1];
        printf("  gpu       %" PRIu32 ": %s, %" PRIu32 " SMs, %.1f GiB, bus %s\n", g->device,
               pt_term_escape_buf(name, sizeof name, g->name, strnlen(g->name, sizeof g->name)),
               g->sm_count, (double)g->total_memory_bytes / (1u << 30),
               pt_term_escape_buf(bus, sizeof bus, g->pci_bus_id,
                                  strnlen(g->pci_bus_id, sizeof g->pci_bus_id)));
    }
    for (int d = 0; d < 16; d++)
        if (s->device_peak[d])
            printf("  memory    GPU %d: peak %.2f GiB in use, %.2f GiB at the end (allocations "
                   "seen while recording)\n",
                   d, (double)s->device_peak[d] / (1u << 30), (double)s->device_in_use[d] / (1u << 30));
    if (s->pinned_peak)
        printf("  memory    pinned host: peak %.2f GiB\n", (double)s->pinned_peak / (1u << 30));
    if (s->cuda.state) {
        printf("  cuda      %s (level %s)", pt_cuda_state_name(s->cuda.state),
               pt_cuda_level_name(s->cuda.level));
        if (s->by_kind[PT_REC_KERNEL])
            printf(", kernels over %.3f ms; NCCL kernels %" PRIu64 ", %" PRIu64 " tied to their call",
                   (double)(s->gpu_last_ns - s->gpu_first_ns) / 1e6, s->nccl_kernels,
                   s->nccl_kernels_tied);
        if (s->capture_ranges)
            printf("; only inside %" PRIu64 " capture ranges (cudaProfilerStart/Stop)", s->capture_ranges);
        putchar('\n');
    }
    printf("  threads   %" PRIu32 "\n", s->threads);
    printf("  dropped   %" PRIu64 "%s\n", s->dropped,
           s->dropped ? " events (buffers full or file unwritable: raise PARTRACE_BUFFER_MB)" : "");
    if (s->warning[0]) {
        printf("  integrity %s at offset %" PRIu64 ": ", s->stats.corrupt ? "DAMAGED" : "cut short",
               s->stats.stop_offset);
        pt_term_escape(stdout, s->warning, strlen(s->warning));
        putchar('\n');
    } else if (s->has_end)
        printf("  integrity complete (ended by %s)\n", pt_end_how_name(s->end_how));
    else
        printf("  integrity whole frames, no end record (process killed, exec'd or still running; "
               "last flush: %s)\n",
               s->last_flush_reason ? pt_flush_reason_name(s->last_flush_reason) : "none");
}

const struct pt_command pt_cmd_info = {
    "info", "RUN", "who was recorded, what, and whether each trace file is whole", NULL, cmd_info, 1, 1, 0,
    "docs/partrace-info.md", "which run?"};

int cmd_info(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_info, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    char err[1024];
    struct pt_trace_set set;
    if (pt_trace_set_open(a.operands[0], &set, err, sizeof err) != 0) {
        pt_error("%s", err);
        return 1;
    }
    if (set.warning[0])
        pt_error("warning: %s", set.warning);
    int status = 0;
    uint64_t records = 0, dropped = 0, bytes = 0;
    struct pt_trace_summary *s = malloc(sizeof *s);
    if (!s) {
        pt_error("out of memory");
        pt_trace_set_free(&set);
        return 1;
    }
    for (size_t i = 0; i < set.count; i++) {
        if (pt_trace_summarize(set.paths[i], s, err, sizeof err) != 0) {
            pt_error("%s", err);
            status = 1;
            continue;
        }
        print_summary(set.paths[i], s);
        if (s->stats.corrupt)
            status = 1;
        records += s->stats.records;
        dropped += s->dropped;
        bytes += s->stats.bytes_on_disk;
    }
    if (set.count > 1)
        printf("total: %zu files, %" PRIu64 " records, %" PRIu64 " dropped, %" PRIu64 " bytes\n",
               set.count, records, dropped, bytes);
    free(s);
    pt_trace_set_free(&set);
    return status;
}
