/* The growing call map holds exactly what a full-size direct-mapped table would: checked
 * against such a table for the call ids of real traces (thread serial << 40 | counter, several
 * threads interleaved) and for random ids, and it stays small for a short trace. */
#include <stdint.h>
#include <string.h>

#include "analyses/call_map.h"
#include "check.h"

#define MAX 4096u

struct entry {
    uint64_t call_id, value;
};

static struct entry full[MAX];

static void put(struct pt_call_map *m, uint64_t id, uint64_t value)
{
    struct entry *e = pt_call_map_slot(m, id);
    CHECK(e != NULL);
    *e = (struct entry){id, value};
    full[id % MAX] = (struct entry){id, value};
}

/* Every id ever put is found in the map exactly when the full table still has it. */
static void same_as_full(const struct pt_call_map *m, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct entry *e = pt_call_map_get(m, ids[i]);
        int in_full = full[ids[i] % MAX].call_id == ids[i];
        CHECK(!!e == in_full);
        if (e)
            CHECK_EQ_U64(e->value, full[ids[i] % MAX].value);
    }
}

static uint64_t ids[3 * MAX];

int main(void)
{
    struct pt_call_map m;
    /* A short trace of one thread: the table stays at its first size. */
    pt_call_map_init(&m, MAX, sizeof(struct entry));
    memset(full, 0, sizeof full);
    for (uint64_t i = 1; i <= 100; i++)
        put(&m, ids[i - 1] = (1ull << 40) | i, i);
    same_as_full(&m, ids, 100);
    CHECK(m.cap < MAX);
    CHECK(pt_call_map_get(&m, 0) == NULL && pt_call_map_slot(&m, 0) == NULL);
    CHECK(pt_call_map_get(&m, (1ull << 40) | 101) == NULL);
    pt_call_map_free(&m);

    /* Three threads interleaved, past the full size: the old calls go as they would there. */
    pt_call_map_init(&m, MAX, sizeof(struct entry));
    memset(full, 0, sizeof full);
    size_t n = 0;
    for (uint64_t i = 1; i <= MAX; i++)
        for (uint64_t t = 1; t <= 3; t++) {
            ids[n] = t << 40 | i;
            put(&m, ids[n], n);
            n++;
        }
    same_as_full(&m, ids, n);
    CHECK_EQ_U64(m.cap, MAX);
    pt_call_map_free(&m);

    /* Random ids (a fuzzed trace). */
    pt_call_map_init(&m, MAX, sizeof(struct entry));
    memset(full, 0, sizeof full);
    uint64_t x = 88172645463325252ull;
    for (n = 0; n < 2 * MAX; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ids[n] = x | 1;
        put(&m, ids[n], n);
        if (n == 20)
            same_as_full(&m, ids, n + 1);
    }
    same_as_full(&m, ids, n);
    pt_call_map_free(&m);
    puts("call_map: ok");
    return 0;
}
