/* Communicator identity: derives the id every rank agrees on, records creations, and adopts
 * communicators first seen in a call (created before partrace was loaded). */
#ifndef PT_COMM_IDENTITY_H
#define PT_COMM_IDENTITY_H

#include <stdint.h>

#include "preload/comm_table.h"

/* Facts about a creation, filled by the creating wrapper. */
struct pt_comm_birth {
    uint64_t t_enter_ns;
    uint64_t call_id;     /* 0: take a new one (adoption) */
    uint64_t id;
    uint64_t parent_id;
    int32_t rank, nranks; /* -1 when to be asked from NCCL */
    int32_t device;       /* -1 when to be asked from NCCL */
    int32_t color, key;
    uint16_t how;         /* enum pt_comm_how */
    uint32_t flags;       /* PT_COMM_* */
};

/* Registers a new communicator (when result allows) and writes its COMM_INIT record. */
void pt_comm_born(const void *handle, struct pt_comm_birth *b, int result);

/* The table entry for a communicator handle; adopts unknown ones. NULL if the table is full. */
struct pt_comm *pt_comm_identify(const void *handle);

#endif
