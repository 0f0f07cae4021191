/* Communication kernels that run outside NCCL (read/kernel_class.h: vLLM's custom all-reduce,
 * symmetric memory, DeepEP, ...) have no call, so no communicator and no sequence number in the
 * trace. The report keeps each rank's kernels of each class in time order, finds which ranks run
 * them together, and matches the n-th kernel of every member as one instance: its wait, transfer
 * and straggler, as for a NCCL collective (docs/METRICS.md, "Communication outside NCCL").
 *
 * The group: a kernel of a collective ends when the last member's data has come, so the members'
 * kernels of one instance end together. Of the candidate groups (the members of each NCCL
 * communicator, called on or only made, and every rank running the class), each rank goes to the one whose instances end
 * closest together (median over instances); ties go to a communicator of the class's role, then
 * to the larger group. */
#ifndef PT_OUTSIDE_NCCL_H
#define PT_OUTSIDE_NCCL_H

#include <stddef.h>
#include <stdint.h>

#include "analyses/collectives.h"
#include "analyses/topology.h"

struct pt_outside;

/* For a run of n_files files; NULL when out of memory. */
struct pt_outside *pt_outside_new(size_t n_files);
/* One kernel of communication class cls (a string that lives as long as the report) on file
 * `file`; in_window: inside the report's window (only instances with a kernel inside count,
 * but every kernel keeps the order). */
void pt_outside_add(struct pt_outside *o, uint32_t file, const char *cls, uint64_t start_ns, uint64_t end_ns,
                    int in_window);
/* A NCCL communicator made on file `file` (its init record), of nranks ranks: a candidate group
 * even when nothing calls on it. */
void pt_outside_note_comm(struct pt_outside *o, uint32_t file, uint64_t comm, int32_t nranks);
/* Groups and matches what was added, and adds one communicator per group to c (outside_class
 * set). rank[file] is each file's global rank; roles are those of c's NCCL communicators.
 * Returns the number added, -1 when out of memory. */
int pt_outside_match(struct pt_outside *o, struct pt_collectives *c, const struct pt_role *roles,
                     const int32_t *rank);
/* The op a class's instances are counted as: AlltoAll for an EP class (dispatch and combine),
 * AllReduce otherwise. */
uint16_t pt_outside_op(const char *cls);
/* Kernels left out because a file had more than the report keeps per class (their order lost,
 * the instances after them are not matched). */
uint64_t pt_outside_dropped(const struct pt_outside *o);
void pt_outside_free(struct pt_outside *o);

#endif
