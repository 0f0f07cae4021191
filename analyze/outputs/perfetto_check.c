#include "outputs/perfetto_check.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "perfetto_trace.pb-c.h"
#include "util/u64_map.h"

#define MAX_SHOWN 20
#define MAX_NEST 256

struct checker {
    const char *path;
    FILE *msgs;
    struct pt_check_stats *st;
    uint64_t packet, offset;
    struct pt_u64_map tracks;     /* uuid → parent + 1 (1: top level) */
    struct pt_u64_map used;       /* track uuids used by events (value: first packet using it) */
    struct pt_u64_map iids;       /* (sequence, space, iid) → 1 */
    struct pt_u64_map cleared;    /* sequence → 1 once incremental state was cleared */
    struct pt_u64_map last_ts;    /* sequence → last timestamp + 1 */
    struct pt_u64_map clocks;     /* (sequence, 4, clock) → 1 absolute, 2 incremental;
                                   * (sequence, 5, clock) → last value; (sequence, 6, clock) →
                                   * trace time minus clock time at the snapshot;
                                   * (sequence, 7, 0) → default clock id */
    struct pt_u64_map flows;      /* flow ids started */
    struct pt_u64_map stack_of;   /* track uuid → index + 1 into stacks */
    struct open_stack {
        uint64_t ts[MAX_NEST];
        int depth;
    } *stacks;
    size_t n_stacks, cap_stacks;
};

__attribute__((format(printf, 2, 3))) static void fail(struct checker *c, const char *fmt, ...)
{
    if (c->st->errors++ < MAX_SHOWN) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(c->msgs, "%s: packet %" PRIu64 " (byte %" PRIu64 "): ", c->path, c->packet, c->offset);
        vfprintf(c->msgs, fmt, ap);
        fputc('\n', c->msgs);
        va_end(ap);
    }
}

static uint64_t key3(uint64_t seq, uint64_t space, uint64_t iid)
{
    return ((seq * 0x9e3779b97f4a7c15ull) ^ (space << 60) ^ iid) | 1ull << 63;
}

static struct open_stack *stack_for(struct checker *c, uint64_t uuid)
{
    uint64_t at;
    if (pt_u64_map_get(&c->stack_of, uuid ? uuid : 1, &at))
        return &c->stacks[at - 1];
    if (c->n_stacks == c->cap_stacks) {
        size_t cap = c->cap_stacks ? 2 * c->cap_stacks : 64;
        struct open_stack *s = realloc(c->stacks, cap * sizeof *s);
        if (!s)
            return NULL;
        c->stacks = s, c->cap_stacks = cap;
    }
    c->stacks[c->n_stacks].depth = 0;
    pt_u64_map_put(&c->stack_of, uuid ? uuid : 1, ++c->n_stacks);
    return &c->stacks[c->n_stacks - 1];
}

static void learn_interned(struct checker *c, uint32_t seq, const Perfetto__Protos__InternedData *in)
{
    for (size_t i = 0; i < in->n_event_names; i++)
        pt_u64_map_put(&c->iids, key3(seq, 0, in->event_names[i]->iid), 1);
    for (size_t i = 0; i < in->n_event_categories; i++)
        pt_u64_map_put(&c->iids, key3(seq, 1, in->event_categories[i]->iid), 1);
    for (size_t i = 0; i < in->n_debug_annotation_names; i++)
        pt_u64_map_put(&c->iids, key3(seq, 2, in->debug_annotation_names[i]->iid), 1);
    for (size_t i = 0; i < in->n_debug_annotation_string_values; i++)
        pt_u64_map_put(&c->iids, key3(seq, 3, in->debug_annotation_string_values[i]->iid), 1);
}

static void need_iid(struct checker *c, uint32_t seq, uint64_t space, uint64_t iid, const char *what)
{
    uint64_t v;
    if (!pt_u64_map_get(&c->iids, key3(seq, space, iid), &v))
        fail(c, "%s iid %" PRIu64 " used but not defined on sequence %" PRIu32, what, iid, seq);
}

