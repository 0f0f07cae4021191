#include "preload/comm_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "preload/signal_safe_lock.h"

#define CAPACITY 4096u /* power of two */
#define REMOVED ((uintptr_t)1)

static struct pt_comm table[CAPACITY];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static size_t slot_of(const void *handle)
{
    return (size_t)(mix64((uintptr_t)handle) & (CAPACITY - 1));
}

uint64_t pt_comm_id_from_bytes(const void *bytes, size_t n, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed; /* FNV-1a, then a finaliser */
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h = mix64(h);
    return h ? h : 1;
}

uint64_t pt_comm_id_child(uint64_t parent_id, uint32_t split_index, int32_t color, uint32_t how)
{
    uint64_t parts[3] = {parent_id, ((uint64_t)how << 32) | split_index, (uint64_t)(uint32_t)color};
    return pt_comm_id_from_bytes(parts, sizeof parts, 0x5eed);
}

struct pt_comm *pt_comm_lookup(const void *handle)
{
    uintptr_t key = (uintptr_t)handle;
    if (key <= REMOVED)
        return NULL;
    for (size_t i = slot_of(handle), probes = 0; probes < CAPACITY; probes++, i = (i + 1) & (CAPACITY - 1)) {
        uintptr_t h = atomic_load_explicit(&table[i].handle, memory_order_acquire);
        if (h == key)
            return &table[i];
        if (h == 0)
            return NULL;
    }
    return NULL;
}

struct pt_comm *pt_comm_add(const void *handle, uint64_t id, int rank, int nranks, int device,
                            uint32_t flags)
{
    uintptr_t key = (uintptr_t)handle;
    if (key <= REMOVED)
        return NULL;
    sigset_t saved;
    pt_lock_signals_blocked(&lock, &saved);
    struct pt_comm *c = pt_comm_lookup(handle), *free_slot = NULL;
    for (size_t i = slot_of(handle), probes = 0; !c && probes < CAPACITY; probes++, i = (i + 1) & (CAPACITY - 1)) {
        uintptr_t h = atomic_load(&table[i].handle);
        if (h == 0 || h == REMOVED) {
            free_slot = &table[i];
            break;
        }
    }
    if (c && c->id != id) { /* a freed communicator's address, now another's: start afresh */
        atomic_store_explicit(&c->handle, REMOVED, memory_order_release);
        free_slot = c;
        c = NULL;
    }
    if (!c && free_slot) {
        c = free_slot;
        /* Cleared before it is freed: a fork child copied between the two must not free it
         * again when it reuses the slot. */
        _Atomic uint64_t *stale = c->p2p_seq;
        c->p2p_seq = NULL;
        free(stale);
        memset((char *)c + sizeof c->handle, 0, sizeof *c - sizeof c->handle);
    }
    if (c) {
        c->id = id;
        c->rank = rank;
        c->nranks = nranks;
        c->device = device;
        c->flags = flags;
        if (!c->p2p_seq && nranks > 0 && nranks <= (1 << 20))
            c->p2p_seq = calloc(2 * (size_t)nranks, sizeof *c->p2p_seq);
        atomic_store_explicit(&c->handle, key, memory_order_release);
    }
    pt_unlock_signals_restored(&lock, &saved);
    return c;
}

void pt_comm_remove_if(const void *handle, uint64_t id)
{
    sigset_t saved;
    pt_lock_signals_blocked(&lock, &saved);
    struct pt_comm *c = pt_comm_lookup(handle);
    if (c && c->id == id)
        atomic_store_explicit(&c->handle, REMOVED, memory_order_release);
    /* p2p_seq is freed when the slot is reused: a racing reader may still hold the entry. */
    pt_unlock_signals_restored(&lock, &saved);
}

/* NCCL requires the calls on one communicator to be issued in order, from one thread at a
 * time: a plain load and store suffice, and cost no locked instruction. */
static uint64_t bump(_Atomic uint64_t *counter)
{
    uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
    atomic_store_explicit(counter, v + 1, memory_order_relaxed);
    return v;
}

uint64_t pt_comm_next_seq(struct pt_comm *c, int op, int peer)
{
    if ((op == PT_OP_Send || op == PT_OP_Recv) && c->p2p_seq && peer >= 0 && peer < c->nranks)
        return bump(&c->p2p_seq[(op == PT_OP_Recv ? c->nranks : 0) + peer]);
    if (op > 0 && op < PT_OP_LIMIT)
        return bump(&c->seq[op]);
    return 0;
}

void pt_comm_table_lock(void) { pthread_mutex_lock(&lock); }
void pt_comm_table_unlock(void) { pthread_mutex_unlock(&lock); }
void pt_comm_table_after_fork(void) { pthread_mutex_init(&lock, NULL); }
