#include "perfetto_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "export_common.h"
#include "perfetto_trace.pb-c.h"

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
    const char *generic = getenv("PT_EXPORT_GENERIC_PACKER");
    o->generic = generic && strcmp(generic, "1") == 0;
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

/* Writes a packed TracePacket, given in up to three consecutive parts, as field 1 of a Trace. */
static void put_packet3(struct pt_pf_out *o, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                        const uint8_t *c, size_t nc)
{
    uint8_t head[11] = {0x0a};
    size_t h = 1;
    for (uint64_t v = na + nb + nc; ; v >>= 7) {
        head[h++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    put_bytes(o, head, h);
    put_bytes(o, a, na);
    put_bytes(o, b, nb);
    put_bytes(o, c, nc);
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
    put_packet3(o, o->buf, n, NULL, 0, NULL, 0);
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

int pt_pf_close(struct pt_pf_out *o)
{
    if (o->file)
        flush_pending(o);
    int bad = o->failed;
    if (o->file)
        bad |= o->gz ? gzclose(o->file) != Z_OK : fclose(o->file) != 0;
    free(o->pending);
    free(o->buf);
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

/* The iid of a name in a space (0 events, 1 categories, 2 argument names, 3 argument string
 * values); *fresh set when this packet must define it. */
static uint64_t iid_of(struct pt_pf_out *o, const char *s, uint64_t space, int *fresh)
{
    uint64_t key = name_hash(s, space), iid;
    if (pt_u64_map_get(&o->iids, key, &iid)) {
        *fresh = 0;
        return iid;
    }
    iid = o->next_iid++;
    pt_u64_map_put(&o->iids, key, iid);
    *fresh = 1;
    return iid;
}

static size_t put_fixed64(uint8_t *b, uint64_t tag, const void *v)
{
    size_t n = put_varint(b, tag);
    memcpy(b + n, v, 8); /* little-endian, as the wire format */
    return n + 8;
}

/* The TrackEvent e, its category iid and annotations, in protobuf-c's bytes (fields in number
 * order), into o->buf; its packet (timestamp, sequence id, the event, the flags) written out.
 * Only for packets that define no interned names. */
static void hand_packed_event(struct pt_pf_out *o, uint64_t ts, const Perfetto__Protos__TrackEvent *e,
                              const uint64_t *cat_iid, uint32_t flags)
{
    size_t need = 128 + 24 * (e->n_flow_ids + e->n_terminating_flow_ids);
    for (size_t i = 0; i < e->n_debug_annotations; i++)
        need += 80 + (e->debug_annotations[i]->string_value ? strlen(e->debug_annotations[i]->string_value) : 0);
    if (need > o->cap) {
        uint8_t *b = realloc(o->buf, need * 2);
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b, o->cap = need * 2;
    }
    uint8_t *b = o->buf, arg[64];
    size_t n = 0;
    if (cat_iid)
        b[n++] = 3 << 3, n += put_varint(b + n, *cat_iid);                 /* category_iids */
    for (size_t i = 0; i < e->n_debug_annotations; i++) {                  /* debug_annotations */
        const Perfetto__Protos__DebugAnnotation *d = e->debug_annotations[i];
        size_t k = 0, len = d->string_value ? strlen(d->string_value) : 0;
        if (d->has_name_iid)
            arg[k++] = 1 << 3, k += put_varint(arg + k, d->name_iid);
        if (d->has_bool_value)
            arg[k++] = 2 << 3, k += put_varint(arg + k, d->bool_value ? 1 : 0);
        if (d->has_uint_value)
            arg[k++] = 3 << 3, k += put_varint(arg + k, d->uint_value);
        if (d->has_int_value)
            arg[k++] = 4 << 3, k += put_varint(arg + k, (uint64_t)d->int_value);
        if (d->has_double_value)
            k += put_fixed64(arg + k, 5 << 3 | 1, &d->double_value);
        size_t s_head = 0, t = 0;
        uint8_t sh[11], tail[16];
        if (d->string_value)
            sh[s_head++] = 6 << 3 | 2, s_head += put_varint(sh + s_head, len);
        if (d->has_string_value_iid) /* field 17: a two-byte tag */
            t += put_varint(tail, 17 << 3), t += put_varint(tail + t, d->string_value_iid);
        b[n++] = 4 << 3 | 2, n += put_varint(b + n, k + s_head + len + t);
        memcpy(b + n, arg, k), n += k;
        memcpy(b + n, sh, s_head), n += s_head;
        if (len)
            memcpy(b + n, d->string_value, len), n += len;
        memcpy(b + n, tail, t), n += t;
    }
    if (e->has_type)
        b[n++] = 9 << 3, n += put_varint(b + n, (uint64_t)e->type);       /* type */
    if (e->has_name_iid)
        b[n++] = 10 << 3, n += put_varint(b + n, e->name_iid);             /* name_iid */
    if (e->has_track_uuid)
        b[n++] = 11 << 3, n += put_varint(b + n, e->track_uuid);           /* track_uuid */
    if (e->has_counter_value)                                              /* counter_value */
        n += put_varint(b + n, 30 << 3), n += put_varint(b + n, (uint64_t)e->counter_value);
    for (size_t i = 0; i < e->n_flow_ids; i++)                             /* flow_ids */
        n += put_fixed64(b + n, 47 << 3 | 1, &e->flow_ids[i]);
    for (size_t i = 0; i < e->n_terminating_flow_ids; i++)                 /* terminating_flow_ids */
        n += put_fixed64(b + n, 48 << 3 | 1, &e->terminating_flow_ids[i]);
    if (e->has_correlation_id)
        n += put_varint(b + n, 52 << 3), n += put_varint(b + n, e->correlation_id);
    uint8_t pre[32], post[8];
    size_t np = 0, nq = 0;
    pre[np++] = 8 << 3, np += put_varint(pre + np, ts);                    /* TracePacket.timestamp */
    pre[np++] = 10 << 3, np += put_varint(pre + np, SEQUENCE_ID);          /* .trusted_packet_sequence_id */
    pre[np++] = 11 << 3 | 2, np += put_varint(pre + np, n);                /* .track_event */
    if (flags)
        post[nq++] = 13 << 3, nq += put_varint(post + nq, flags);         /* .sequence_flags */
    put_packet3(o, pre, np, b, n, post, nq);
}

static void event(struct pt_pf_out *o, uint64_t ts, Perfetto__Protos__TrackEvent *e, const char *category,
                  const char *name, const struct pt_pf_arg *args, size_t n_args)
{
    Perfetto__Protos__TracePacket p = PERFETTO__PROTOS__TRACE_PACKET__INIT;
    Perfetto__Protos__InternedData in = PERFETTO__PROTOS__INTERNED_DATA__INIT;
    Perfetto__Protos__EventName en = PERFETTO__PROTOS__EVENT_NAME__INIT, *ens[1] = {&en};
    Perfetto__Protos__EventCategory ec = PERFETTO__PROTOS__EVENT_CATEGORY__INIT, *ecs[1] = {&ec};
    Perfetto__Protos__DebugAnnotationName an[MAX_ARGS], *ans[MAX_ARGS];
    Perfetto__Protos__InternedString sv[MAX_ARGS], *svs[MAX_ARGS];
    Perfetto__Protos__DebugAnnotation a[MAX_ARGS], *as[MAX_ARGS];
    uint64_t cat_iid;
    int fresh, any_fresh = 0;
    if (name) {
        e->has_name_iid = 1;
        e->name_iid = iid_of(o, name, 0, &fresh);
        if (fresh) {
            en.has_iid = 1, en.iid = e->name_iid, en.name = (char *)name;
            in.n_event_names = 1, in.event_names = ens, any_fresh = 1;
        }
    }
    if (category) {
        cat_iid = iid_of(o, category, 1, &fresh);
        e->n_category_iids = 1, e->category_iids = &cat_iid;
        if (fresh) {
            ec.has_iid = 1, ec.iid = cat_iid, ec.name = (char *)category;
            in.n_event_categories = 1, in.event_categories = ecs, any_fresh = 1;
        }
    }
    n_args = n_args > MAX_ARGS ? MAX_ARGS : n_args;
    for (size_t i = 0; i < n_args; i++) {
        perfetto__protos__debug_annotation__init(&a[i]);
        as[i] = &a[i];
        a[i].has_name_iid = 1;
        a[i].name_iid = iid_of(o, args[i].name, 2, &fresh);
        if (fresh) {
            perfetto__protos__debug_annotation_name__init(&an[in.n_debug_annotation_names]);
            an[in.n_debug_annotation_names].has_iid = 1;
            an[in.n_debug_annotation_names].iid = a[i].name_iid;
            an[in.n_debug_annotation_names].name = (char *)args[i].name;
            ans[in.n_debug_annotation_names] = &an[in.n_debug_annotation_names];
            in.n_debug_annotation_names++;
            any_fresh = 1;
        }
        switch (args[i].kind) {
        case PT_PF_UINT: a[i].has_uint_value = 1, a[i].uint_value = args[i].u; break;
        case PT_PF_INT: a[i].has_int_value = 1, a[i].int_value = args[i].i; break;
        case PT_PF_DOUBLE: a[i].has_double_value = 1, a[i].double_value = args[i].d; break;
        case PT_PF_BOOL: a[i].has_bool_value = 1, a[i].bool_value = args[i].u != 0; break;
        case PT_PF_STRING: {
            /* Values repeat (dtypes, roles, communicator ids): interned like the names. */
            const char *v = args[i].s ? args[i].s : "";
            a[i].has_string_value_iid = 1;
            a[i].string_value_iid = iid_of(o, v, 3, &fresh);
            if (fresh) {
                size_t k = in.n_debug_annotation_string_values++;
                perfetto__protos__interned_string__init(&sv[k]);
                sv[k].has_iid = 1, sv[k].iid = a[i].string_value_iid;
                sv[k].has_str = 1, sv[k].str.len = strlen(v), sv[k].str.data = (uint8_t *)v;
                svs[k] = &sv[k];
                any_fresh = 1;
            }
            break;
        }
        }
    }
    in.debug_annotation_names = ans;
    in.debug_annotation_string_values = svs;
    e->n_debug_annotations = n_args, e->debug_annotations = as;
    if (any_fresh)
        p.interned_data = &in;
    if (ts < o->last_ts) /* a record that came late: never backwards on the sequence */
        ts = o->last_ts;
    uint64_t delta = ts - o->last_ts; /* on the incremental clock (start_sequence) */
    o->last_ts = ts;
    /* Every timestamped packet depends on the sequence's state (its clock), named or not. */
    if (!any_fresh && o->started && !o->generic) { /* the common case: every name known */
        hand_packed_event(o, delta, e, category ? &cat_iid : NULL, SEQ_NEEDS_STATE);
        o->events++;
        return;
    }
    p.has_timestamp = 1, p.timestamp = delta;
    p.track_event = e;
    p.has_sequence_flags = 1, p.sequence_flags = SEQ_NEEDS_STATE;
    emit(o, &p);
    o->events++;
}

void pt_pf_begin(struct pt_pf_out *o, uint64_t ts, uint64_t track, const char *category, const char *name,
                 const struct pt_pf_arg *args, size_t n_args, uint64_t flow_out, uint64_t flow_in,
                 uint64_t correlation)
{
    Perfetto__Protos__TrackEvent e = PERFETTO__PROTOS__TRACK_EVENT__INIT;
    e.has_type = 1, e.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN;
    e.has_track_uuid = 1, e.track_uuid = track;
    if (flow_out)
        e.n_flow_ids = 1, e.flow_ids = &flow_out;
    if (flow_in)
        e.n_terminating_flow_ids = 1, e.terminating_flow_ids = &flow_in;
    if (correlation)
        e.has_correlation_id = 1, e.correlation_id = correlation;
    event(o, ts, &e, category, name, args, n_args);
}

void pt_pf_end(struct pt_pf_out *o, uint64_t ts, uint64_t track)
{
    Perfetto__Protos__TrackEvent e = PERFETTO__PROTOS__TRACK_EVENT__INIT;
    e.has_type = 1, e.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END;
    e.has_track_uuid = 1, e.track_uuid = track;
    event(o, ts, &e, NULL, NULL, NULL, 0);
}

void pt_pf_instant(struct pt_pf_out *o, uint64_t ts, uint64_t track, const char *category, const char *name,
                   const struct pt_pf_arg *args, size_t n_args)
{
    Perfetto__Protos__TrackEvent e = PERFETTO__PROTOS__TRACK_EVENT__INIT;
    e.has_type = 1, e.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT;
    e.has_track_uuid = 1, e.track_uuid = track;
    event(o, ts, &e, category, name, args, n_args);
}

void pt_pf_counter_int(struct pt_pf_out *o, uint64_t ts, uint64_t track, int64_t value)
{
    Perfetto__Protos__TrackEvent e = PERFETTO__PROTOS__TRACK_EVENT__INIT;
    e.has_type = 1, e.type = PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER;
    e.has_track_uuid = 1, e.track_uuid = track;
    e.has_counter_value = 1, e.counter_value = value;
    event(o, ts, &e, NULL, NULL, NULL, 0);
}