/* A sequence's clock snapshot: its own clocks (ids 64-127) against the trace clock (BOOTTIME). */
static void learn_clocks(struct checker *c, uint32_t seq, const Perfetto__Protos__ClockSnapshot *snap)
{
    uint64_t boot = 0;
    for (size_t i = 0; i < snap->n_clocks; i++)
        if (snap->clocks[i]->clock_id == 6)
            boot = snap->clocks[i]->timestamp;
    for (size_t i = 0; i < snap->n_clocks; i++) {
        const Perfetto__Protos__ClockSnapshot__Clock *k = snap->clocks[i];
        if (k->clock_id < 64 || k->clock_id > 127)
            continue;
        pt_u64_map_put(&c->clocks, key3(seq, 4, k->clock_id), k->is_incremental ? 2 : 1);
        pt_u64_map_put(&c->clocks, key3(seq, 5, k->clock_id), k->timestamp);
        pt_u64_map_put(&c->clocks, key3(seq, 6, k->clock_id), boot - k->timestamp);
    }
}

/* The packet's time on the trace clock: its timestamp, or, on an incremental clock of the
 * sequence, the clock's last value plus this delta. */
static uint64_t trace_time(struct checker *c, const Perfetto__Protos__TracePacket *p, uint32_t seq)
{
    uint64_t clock = p->has_timestamp_clock_id ? p->timestamp_clock_id : 0, kind, last, offset;
    if (!clock && pt_u64_map_get(&c->clocks, key3(seq, 7, 0), &clock))
        clock--;
    if (clock < 64 || clock > 127)
        return p->timestamp;
    if (!pt_u64_map_get(&c->clocks, key3(seq, 4, clock), &kind)) {
        fail(c, "timestamp on clock %" PRIu64 ", which no clock snapshot of sequence %" PRIu32 " defined",
             clock, seq);
        return p->timestamp;
    }
    pt_u64_map_get(&c->clocks, key3(seq, 5, clock), &last);
    pt_u64_map_get(&c->clocks, key3(seq, 6, clock), &offset);
    uint64_t t = kind == 2 ? last + p->timestamp : p->timestamp;
    if (kind == 2)
        pt_u64_map_put(&c->clocks, key3(seq, 5, clock), t);
    return t + offset;
}

