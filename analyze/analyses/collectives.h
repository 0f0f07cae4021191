/* Cross-rank matching of collectives: the same collective on every rank of its communicator
 * is (communicator id, op, sequence number). For each instance: every rank's arrival (its NCCL
 * kernel's start when the GPU side was recorded, else the host call's entry), the wait of each
 * rank (last arrival − own arrival), the transfer (last end − last arrival), nccl-tests'
 * algorithm and bus bandwidth. Instances stay open only until all ranks have been seen, so
 * memory grows with collectives in flight, not with the run. */
#ifndef PT_COLLECTIVES_H
#define PT_COLLECTIVES_H

#include <stddef.h>
#include <stdint.h>

#include "format/nccl_ops.h"
#include "read/run_merge.h"

/* The largest rank the report keys (a communicator's size, a member, a global rank): far past
 * today's jobs. Calls beyond it are not matched, and counted (pt_collectives_cut). */
#define PT_MAX_RANKS 65536
#define PT_SIZE_BUCKETS 48 /* power-of-two buckets of the collective's total bytes */

/* Totals of one op on one communicator, in one size bucket. */
struct pt_coll_bucket {
    uint64_t count;
    uint64_t bytes;          /* total bytes S as nccl-tests counts them */
    uint64_t transfer_ns;    /* sum over instances of (last end − last arrival) */
    uint64_t wait_ns;        /* sum over instances and ranks of waits (send/recv: each side's
                              * own wait in its own row) */
    uint64_t gpu_timed;      /* instances (send/recv: pairs) timed by their kernels */
};

/* One direction of send/recv traffic between two ranks: who waited for whom. A pair is a send
 * and its receive; the side that arrived first waited for the other (receiver waiting: the
 * upstream stage was late, the bubble's cause; sender waiting: the downstream was not ready). */
struct pt_hop {
    int32_t from, to;                      /* global ranks: sender, receiver */
    uint64_t pairs, bytes;
    uint64_t recv_wait_ns, send_wait_ns;
};
#define PT_MAX_HOPS 256                    /* per communicator; more hops are not itemised */

struct pt_comm_stats {
    uint64_t id;
    int32_t nranks;
    uint64_t calls[PT_OP_LIMIT];           /* NCCL calls seen (all ranks, whole run) */
    struct pt_coll_bucket ops[PT_OP_LIMIT][PT_SIZE_BUCKETS];
    /* Per member (rank in the communicator), for the members_cap first ones (grown to the
     * highest member that called): its global rank (-1: no call of it seen), and straggling,
     * how often it arrived last and what the others waited then. */
    int32_t members_cap;
    int32_t *member_rank;
    uint64_t *last_count, *late_cost_ns;
    /* Point-to-point traffic, by member (allocated at its first send/recv): which peers each
     * member talked to (bit peer % 64, whole run: for the role) and the bytes each received (in
     * the window: for the imbalance of an all-to-all done by send/recv). */
    uint64_t *peer_bits, *recv_bytes;
    uint64_t instances, incomplete;        /* matched; closed with ranks missing */
    uint64_t pairs, unpaired;              /* send/recv pairs matched; closed with a side missing */
    struct pt_hop *hops;                   /* [PT_MAX_HOPS], allocated at the first pair */
    int n_hops;                            /* sorted by sender, then receiver, at the end */
    int gpu_times;                         /* instances timed with kernels */
    struct pt_run_key first;               /* its first call in the run's order (run_key.h): the
                                            * order communicators are listed in */
    /* A group of kernels outside NCCL (outside_nccl.h) rather than a NCCL communicator: their
     * communication class, the NCCL communicator whose ranks it was found to have (0: every
     * rank running them) and how closely its instances' kernels ended together (median of the
     * last end − the first end). NULL for a NCCL communicator. */
    const char *outside_class;
    uint64_t follows;
    uint64_t end_spread_ns;
};

struct pt_collectives;

/* One member's kernel of an instance of a group outside NCCL: its start and end. */
struct pt_outside_obs {
    uint64_t start, end;
    int32_t member;        /* its place among the group's members */
};

/* For the files of run (their number and ranks are known once it is open); NULL when out of
 * memory. */
struct pt_collectives *pt_collectives_new(const struct pt_run *run);
/* Feeds one merged event, whose record is of kind `kind` (given by the caller, which has
 * dispatched on it already, so that the compiler need not test it again); in_window: the event
 * is inside the report's window (a kernel outside it still times an instance already open, and
 * counts its graph's replays). Returns, for a kernel, the communicator of the NCCL call it
 * belongs to (0 when none is known): what the attribution asks next. */
uint64_t pt_collectives_add(struct pt_collectives *c, const struct pt_run *run,
                            const struct pt_event *ev, uint16_t kind, int in_window);
/* Remembers which communicator a NCCL call (outside the report's window) belongs to, without
 * counting it, so that kernels inside the window (e.g. graph replays) still find it. */
void pt_collectives_note_call(struct pt_collectives *c, const struct pt_event *ev);

/* Closes what is still open (end of the run), and puts the communicators in the order of their
 * first calls and each one's hops in the order of their ranks: the same whatever order the
 * files' events came in (pt_run_take_turns). */
void pt_collectives_finish(struct pt_collectives *c);
size_t pt_collectives_count(const struct pt_collectives *c);
const struct pt_comm_stats *pt_collectives_comm(const struct pt_collectives *c, size_t i);
/* The place of communicator id, as pt_collectives_comm takes it; -1 when the table has none. */
long pt_collectives_find(const struct pt_collectives *c, uint64_t id);
void pt_collectives_free(struct pt_collectives *c);

/* NCCL calls the report could not key (a communicator of more than PT_MAX_RANKS ranks, a rank
 * or sequence number beyond the keys' room) or hold (out of memory): left out of the matching,
 * and said. */
uint64_t pt_collectives_cut(const struct pt_collectives *c);

/* A communicator for kernels outside NCCL: n members of global ranks `ranks` (ascending; -1
 * for a member none of whose kernels was seen), its class; under id, or the next id free. NULL
 * when out of memory. Its
 * instances come from pt_comm_add_instance. */
struct pt_comm_stats *pt_collectives_add_outside(struct pt_collectives *c, uint64_t id, const int32_t *ranks,
                                                 int32_t n, const char *cls, uint64_t follows);
/* One instance of op on s from the kernels of the n members that ran it (fewer than s->nranks:
 * incomplete): its wait, transfer and straggler, as close_instance folds a NCCL collective's
 * (bytes unknown: 0). */
void pt_comm_add_instance(struct pt_comm_stats *s, uint16_t op, const struct pt_outside_obs *obs, int32_t n);

/* Members seen calling, and whether a global rank is one of them; the place of a global rank
 * among the members' global ranks in ascending order (-1 when not a member). */
int32_t pt_comm_members_seen(const struct pt_comm_stats *s);
int32_t pt_comm_place_of(const struct pt_comm_stats *s, int32_t global);
/* The members in ascending order of their global ranks (those seen), into order[members_cap];
 * returns how many. */
int32_t pt_comm_members_by_rank(const struct pt_comm_stats *s, int32_t *order);

/* The most peers any member sent to or received from (up to 64), 0 without send/recv. */
int pt_comm_max_peers(const struct pt_comm_stats *s);
/* The member that received the most bytes, and its bytes over the members' mean (1.0 when
 * even); -1 without receives. */
int32_t pt_comm_hot_member(const struct pt_comm_stats *s, double *ratio);

#endif
