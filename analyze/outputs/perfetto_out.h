/* A streaming writer of Perfetto trace files: each packet is written at once as
 * `0x0A <varint length> <TracePacket>` (a Trace's field 1), plain or gzip; track events by hand,
 * the rest packed by protobuf-c. Everything goes on one packet sequence, whose timestamps are
 * deltas on an incremental clock (the first packet defines it), so the caller must write
 * packets in time order. Every name (event, category, argument) and string argument value is
 * interned: the caller asks for its id once (pt_pf_intern) and keeps it; the next event written
 * that names anything carries the definitions asked for since the last one. Memory grows with
 * the distinct names, never with the events. */
#ifndef PT_PERFETTO_OUT_H
#define PT_PERFETTO_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "util/u64_map.h"

#define PT_PF_MAX_DEFS 64 /* definitions one packet carries at most */

/* What an interned string names; each is its own id space in Perfetto's InternedData. */
enum pt_pf_space { PT_PF_EVENT_NAME, PT_PF_CATEGORY, PT_PF_ARG_NAME, PT_PF_ARG_VALUE };

struct pt_pf_out {
    void *file;                /* gzFile or FILE * */
    int gz;
    uint8_t *buf;              /* one packed packet */
    size_t cap;
    uint8_t *pending;          /* output not yet handed to the file, PT_PF_PENDING bytes */
    size_t n_pending;
    struct pt_u64_map iids;    /* hash of a name (events and args apart) → iid */
    uint64_t next_iid;
    struct pt_pf_def {         /* names interned and not yet defined in a packet */
        uint64_t iid;
        uint32_t at, len;      /* in def_text */
        uint8_t space;
    } defs[PT_PF_MAX_DEFS];
    size_t n_defs;
    char *def_text;
    size_t def_used, def_cap;
    int started;               /* the first packet (which clears incremental state) was written */
    int generic;               /* PT_EXPORT_GENERIC_PACKER=1: every packet through protobuf-c (the
                                * tests compare the hand-packed bytes with it) */
    int failed;                /* a write failed: later writes do nothing */
    uint64_t last_ts;          /* the last timestamp written: the next packet gives the delta */
    uint64_t packets, bytes, events;
};

/* An argument of a slice (DebugAnnotation): its name's iid and a value; kind selects the value.
 * A string value is an iid (PT_PF_ARG_VALUE) in u. */
struct pt_pf_arg {
    uint64_t name;
    enum { PT_PF_UINT, PT_PF_INT, PT_PF_DOUBLE, PT_PF_STRING, PT_PF_BOOL } kind;
    union {
        uint64_t u;
        int64_t i;
        double d;
    };
};

/* Opens path for writing (gzip when gz); refuses an existing file unless force. Returns 0, or -1
 * with the reason in err. */
int pt_pf_open(struct pt_pf_out *o, const char *path, int gz, int force, char *err, size_t errlen);
/* Flushes and closes. Returns 0, or -1 when anything failed to write. */
int pt_pf_close(struct pt_pf_out *o);

/* Track descriptors. parent 0: a top-level track. pid/tid: a process or thread track. */
void pt_pf_process_track(struct pt_pf_out *o, uint64_t uuid, int32_t pid, const char *name, int32_t order);
void pt_pf_thread_track(struct pt_pf_out *o, uint64_t uuid, int32_t pid, int32_t tid, const char *name);
void pt_pf_track(struct pt_pf_out *o, uint64_t uuid, uint64_t parent, const char *name, int32_t order);
/* unit: 1 ns, 2 count, 3 bytes (CounterDescriptor.Unit). */
void pt_pf_counter_track(struct pt_pf_out *o, uint64_t uuid, uint64_t parent, const char *name, int unit);

/* The interned id of s in space (never 0); a new one is defined by the next event that names
 * anything (a name, a category, arguments). */
uint64_t pt_pf_intern(struct pt_pf_out *o, enum pt_pf_space space, const char *s);

/* A slice's beginning on a track; category and name are iids (0: none); at most 16 args;
 * flow_out starts a flow (0: none), flow_in ends one (0: none), correlation links the same
 * work on other tracks (0: none). */
void pt_pf_begin(struct pt_pf_out *o, uint64_t ts, uint64_t track, uint64_t category, uint64_t name,
                 const struct pt_pf_arg *args, size_t n_args, uint64_t flow_out, uint64_t flow_in,
                 uint64_t correlation);
void pt_pf_end(struct pt_pf_out *o, uint64_t ts, uint64_t track);
/* An END with args: readers add them to the slice it ends (values known only at its end). */
void pt_pf_end_args(struct pt_pf_out *o, uint64_t ts, uint64_t track, const struct pt_pf_arg *args,
                    size_t n_args);
void pt_pf_instant(struct pt_pf_out *o, uint64_t ts, uint64_t track, uint64_t category, uint64_t name,
                   const struct pt_pf_arg *args, size_t n_args);
/* A counter value, a whole number (bytes): a varint, not Perfetto's 8-byte double. */
void pt_pf_counter_int(struct pt_pf_out *o, uint64_t ts, uint64_t track, int64_t value);

#endif
