#include "outputs/perfetto_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "outputs/export_common.h"
#include "perfetto_trace.pb-c.h"
#include "util/settings.h"

#define SEQUENCE_ID 1
#define PT_PF_PENDING (256u << 10) /* output gathered before one write */
#define SEQ_CLEARED 1
#define SEQ_NEEDS_STATE 2
#define MAX_ARGS 16
#define PT_PF_DELTA_CLOCK 64 /* our sequence's incremental clock */

int pt_pf_open(struct pt_pf_out *o, const char *path, int gz, int force, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->next_iid = 1;
    o->generic = pt_settings()->generic_packer;
    int fd = pt_export_create(path, force, err, errlen);
    if (fd < 0)
        return -1;
    o->gz = gz;
    o->file = gz ? (void *)gzdopen(fd, "wb6") : (void *)fdopen(fd, "wb");
    if (!o->file) {
        close(fd);
        snprintf(err, errlen, "%s: cannot open for writing", path);
        return -1;
    }
    if (!(o->pending = malloc(PT_PF_PENDING))) {
        if (gz)
            gzclose(o->file);
        else
            fclose(o->file);
        o->file = NULL;
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

/* Hands the pending output to the file (or gzip) in one call. */
static void flush_pending(struct pt_pf_out *o)
{
    size_t n = o->n_pending;
    o->n_pending = 0;
    if (o->failed || !n)
        return;
    int ok = o->gz ? gzwrite(o->file, o->pending, (unsigned)n) == (int)n : fwrite(o->pending, 1, n, o->file) == n;
    if (!ok)
        o->failed = 1;
}

/* Packets come in small pieces (a head, a body); they are gathered here, not written one by
 * one: a library call per piece was an eighth of the export's time. */
static void put_bytes(struct pt_pf_out *o, const void *p, size_t n)
{
    if (o->failed || !n)
        return;
    o->bytes += n;
    if (o->n_pending + n > PT_PF_PENDING)
        flush_pending(o);
    if (n > PT_PF_PENDING) { /* a packet larger than the buffer: straight out */
        int ok = o->gz ? gzwrite(o->file, p, (unsigned)n) == (int)n : fwrite(p, 1, n, o->file) == n;
        if (!ok)
            o->failed = 1;
        return;
    }
    memcpy(o->pending + o->n_pending, p, n);
    o->n_pending += n;
}

/* Protobuf wire format by hand, for the packets written most (every track event that defines
 * no new interned name): protobuf-c's generic packer walks field descriptors and was half of
 * the export's time. The bytes are those protobuf-c writes for the same message (fields in
 * number order). */
static size_t put_varint(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        b[n++] = (uint8_t)(v | 0x80);
    b[n++] = (uint8_t)v;
    return n;
}

/* Writes a packed TracePacket as field 1 of a Trace. */
static void put_packet(struct pt_pf_out *o, const uint8_t *packet, size_t n)
{
    uint8_t head[11] = {0x0a};
    put_bytes(o, head, 1 + put_varint(head + 1, n));
    put_bytes(o, packet, n);
    o->packets++;
}


static void pack_and_put(struct pt_pf_out *o, Perfetto__Protos__TracePacket *p);

/* The sequence's first packet: it clears the incremental state and makes every timestamp after
 * it a delta from the one before (a sequence-scoped incremental clock, starting at 0 of the
 * trace clock): 1-3 bytes a packet instead of 7-9. Alone in its packet, as trace_processor
 * reads nothing else from a packet that holds a clock snapshot. */
static void start_sequence(struct pt_pf_out *o)
{
    Perfetto__Protos__ClockSnapshot__Clock delta = PERFETTO__PROTOS__CLOCK_SNAPSHOT__CLOCK__INIT;
    delta.has_clock_id = 1, delta.clock_id = PT_PF_DELTA_CLOCK;
    delta.has_timestamp = 1, delta.timestamp = 0;
    delta.has_is_incremental = 1, delta.is_incremental = 1;
    Perfetto__Protos__ClockSnapshot__Clock boot = PERFETTO__PROTOS__CLOCK_SNAPSHOT__CLOCK__INIT;
    boot.has_clock_id = 1, boot.clock_id = 6; /* BUILTIN_CLOCK_BOOTTIME, the trace clock */
    boot.has_timestamp = 1, boot.timestamp = 0;
    Perfetto__Protos__ClockSnapshot__Clock *clocks[2] = {&delta, &boot};
    Perfetto__Protos__ClockSnapshot snap = PERFETTO__PROTOS__CLOCK_SNAPSHOT__INIT;
    snap.n_clocks = 2, snap.clocks = clocks;
    Perfetto__Protos__TracePacketDefaults defaults = PERFETTO__PROTOS__TRACE_PACKET_DEFAULTS__INIT;
    defaults.has_timestamp_clock_id = 1, defaults.timestamp_clock_id = PT_PF_DELTA_CLOCK;
    Perfetto__Protos__TracePacket p = PERFETTO__PROTOS__TRACE_PACKET__INIT;
    p.has_trusted_packet_sequence_id = 1, p.trusted_packet_sequence_id = SEQUENCE_ID;
    p.has_sequence_flags = 1, p.sequence_flags = SEQ_CLEARED;
    p.has_first_packet_on_sequence = 1, p.first_packet_on_sequence = 1;
    p.trace_packet_defaults = &defaults;
    p.clock_snapshot = &snap;
    o->started = 1;
    pack_and_put(o, &p);
}

/* Writes one packet as field 1 of a Trace. */
static void emit(struct pt_pf_out *o, Perfetto__Protos__TracePacket *p)
{
    p->has_trusted_packet_sequence_id = 1;
    p->trusted_packet_sequence_id = SEQUENCE_ID;
    if (!o->started)
        start_sequence(o);
    pack_and_put(o, p);
}

static void pack_and_put(struct pt_pf_out *o, Perfetto__Protos__TracePacket *p)
{
    size_t n = perfetto__protos__trace_packet__get_packed_size(p);
    if (n > o->cap) {
        size_t cap = n * 2 > 4096 ? n * 2 : 4096;
        uint8_t *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    perfetto__protos__trace_packet__pack(p, o->buf);
    put_packet(o, o->buf, n);
}

int pt_pf_close(struct pt_pf_out *o)
{
    if (o->file)
        flush_pending(o);
    int bad = o->failed;
    if (o->file)
        bad |= o->gz ? gzclose(o->file) != Z_OK : fclose(o->file) != 0;
    free(o->pending);
    free(o->buf);
    free(o->def_text);
    pt_u64_map_free(&o->iids);
    memset(o, 0, sizeof *o);
    return bad ? -1 : 0;
}

static void descriptor(struct pt_pf_out *o, Perfetto__Protos__TrackDescriptor *d)
{
    Perfetto__Protos__TracePacket p = PERFETTO__PROTOS__TRACE_PACKET__INIT;
    p.track_descriptor = d;
    emit(o, &p);
}

void pt_pf_process_track(struct pt_pf_out *o, uint64_t uuid, int32_t pid, const char *name, int32_t order)
{
    Perfetto__Protos__ProcessDescriptor pd = PERFETTO__PROTOS__PROCESS_DESCRIPTOR__INIT;
    pd.has_pid = 1, pd.pid = pid;
    pd.process_name = (char *)name;
    Perfetto__Protos__TrackDescriptor d = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
    d.has_uuid = 1, d.uuid = uuid;
    d.process = &pd;
    d.has_sibling_order_rank = 1, d.sibling_order_rank = order;
    d.has_child_ordering = 1, d.child_ordering = PERFETTO__PROTOS__TRACK_DESCRIPTOR__CHILD_TRACKS_ORDERING__EXPLICIT;
    descriptor(o, &d);
}

void pt_pf_thread_track(struct pt_pf_out *o, uint64_t uuid, int32_t pid, int32_t tid, const char *name)
{
    Perfetto__Protos__ThreadDescriptor td = PERFETTO__PROTOS__THREAD_DESCRIPTOR__INIT;
    td.has_pid = 1, td.pid = pid;
    td.has_tid = 1, td.tid = tid;
    td.thread_name = (char *)name;
    Perfetto__Protos__TrackDescriptor d = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
    d.has_uuid = 1, d.uuid = uuid;
    d.thread = &td;
    descriptor(o, &d);
}

/* Same-named tracks (every rank has a "GPU", "stream 7") must stay apart: no sibling merging. */
static void named_track(struct pt_pf_out *o, Perfetto__Protos__TrackDescriptor *d, uint64_t uuid,
                        uint64_t parent, const char *name, int32_t order)
{
    d->has_uuid = 1, d->uuid = uuid;
    d->name = (char *)name;
    if (parent)
        d->has_parent_uuid = 1, d->parent_uuid = parent;
    d->has_sibling_order_rank = 1, d->sibling_order_rank = order;
    d->has_sibling_merge_behavior = 1;
    d->sibling_merge_behavior = PERFETTO__PROTOS__TRACK_DESCRIPTOR__SIBLING_MERGE_BEHAVIOR__SIBLING_MERGE_BEHAVIOR_NONE;
    d->has_child_ordering = 1;
    d->child_ordering = PERFETTO__PROTOS__TRACK_DESCRIPTOR__CHILD_TRACKS_ORDERING__EXPLICIT;
    descriptor(o, d);
}

void pt_pf_track(struct pt_pf_out *o, uint64_t uuid, uint64_t parent, const char *name, int32_t order)
{
    Perfetto__Protos__TrackDescriptor d = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
    named_track(o, &d, uuid, parent, name, order);
}

void pt_pf_counter_track(struct pt_pf_out *o, uint64_t uuid, uint64_t parent, const char *name, int unit)
{
    Perfetto__Protos__CounterDescriptor cd = PERFETTO__PROTOS__COUNTER_DESCRIPTOR__INIT;
    cd.has_unit = 1;
    cd.unit = (Perfetto__Protos__CounterDescriptor__Unit)unit;
    Perfetto__Protos__TrackDescriptor d = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
    d.counter = &cd;
    named_track(o, &d, uuid, parent, name, 1000);
}

static uint64_t name_hash(const char *s, uint64_t space)
{
    uint64_t h = 1469598103934665603ull ^ space;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h ? h : 1;
}

static void pack_defs_alone(struct pt_pf_out *o);

uint64_t pt_pf_intern(struct pt_pf_out *o, enum pt_pf_space space, const char *s)
{
    uint64_t key = name_hash(s, space), iid;
    if (pt_u64_map_get(&o->iids, key, &iid))
        return iid;
    iid = o->next_iid++;
    pt_u64_map_put(&o->iids, key, iid);
    if (o->n_defs == PT_PF_MAX_DEFS)
        pack_defs_alone(o);
    size_t len = strlen(s);
    if (o->def_used + len + 1 > o->def_cap) {
        size_t cap = 2 * (o->def_used + len + 1) > 4096 ? 2 * (o->def_used + len + 1) : 4096;
        char *t = realloc(o->def_text, cap);
        if (!t) {
            o->failed = 1;
            return iid;
        }
        o->def_text = t, o->def_cap = cap;
    }
    memcpy(o->def_text + o->def_used, s, len + 1);
    o->defs[o->n_defs++] = (struct pt_pf_def){iid, (uint32_t)o->def_used, (uint32_t)len, (uint8_t)space};
    o->def_used += len + 1;
    return iid;
}

/* One track event, as the callers below describe it. */
struct event {
    int type;
    uint64_t track, category, name;
    const struct pt_pf_arg *args;
    size_t n_args;
    uint64_t flow_out, flow_in, correlation;
    int has_counter;
    int64_t counter;
};

/* The interned data of the pending definitions into in (arrays sized PT_PF_MAX_DEFS). */
struct defs_msg {
    Perfetto__Protos__InternedData in;
    Perfetto__Protos__EventName en[PT_PF_MAX_DEFS], *ens[PT_PF_MAX_DEFS];
    Perfetto__Protos__EventCategory ec[PT_PF_MAX_DEFS], *ecs[PT_PF_MAX_DEFS];
    Perfetto__Protos__DebugAnnotationName an[PT_PF_MAX_DEFS], *ans[PT_PF_MAX_DEFS];
    Perfetto__Protos__InternedString sv[PT_PF_MAX_DEFS], *svs[PT_PF_MAX_DEFS];
};

static void defs_message(struct pt_pf_out *o, struct defs_msg *m)
{
    Perfetto__Protos__InternedData *in = &m->in;
    perfetto__protos__interned_data__init(in);
    in->event_names = m->ens, in->event_categories = m->ecs;
    in->debug_annotation_names = m->ans, in->debug_annotation_string_values = m->svs;
    for (size_t i = 0; i < o->n_defs; i++) {
        const struct pt_pf_def *d = &o->defs[i];
        char *text = o->def_text + d->at;
        size_t k;
        switch (d->space) {
        case PT_PF_EVENT_NAME:
            k = in->n_event_names++;
            perfetto__protos__event_name__init(&m->en[k]);
            m->en[k].has_iid = 1, m->en[k].iid = d->iid, m->en[k].name = text;
            m->ens[k] = &m->en[k];
            break;
        case PT_PF_CATEGORY:
            k = in->n_event_categories++;
            perfetto__protos__event_category__init(&m->ec[k]);
            m->ec[k].has_iid = 1, m->ec[k].iid = d->iid, m->ec[k].name = text;
            m->ecs[k] = &m->ec[k];
            break;
        case PT_PF_ARG_NAME:
            k = in->n_debug_annotation_names++;
            perfetto__protos__debug_annotation_name__init(&m->an[k]);
            m->an[k].has_iid = 1, m->an[k].iid = d->iid, m->an[k].name = text;
            m->ans[k] = &m->an[k];
            break;
        default:
            k = in->n_debug_annotation_string_values++;
            perfetto__protos__interned_string__init(&m->sv[k]);
            m->sv[k].has_iid = 1, m->sv[k].iid = d->iid;
            m->sv[k].has_str = 1, m->sv[k].str.len = d->len, m->sv[k].str.data = (uint8_t *)text;
            m->svs[k] = &m->sv[k];
            break;
        }
    }
}

static void defs_done(struct pt_pf_out *o) { o->n_defs = 0, o->def_used = 0; }

/* More names than one packet carries between two events: the definitions go out in a packet of
 * their own (no timestamp, no event), which readers apply like any other. */
static void pack_defs_alone(struct pt_pf_out *o)
{
    struct defs_msg m;
    defs_message(o, &m);
    Perfetto__Protos__TracePacket p = PERFETTO__PROTOS__TRACE_PACKET__INIT;
    p.interned_data = &m.in;
    p.has_sequence_flags = 1, p.sequence_flags = SEQ_NEEDS_STATE;
    emit(o, &p);
    defs_done(o);
}

/* The event through protobuf-c: for packets that carry definitions, and for every packet under
 * PARTRACE_EXPORT_GENERIC_PACKER=1, which the tests compare with the bytes packed by hand. */
static void pack_generic(struct pt_pf_out *o, uint64_t delta, const struct event *ev, int with_defs)
{
    struct defs_msg m;
    Perfetto__Protos__DebugAnnotation a[MAX_ARGS], *as[MAX_ARGS];
    Perfetto__Protos__TrackEvent e = PERFETTO__PROTOS__TRACK_EVENT__INIT;
    uint64_t cat = ev->category, flow_out = ev->flow_out, flow_in = ev->flow_in;
    e.has_type = 1, e.type = (Perfetto__Protos__TrackEvent__Type)ev->type;
    e.has_track_uuid = 1, e.track_uuid = ev->track;
    if (ev->name)
        e.has_name_iid = 1, e.name_iid = ev->name;
    if (cat)
        e.n_category_iids = 1, e.category_iids = &cat;
    for (size_t i = 0; i < ev->n_args; i++) {
        const struct pt_pf_arg *g = &ev->args[i];
        perfetto__protos__debug_annotation__init(&a[i]);
        as[i] = &a[i];
        a[i].has_name_iid = 1, a[i].name_iid = g->name;
        switch (g->kind) {
        case PT_PF_UINT: a[i].has_uint_value = 1, a[i].uint_value = g->u; break;
        case PT_PF_INT: a[i].has_int_value = 1, a[i].int_value = g->i; break;
        case PT_PF_DOUBLE: a[i].has_double_value = 1, a[i].double_value = g->d; break;
        case PT_PF_BOOL: a[i].has_bool_value = 1, a[i].bool_value = g->u != 0; break;
        case PT_PF_STRING: a[i].has_string_value_iid = 1, a[i].string_value_iid = g->u; break;
        }
    }
    e.n_debug_annotations = ev->n_args, e.debug_annotations = as;
    if (ev->has_counter)
        e.has_counter_value = 1, e.counter_value = ev->counter;
    if (flow_out)
        e.n_flow_ids = 1, e.flow_ids = &flow_out;
    if (flow_in)
        e.n_terminating_flow_ids = 1, e.terminating_flow_ids = &flow_in;
    if (ev->correlation)
        e.has_correlation_id = 1, e.correlation_id = ev->correlation;
    Perfetto__Protos__TracePacket p = PERFETTO__PROTOS__TRACE_PACKET__INIT;
    if (with_defs) {
        defs_message(o, &m);
        p.interned_data = &m.in;
    }
    p.has_timestamp = 1, p.timestamp = delta;
    p.track_event = &e;
    p.has_sequence_flags = 1, p.sequence_flags = SEQ_NEEDS_STATE;
    emit(o, &p);
    if (with_defs)
        defs_done(o);
}

static size_t put_fixed64(uint8_t *b, uint64_t tag, uint64_t v)
{
    size_t n = put_varint(b, tag);
    memcpy(b + n, &v, 8); /* little-endian, as the wire format */
    return n + 8;
}

/* Room for n more bytes of output; NULL when writing failed. */
static uint8_t *reserve(struct pt_pf_out *o, size_t n)
{
    if (o->n_pending + n > PT_PF_PENDING)
        flush_pending(o);
    return o->failed ? NULL : o->pending + o->n_pending;
}

/* The event packed by hand straight into the output, in protobuf-c's bytes (fields in number
 * order). Every nested message here is shorter than 128 bytes: its length is one byte. */
static void pack_by_hand(struct pt_pf_out *o, uint64_t delta, const struct event *ev)
{
    uint8_t b[64 + MAX_ARGS * 40];
    size_t n = 0;
    if (ev->category)
        b[n++] = 3 << 3, n += put_varint(b + n, ev->category);                 /* category_iids */
    for (size_t i = 0; i < ev->n_args; i++) {                                   /* debug_annotations */
        const struct pt_pf_arg *g = &ev->args[i];
        b[n++] = 4 << 3 | 2;
        size_t len_at = n++;
        b[n++] = 1 << 3, n += put_varint(b + n, g->name);                       /* name_iid */
        switch (g->kind) {
        case PT_PF_BOOL: b[n++] = 2 << 3, b[n++] = g->u != 0; break;
        case PT_PF_UINT: b[n++] = 3 << 3, n += put_varint(b + n, g->u); break;
        case PT_PF_INT: b[n++] = 4 << 3, n += put_varint(b + n, (uint64_t)g->i); break;
        case PT_PF_DOUBLE: n += put_fixed64(b + n, 5 << 3 | 1, g->u); break;
        case PT_PF_STRING: /* string_value_iid, field 17: a two-byte tag */
            n += put_varint(b + n, 17 << 3), n += put_varint(b + n, g->u);
            break;
        }
        b[len_at] = (uint8_t)(n - len_at - 1);
    }
    b[n++] = 9 << 3, b[n++] = (uint8_t)ev->type;                                /* type */
    if (ev->name)
        b[n++] = 10 << 3, n += put_varint(b + n, ev->name);                     /* name_iid */
    b[n++] = 11 << 3, n += put_varint(b + n, ev->track);                        /* track_uuid */
    if (ev->has_counter)                                                        /* counter_value */
        n += put_varint(b + n, 30 << 3), n += put_varint(b + n, (uint64_t)ev->counter);
    if (ev->flow_out)                                                           /* flow_ids */
        n += put_fixed64(b + n, 47 << 3 | 1, ev->flow_out);
    if (ev->flow_in)                                                            /* terminating_flow_ids */
        n += put_fixed64(b + n, 48 << 3 | 1, ev->flow_in);
    if (ev->correlation)                                                        /* correlation_id */
        n += put_varint(b + n, 52 << 3), n += put_varint(b + n, ev->correlation);
    uint8_t pre[40];
    size_t np = 0;
    pre[np++] = 8 << 3, np += put_varint(pre + np, delta);                      /* TracePacket.timestamp */
    pre[np++] = 10 << 3, np += put_varint(pre + np, SEQUENCE_ID);               /* .trusted_packet_sequence_id */
    pre[np++] = 11 << 3 | 2, np += put_varint(pre + np, n);                     /* .track_event */
    uint8_t *w = reserve(o, 11 + np + n + 2);
    if (!w)
        return;
    size_t k = 0;
    w[k++] = 0x0a, k += put_varint(w + k, np + n + 2);                          /* Trace.packet */
    memcpy(w + k, pre, np), k += np;
    memcpy(w + k, b, n), k += n;
    w[k++] = 13 << 3, w[k++] = SEQ_NEEDS_STATE;                                 /* .sequence_flags */
    o->n_pending += k;
    o->bytes += k;
    o->packets++;
}

/* The definitions pending go out with the next event that names anything (a name, a category,
 * arguments): a name is defined in the packet that first uses it, never by a plain end or a
 * counter value. */
static void event(struct pt_pf_out *o, uint64_t ts, struct event *ev)
{
    if (ev->n_args > MAX_ARGS)
        ev->n_args = MAX_ARGS;
    if (ts < o->last_ts) /* a record that came late: never backwards on the sequence */
        ts = o->last_ts;
    uint64_t delta = ts - o->last_ts; /* on the incremental clock (start_sequence) */
    o->last_ts = ts;
    int with_defs = o->n_defs && (ev->name || ev->category || ev->n_args);
    /* Every timestamped packet depends on the sequence's state (its clock), named or not. */
    if (!with_defs && o->started && !o->generic)
        pack_by_hand(o, delta, ev);
    else
        pack_generic(o, delta, ev, with_defs);
    o->events++;
}

void pt_pf_begin(struct pt_pf_out *o, uint64_t ts, uint64_t track, uint64_t category, uint64_t name,
                 const struct pt_pf_arg *args, size_t n_args, uint64_t flow_out, uint64_t flow_in,
                 uint64_t correlation)
{
    struct event e = {.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN, .track = track,
                      .category = category, .name = name, .args = args, .n_args = n_args,
                      .flow_out = flow_out, .flow_in = flow_in, .correlation = correlation};
    event(o, ts, &e);
}

void pt_pf_end(struct pt_pf_out *o, uint64_t ts, uint64_t track) { pt_pf_end_args(o, ts, track, NULL, 0); }

void pt_pf_end_args(struct pt_pf_out *o, uint64_t ts, uint64_t track, const struct pt_pf_arg *args,
                    size_t n_args)
{
    struct event e = {.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END, .track = track,
                      .args = args, .n_args = n_args};
    event(o, ts, &e);
}

void pt_pf_instant(struct pt_pf_out *o, uint64_t ts, uint64_t track, uint64_t category, uint64_t name,
                   const struct pt_pf_arg *args, size_t n_args)
{
    struct event e = {.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT, .track = track,
                      .category = category, .name = name, .args = args, .n_args = n_args};
    event(o, ts, &e);
}

void pt_pf_counter_int(struct pt_pf_out *o, uint64_t ts, uint64_t track, int64_t value)
{
    struct event e = {.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER, .track = track,
                      .has_counter = 1, .counter = value};
    event(o, ts, &e);
}