static void check_event(struct checker *c, const Perfetto__Protos__TracePacket *p, uint32_t seq)
{
    const Perfetto__Protos__TrackEvent *e = p->track_event;
    if (!p->has_timestamp)
        fail(c, "track event without a timestamp");
    uint64_t ts = trace_time(c, p, seq), last, v;
    if (pt_u64_map_get(&c->last_ts, seq, &last) && ts + 1 < last)
        fail(c, "timestamp %" PRIu64 " goes back on sequence %" PRIu32 " (last %" PRIu64 ")", ts, seq, last - 1);
    pt_u64_map_put(&c->last_ts, seq, ts + 1);
    if (e->has_name_iid)
        need_iid(c, seq, 0, e->name_iid, "event name");
    for (size_t i = 0; i < e->n_category_iids; i++)
        need_iid(c, seq, 1, e->category_iids[i], "category");
    int interned = e->has_name_iid || e->n_category_iids;
    for (size_t i = 0; i < e->n_debug_annotations; i++) {
        if (e->debug_annotations[i]->has_name_iid)
            need_iid(c, seq, 2, e->debug_annotations[i]->name_iid, "argument name");
        if (e->debug_annotations[i]->has_string_value_iid)
            need_iid(c, seq, 3, e->debug_annotations[i]->string_value_iid, "argument value");
        interned |= e->debug_annotations[i]->has_name_iid || e->debug_annotations[i]->has_string_value_iid;
    }
    if (interned && !pt_u64_map_get(&c->cleared, seq, &v))
        fail(c, "interned data used before sequence %" PRIu32 " cleared its incremental state", seq);
    uint64_t track = e->has_track_uuid ? e->track_uuid : 0;
    if (track && !pt_u64_map_get(&c->used, track, &v))
        pt_u64_map_put(&c->used, track, c->packet + 1);
    for (size_t i = 0; i < e->n_flow_ids; i++) {
        pt_u64_map_put(&c->flows, e->flow_ids[i] ? e->flow_ids[i] : 1, 1);
        c->st->flows++;
    }
    for (size_t i = 0; i < e->n_terminating_flow_ids; i++) {
        uint64_t id = e->terminating_flow_ids[i] ? e->terminating_flow_ids[i] : 1;
        if (!pt_u64_map_get(&c->flows, id, &v) || !v)
            fail(c, "flow %" PRIu64 " ends without having started (or ended already)", id);
        pt_u64_map_put(&c->flows, id, 0); /* ended: the id may start a new flow */
    }
    struct open_stack *s = stack_for(c, track);
    switch (e->type) {
    case PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN:
        c->st->slices++;
        if (s && s->depth < MAX_NEST)
            s->ts[s->depth++] = ts;
        break;
    case PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END:
        if (!s || !s->depth)
            fail(c, "END without a BEGIN on track %" PRIu64, track);
        else if (ts < s->ts[--s->depth])
            fail(c, "END at %" PRIu64 " before its BEGIN at %" PRIu64 " on track %" PRIu64, ts,
                 s->ts[s->depth], track);
        break;
    case PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT: c->st->instants++; break;
    case PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER: c->st->counters++; break;
    default: fail(c, "track event of unknown type %d", (int)e->type);
    }
}

static void check_packet(struct checker *c, const Perfetto__Protos__TracePacket *p)
{
    if (!p->has_trusted_packet_sequence_id) {
        fail(c, "no trusted_packet_sequence_id");
        return;
    }
    uint32_t seq = p->trusted_packet_sequence_id;
    if (p->has_sequence_flags && (p->sequence_flags & 1)) {
        pt_u64_map_put(&c->cleared, seq, 1);
        /* interned names of the sequence are forgotten: later uses need new definitions */
        pt_u64_map_put(&c->clocks, key3(seq, 7, 0), 0); /* and its defaults */
    }
    if (p->trace_packet_defaults && p->trace_packet_defaults->has_timestamp_clock_id)
        pt_u64_map_put(&c->clocks, key3(seq, 7, 0), p->trace_packet_defaults->timestamp_clock_id + 1ull);
    if (p->clock_snapshot) {
        learn_clocks(c, seq, p->clock_snapshot);
        return; /* trace_processor reads nothing else from such a packet */
    }
    if (p->interned_data)
        learn_interned(c, seq, p->interned_data);
    if (p->track_descriptor) {
        const Perfetto__Protos__TrackDescriptor *d = p->track_descriptor;
        uint64_t v;
        if (!d->has_uuid || !d->uuid)
            fail(c, "track descriptor without a uuid");
        else if (pt_u64_map_get(&c->tracks, d->uuid, &v))
            fail(c, "track uuid %" PRIu64 " described twice", d->uuid);
        else {
            pt_u64_map_put(&c->tracks, d->uuid, d->has_parent_uuid ? d->parent_uuid + 1 : 1);
            c->st->tracks++;
        }
    }
    if (p->track_event)
        check_event(c, p, seq);
}

