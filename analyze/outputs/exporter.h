/* The Perfetto exporter's parts (export_perfetto.c runs the pass; export_tracks.c: names, tracks
 * and slices; export_nvtx.c: NVTX ranges; export_timeline.c: the attribution over time) and the
 * state they share. Internal to the partrace command. */
#ifndef PT_EXPORTER_H
#define PT_EXPORTER_H

#include <stddef.h>
#include <stdint.h>

#include <partrace/format.h>

#include "outputs/export_instances.h"
#include "outputs/output.h"
#include "outputs/perfetto_out.h"
#include "analyses/report_build.h"
#include "util/u64_map.h"

#define MAX_DEPTH 32       /* slices open at once on one track */
#define MAX_OPEN_RANGES 256 /* NVTX start/end ranges open at once, all files; more are left out */

/* A track's open slices: their ends, innermost last (UINT64_MAX: an NVTX push not yet popped). */
struct track {
    uint64_t uuid;
    uint64_t ends[MAX_DEPTH];
    int depth;
};

/* An END waiting for its time; depth orders ENDs of one time on one track innermost first. */
struct pending_end {
    uint64_t ts;
    uint32_t track; /* index in exporter.tracks */
    int depth;
    uint64_t instance, arrival; /* a collective's instance key (0: none) and this rank's arrival */
};

/* A slice to write: where, when, what, and how it links to others. */
struct slice_spec {
    uint64_t track, start, end, category, name;
    struct pt_pf_arg *args;  /* room for one more (clipped) */
    size_t n_args;
    uint64_t flow_out, flow_in, correlation;
    uint64_t instance;       /* the collective instance it takes part in (0: none): its end
                              * carries this rank's wait and transfer */
};

/* A recent NCCL call (export_perfetto.c keeps them for their kernels). */
struct call_info {
    uint64_t key;          /* (file, call id) mixed; 0: empty */
    uint64_t stamp;        /* when it was stored: the oldest of a set goes first */
    uint64_t comm, seq, bytes;
    uint16_t op;
    uint8_t dtype;
    uint8_t flowed;        /* its slice went out with a flow: its kernel may end it */
    int32_t peer, nranks;
};

/* Argument names and categories, interned once per export (ids in struct exporter). */
enum arg_name {
    A_BYTES, A_DTYPE, A_COMM, A_ROLE, A_SEQ, A_PEER, A_GRAPH_NODE, A_CLIPPED,
    A_WAIT, A_TRANSFER, A_ALGBW, A_BUSBW, N_ARG_NAMES
};
enum category { C_NCCL, C_KERNEL, C_COMM_KERNEL, C_NCCL_KERNEL, C_MEMCPY, C_MEMSET, C_NVTX, C_SUMMARY, N_CATEGORIES };

/* Interned ids of the names and values slices repeat, 0 until first used: a slice costs no
 * hashing of strings (and no demangling, no formatting) once its names are known. */
struct name_ids {
    uint64_t arg[N_ARG_NAMES], category[N_CATEGORIES];
    uint64_t op[PT_OP_LIMIT + 1], dtype[256], copy[256], memset;
    uint64_t *comm_hex, *role;      /* per communicator index (pt_collectives_find) */
    struct pt_u64_map kernel;       /* (file, name id) mixed → iid of the demangled name */
};

