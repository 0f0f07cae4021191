/* The recent NCCL calls of one file, by call id: a direct-mapped table of `max` slots (call id
 * modulo max, the newest call wins a slot), stored in a table that starts small and doubles
 * whenever two calls meet in a slot they would not share at full size: it holds exactly what
 * the full table would, and a short trace does not pay for the window a long one needs.
 * Entries are of any type whose first member is the uint64_t call id (0: empty). */
#ifndef PT_CALL_MAP_H
#define PT_CALL_MAP_H

#include <stddef.h>
#include <stdint.h>

struct pt_call_map {
    unsigned char *slots;
    size_t cap, max, entry_bytes; /* cap and max: powers of two */
};

/* max: the most slots (a power of two); entry_bytes: the entry type's size. */
void pt_call_map_init(struct pt_call_map *m, size_t max, size_t entry_bytes);
/* The slot for call_id, its old entry replaced; NULL for call id 0 or when out of memory. */
void *pt_call_map_slot(struct pt_call_map *m, uint64_t call_id);
/* The entry of call_id, NULL when not there (never seen, or replaced by a newer call). */
const void *pt_call_map_get(const struct pt_call_map *m, uint64_t call_id);
void pt_call_map_free(struct pt_call_map *m);

#endif