/* After the last packet: tracks used or named as parents exist; no parent loops. */
static void check_tracks(struct checker *c)
{
    c->packet = c->st->packets;
    for (size_t i = 0; i < c->used.cap; i++) {
        uint64_t uuid = c->used.keys[i], v;
        if (uuid && !pt_u64_map_get(&c->tracks, uuid, &v))
            fail(c, "events on track %" PRIu64 " (first in packet %" PRIu64 "), which has no descriptor",
                 uuid, c->used.values[i] - 1);
    }
    for (size_t i = 0; i < c->tracks.cap; i++) {
        uint64_t uuid = c->tracks.keys[i], parent = c->tracks.values[i], v;
        if (!uuid || parent == 1)
            continue;
        if (!pt_u64_map_get(&c->tracks, parent - 1, &v)) {
            fail(c, "track %" PRIu64 " has parent %" PRIu64 ", which has no descriptor", uuid, parent - 1);
            continue;
        }
        uint64_t at = uuid;
        for (int hop = 0; hop <= 64; hop++) {
            if (!pt_u64_map_get(&c->tracks, at, &v) || v == 1)
                break;
            at = v - 1;
            if (at == uuid || hop == 64) {
                fail(c, "track %" PRIu64 " is its own ancestor", uuid);
                break;
            }
        }
    }
    for (size_t i = 0; i < c->n_stacks; i++)
        c->st->open_slices += (uint64_t)c->stacks[i].depth;
}

static int read_varint(gzFile f, uint64_t *v, uint64_t *offset)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int b = gzgetc(f);
        if (b < 0)
            return -1;
        (*offset)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

int pt_perfetto_check(const char *path, FILE *msgs, struct pt_check_stats *st)
{
    memset(st, 0, sizeof *st);
    /* Only a non-empty regular file is a trace: a directory would read as nothing (and pass),
     * a FIFO would block. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(msgs, "%s: cannot open: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
        fprintf(msgs, "%s: %s, not a Perfetto trace\n", path,
                S_ISDIR(sb.st_mode) ? "a directory" : S_ISREG(sb.st_mode) ? "an empty file"
                                                                          : "not a regular file");
        close(fd);
        return 2;
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        fprintf(msgs, "%s: cannot open\n", path);
        close(fd);
        return 2;
    }
    struct checker c = {.path = path, .msgs = msgs, .st = st};
    uint8_t *buf = NULL;
    size_t cap = 0;
    int status = 0;
    for (;;) {
        int tag = gzgetc(f);
        if (tag < 0)
            break;
        uint64_t at = c.offset++, len;
        c.packet = st->packets;
        if (tag != 0x0a || read_varint(f, &len, &c.offset) != 0 || len > (256u << 20)) {
            c.offset = at;
            fail(&c, tag != 0x0a ? "not a Perfetto trace packet (byte 0x%02x; expected 0x0a)"
                                 : "damaged packet length", tag);
            status = 1;
            break;
        }
        if (len > cap) {
            uint8_t *b = realloc(buf, len);
            if (!b) {
                status = 2;
                break;
            }
            buf = b, cap = len;
        }
        if (len && gzread(f, buf, (unsigned)len) != (int)len) {
            c.offset = at;
            fail(&c, "file ends inside a packet of %" PRIu64 " bytes (truncated?)", len);
            break;
        }
        Perfetto__Protos__TracePacket *p = perfetto__protos__trace_packet__unpack(NULL, len, buf);
        if (!p) {
            c.offset = at;
            fail(&c, "packet does not decode as a TracePacket");
        } else {
            c.offset = at;
            check_packet(&c, p);
            perfetto__protos__trace_packet__free_unpacked(p, NULL);
        }
        c.offset = at + 1 + len + 1;
        st->packets++;
    }
    gzclose(f);
    free(buf);
    if (status != 2)
        check_tracks(&c);
    if (st->errors > MAX_SHOWN)
        fprintf(msgs, "%s: %" PRIu64 " more errors\n", path, st->errors - MAX_SHOWN);
    pt_u64_map_free(&c.tracks), pt_u64_map_free(&c.used), pt_u64_map_free(&c.iids);
    pt_u64_map_free(&c.clocks);
    pt_u64_map_free(&c.cleared), pt_u64_map_free(&c.last_ts), pt_u64_map_free(&c.flows);
    pt_u64_map_free(&c.stack_of);
    free(c.stacks);
    return status == 2 ? 2 : st->errors ? 1 : 0;
}
