/* The Perfetto writer's interning: ids kept by the caller, definitions carried by the next slice,
 * and more pending names than one packet carries going out in a packet of their own. Each file
 * written here is read back by `partrace check`, which counts a name used before its definition
 * as an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "outputs/perfetto_check.h"
#include "outputs/perfetto_out.h"

static char dir[] = "/tmp/pt_perfetto_out_XXXXXX";

static void open_out(struct pt_pf_out *o, const char *path)
{
    char err[256];
    CHECK(pt_pf_open(o, path, 0, 1, err, sizeof err) == 0);
    pt_pf_process_track(o, 1, 100, "rank 0", 0);
    pt_pf_track(o, 2, 1, "stream 7", 7);
}

static struct pt_check_stats check_file(const char *path)
{
    struct pt_check_stats st;
    memset(&st, 0, sizeof st);
    CHECK(pt_perfetto_check(path, stderr, &st) == 0);
    CHECK_EQ_U64(st.errors, 0);
    return st;
}

/* The same string in the same space is the same id; spaces apart; ids never 0. */
static void test_ids(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ids.pftrace", dir);
    struct pt_pf_out o;
    open_out(&o, path);
    uint64_t a = pt_pf_intern(&o, PT_PF_EVENT_NAME, "gemm");
    CHECK(a != 0);
    CHECK_EQ_U64(pt_pf_intern(&o, PT_PF_EVENT_NAME, "gemm"), a);
    uint64_t c = pt_pf_intern(&o, PT_PF_CATEGORY, "gemm");
    CHECK(c != a);
    CHECK_EQ_U64(o.n_defs, 2);
    struct pt_pf_arg arg = {.name = pt_pf_intern(&o, PT_PF_ARG_NAME, "dtype"), .kind = PT_PF_STRING,
                            .u = pt_pf_intern(&o, PT_PF_ARG_VALUE, "bfloat16")};
    pt_pf_begin(&o, 1000, 2, c, a, &arg, 1, 0, 0, 0);
    CHECK_EQ_U64(o.n_defs, 0); /* the slice carried them */
    pt_pf_end(&o, 2000, 2);
    CHECK(pt_pf_close(&o) == 0);
    struct pt_check_stats st = check_file(path);
    CHECK_EQ_U64(st.slices, 1);
    CHECK_EQ_U64(st.open_slices, 0);
}

/* 150 names before any slice: the first PT_PF_MAX_DEFS go out alone, the rest with the slice;
 * slices then use names of both groups. An end carries no definitions: a name interned before
 * one is defined by the slice after it. */
static void test_many_pending(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/many.pftrace", dir);
    struct pt_pf_out o;
    open_out(&o, path);
    uint64_t ids[150];
    for (int i = 0; i < 150; i++) {
        char name[32];
        snprintf(name, sizeof name, "kernel_%d", i);
        ids[i] = pt_pf_intern(&o, PT_PF_EVENT_NAME, name);
    }
    CHECK_EQ_U64(o.n_defs, 150 - 2 * PT_PF_MAX_DEFS);
    uint64_t packets = o.packets;
    CHECK(packets >= 2); /* descriptors, then the definitions alone (twice) */
    uint64_t cat = pt_pf_intern(&o, PT_PF_CATEGORY, "kernel");
    pt_pf_begin(&o, 1000, 2, cat, ids[0], NULL, 0, 0, 0, 0);
    uint64_t late = pt_pf_intern(&o, PT_PF_EVENT_NAME, "late");
    pt_pf_end(&o, 1100, 2);
    CHECK_EQ_U64(o.n_defs, 1);
    pt_pf_begin(&o, 1200, 2, cat, late, NULL, 0, 0, 0, 0);
    pt_pf_end(&o, 1300, 2);
    pt_pf_begin(&o, 1400, 2, cat, ids[149], NULL, 0, 0, 0, 0);
    pt_pf_end(&o, 1500, 2);
    CHECK(pt_pf_close(&o) == 0);
    struct pt_check_stats st = check_file(path);
    CHECK_EQ_U64(st.slices, 3);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_ids();
    test_many_pending();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    puts("perfetto_out: ok");
    return 0;
}