struct exporter {
    struct pt_pf_out out;
    struct name_ids ids;
    struct pt_report rep;
    struct pt_run run;
    struct track *tracks;
    size_t n_tracks, cap_tracks;
    struct pt_u64_map track_index;  /* uuid → index + 1 */
    struct pt_u64_map uuids;        /* (file, kind, id) mixed → uuid */
    uint64_t last_uuid;
    struct pending_end *heap;
    size_t n_heap, cap_heap;
    struct call_info *calls;        /* call_sets × CALL_WAYS */
    size_t call_sets;
    uint64_t call_stamp;
    /* Communication kernels outside NCCL, matched by order as the report does: (file, class)
     * → the index + 1 of the group the report put them in, and → the kernels seen so far. */
    struct pt_u64_map outside_group, outside_seen;
    uint8_t *keep;                  /* per file: exported (--ranks) */
    int32_t *pid;                   /* per file: the synthetic pid of its process track */
    double *mem_in_use;             /* per file × 64 devices */
    struct pt_rank_window *rw;
    struct pt_attr_rank *attr_dummy;
    uint64_t from_ns, to_ns;
    struct pt_xinst inst;           /* collective instances: arrivals, for wait and transfer */
    /* NVTX start/end ranges (not bound to a thread, free to overlap): each open one holds a lane,
     * a track of its process on which slices never overlap. */
    struct open_range {
        size_t file;
        uint64_t id;
        int lane;
    } ranges[MAX_OPEN_RANGES];
    size_t n_ranges;
    uint32_t *lanes_busy;           /* per file: bit per lane in use */
    struct {                        /* the report's timeline as counters (export_timeline.c) */
        size_t next;                /* next bucket to write */
        int16_t *last;              /* per file × series: the value written last (-1: none) */
        uint16_t *shown;            /* per file: a bit per series written (time in it, or busy) */
        uint8_t *comm_cat;          /* per file × PT_ATTR_COMMS: each communicator slot's category */
    } tl;
    struct pt_export_stats *st;
};

enum { TRACK_PROCESS = 1, TRACK_GPU, TRACK_STREAM, TRACK_THREAD, TRACK_MEMORY, TRACK_SUMMARY, TRACK_TIMELINE,
       TRACK_RANGES };

/* Counter tracks of the attribution over time, per rank: GPU busy (not idle), then each
 * category but idle that the rank has any time in. */
enum { TL_BUSY, TL_SERIES = 1 + PT_CAT_IDLE };

/* Names (export_tracks.c): the iid in *slot, interned from s on first use; an argument name's
 * and a category's iid; arguments, the name interned before a string value. */
uint64_t pt_xp_interned(struct exporter *x, uint64_t *slot, enum pt_pf_space space, const char *s);
uint64_t pt_xp_arg_name(struct exporter *x, enum arg_name a);
uint64_t pt_xp_category(struct exporter *x, enum category c);
struct pt_pf_arg pt_xp_uint_arg(struct exporter *x, enum arg_name a, uint64_t v);
struct pt_pf_arg pt_xp_string_arg(struct exporter *x, enum arg_name a, uint64_t *slot, const char *v);

/* Tracks (export_tracks.c): small uuids in order of first use; the track of a uuid (fresh: just
 * made, its descriptor is the caller's to write). */
uint64_t pt_xp_track_uuid(struct exporter *x, size_t file, int kind, uint64_t id);
struct track *pt_xp_track_get(struct exporter *x, uint64_t uuid, int *fresh);
/* The uuid of (file, kind, id); *fresh when its track was just made (describe it). */
uint64_t pt_xp_new_track(struct exporter *x, size_t file, int kind, uint64_t id, int *fresh);
/* kind TRACK_STREAM, TRACK_THREAD or TRACK_MEMORY; id the stream, thread or device. */
uint64_t pt_xp_file_track(struct exporter *x, size_t file, int kind, uint32_t id);

/* Slices (export_tracks.c): ENDs due at or before t written; a slice (returns 1 when written);
 * at the end, everything still open closed at last. */
void pt_xp_flush_ends(struct exporter *x, uint64_t t);
int pt_xp_slice(struct exporter *x, const struct slice_spec *sp);
void pt_xp_finish(struct exporter *x, uint64_t last);

/* An NVTX record of file (export_nvtx.c). */
void pt_xp_on_nvtx(struct exporter *x, size_t file, const struct pt_rec_nvtx *r);
/* The attribution over time (export_timeline.c): what each rank shows, worked out once from the
 * report (0, or -1 when out of memory); then the buckets that start at or before t. */
int pt_xp_timeline_start(struct exporter *x);
void pt_xp_timeline_until(struct exporter *x, uint64_t t);

#endif
