#include "preload/stacks.h"

#include <link.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PT_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include <partrace/format.h>

#include "preload/config.h"
#include "preload/log.h"
#include "preload/runtime.h"

int pt_stacks_level;
static unsigned long long modules_adds = ~0ull, modules_subs = ~0ull;

void pt_stacks_config(void)
{
    pt_stacks_level = pt_cfg.stacks; /* its choices are "0|1|all": 0, 1, 2 */
    pt_stacks_skip_object((const void *)pt_stacks_config);
#ifdef PT_HAVE_LIBUNWIND
    if (pt_stacks_level) /* each thread caches its own unwind info: no lock shared per stack */
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#else
    if (pt_stacks_level) {
        pt_warn("PARTRACE_STACKS: this libpartrace.so was built without libunwind; no call stacks");
        pt_stacks_level = 0;
    }
#endif
}

/* Objects whose frames at the top of a stack are not the application's: ours first. */
static struct {
    uint64_t lo, hi;
} skip[4];
/* Entries are added at start-up and when CUPTI starts, while other threads may be unwinding:
 * an entry is written before the count that publishes it (release), read after (acquire). */
static _Atomic int n_skip;

/* The run-time address range of an object's loaded segments; hi = 0 when it has none. */
static void loaded_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        *lo = a < *lo ? a : *lo;
        *hi = a + ph->p_memsz > *hi ? a + ph->p_memsz : *hi;
    }
}

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uint64_t self = (uintptr_t)arg, lo, hi;
    loaded_range(info, &lo, &hi);
    int n = atomic_load_explicit(&n_skip, memory_order_relaxed);
    if (self < lo || self >= hi || n == (int)(sizeof skip / sizeof *skip))
        return 0;
    skip[n].lo = lo, skip[n].hi = hi;
    atomic_store_explicit(&n_skip, n + 1, memory_order_release);
    return 1;
}

void pt_stacks_skip_object(const void *addr)
{
    if (pt_stacks_level && addr)
        dl_iterate_phdr(find_object, (void *)addr);
}

static int skipped(uintptr_t pc)
{
    int n = atomic_load_explicit(&n_skip, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (pc >= skip[i].lo && pc < skip[i].hi)
            return 1;
    return 0;
}

/* Frames unwound beyond the ones kept: room for our own wrappers (and CUPTI's, the driver's)
 * at the top of the stack, which are dropped. */
#define PT_STACK_SKIP_ROOM 16

void pt_stack_emit(uint16_t ref_kind, uint64_t ref)
{
    void *raw[PT_STACK_MAX_FRAMES + PT_STACK_SKIP_ROOM];
#ifdef PT_HAVE_LIBUNWIND
    int got = unw_backtrace(raw, (int)(sizeof raw / sizeof *raw));
#else
    int got = 0; /* never asked: stacks are off without libunwind */
#endif
    int first = 0;
    while (first < got && skipped((uintptr_t)raw[first]))
        first++; /* our wrappers (or CUPTI, the driver) are not the application */
    int n = got - first < PT_STACK_MAX_FRAMES ? got - first : PT_STACK_MAX_FRAMES;
    if (n <= 0)
        return;
    _Alignas(8) char buf[sizeof(struct pt_rec_stack) + PT_STACK_MAX_FRAMES * sizeof(uint64_t)];
    struct pt_rec_stack *r = (void *)buf;
    for (int i = 0; i < n; i++)
        r->pc[i] = (uintptr_t)raw[first + i];
    r->hdr.kind = PT_REC_STACK;
    r->hdr.size = (uint16_t)(sizeof *r + (size_t)n * sizeof(uint64_t));
    r->ref = ref;
    r->ref_kind = ref_kind;
    r->frames = (uint16_t)n;
    r->reserved = 0;
    pt_emit(r, r->hdr.size);
}

struct module_walk {
    void (*put)(const void *rec, size_t bytes, void *arg);
    void *arg;
    unsigned long long adds, subs;
    int emit;
};

static int each_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct module_walk *m = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        m->adds = info->dlpi_adds;
        m->subs = info->dlpi_subs;
    }
    if (!m->emit)
        return m->adds == modules_adds && m->subs == modules_subs; /* stop: nothing changed */
    uint64_t lo, hi;
    loaded_range(info, &lo, &hi);
    if (!hi)
        return 0;
    char exe[1024];
    const char *path = info->dlpi_name;
    if (!path || !*path) { /* the main program */
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[len > 0 ? len : 0] = '\0';
        path = exe;
    }
    size_t n = strnlen(path, 1024);
    _Alignas(8) char buf[sizeof(struct pt_rec_module) + 1032];
    size_t bytes = PT_REC_BYTES(sizeof(struct pt_rec_module), n + 1);
    struct pt_rec_module *r = (void *)buf;
    memset(buf, 0, bytes);
    r->hdr.kind = PT_REC_MODULE;
    r->hdr.size = (uint16_t)bytes;
    r->start = lo;
    r->end = hi;
    r->load_bias = info->dlpi_addr;
    memcpy(r->path, path, n);
    m->put(r, bytes, m->arg);
    return 0;
}

void pt_modules_collect(void (*put)(const void *rec, size_t bytes, void *arg), void *arg)
{
    if (!pt_stacks_level)
        return;
    struct module_walk m = {put, arg, 0, 0, 0};
    dl_iterate_phdr(each_module, &m);
    if (m.adds == modules_adds && m.subs == modules_subs)
        return;
    m.emit = 1;
    dl_iterate_phdr(each_module, &m);
    modules_adds = m.adds;
    modules_subs = m.subs;
}

void pt_modules_forget(void)
{
    modules_adds = modules_subs = ~0ull;
}
