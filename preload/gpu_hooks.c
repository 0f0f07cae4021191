#include "preload/gpu_hooks.h"

_Atomic int pt_gpu_tie;
_Atomic uint64_t pt_gpu_last_call;
_Atomic int pt_gpu_hint_wanted;

/* Written by constructors only, before any other thread of ours exists; read after. */
static const struct pt_gpu_hooks *hooks[PT_GPU_HOOKS_MAX];
static int n_hooks;

void pt_gpu_hooks_register(const struct pt_gpu_hooks *h)
{
    if (n_hooks < PT_GPU_HOOKS_MAX)
        hooks[n_hooks++] = h;
}

#define EACH(hook, ...)                         \
    for (int i = 0; i < n_hooks; i++)           \
        if (hooks[i]->hook)                     \
            hooks[i]->hook(__VA_ARGS__)

void pt_gpu_configure(void) { EACH(configure); }
void pt_gpu_before_drain(void) { EACH(before_drain); }
void pt_gpu_learn(char *records, size_t bytes) { EACH(learn, records, bytes); }
void pt_gpu_after_drain(pt_put_fn put, void *arg, int final) { EACH(after_drain, put, arg, final); }
void pt_gpu_call_enter(uint64_t call_id) { EACH(call_enter, call_id); }
void pt_gpu_call_exit(void) { EACH(call_exit); }
void pt_gpu_after_fork(void) { EACH(after_fork); }
