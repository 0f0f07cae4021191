/* Physical memory of the CUDA virtual memory API (vmm_memory.h). */
#include "cupti/vmm_memory.h"

#include <pthread.h>
#include <string.h>

#include <partrace/format.h>

#include "preload/clock.h"
#include "preload/runtime.h"
#include "preload/stacks.h"

/* Releases need the size that creation saw: a small table keeps it. */
#define VMM_CAP 4096
static struct {
    uint64_t handle, bytes;
    uint32_t device;
    uint8_t kind;
} vmm[VMM_CAP];
static pthread_mutex_t vmm_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit_vmm(uint8_t op, uint64_t handle, uint64_t bytes, uint32_t device, uint8_t kind)
{
    struct pt_rec_memory r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_MEMORY;
    r.hdr.size = sizeof r;
    r.ts_ns = pt_ticks();
    r.address = handle;
    r.bytes = bytes;
    r.device = device;
    r.operation = op;
    r.memory_kind = kind;
    r.pool_type = PT_POOL_VMM;
    pt_emit(&r, sizeof r);
    if (op == 1 && pt_stacks_level)
        pt_stack_emit(PT_REC_MEMORY, handle);
}

void pt_vmm_callback(CUpti_CallbackId cbid, const CUpti_CallbackData *cb)
{
    if (cbid == CUPTI_DRIVER_TRACE_CBID_cuMemCreate && cb->callbackSite == CUPTI_API_EXIT) {
        const cuMemCreate_params *p = cb->functionParams;
        if (!cb->functionReturnValue || *(const CUresult *)cb->functionReturnValue != CUDA_SUCCESS ||
            !p->handle || !p->prop)
            return;
        uint64_t h = (uint64_t)*p->handle;
        uint8_t kind = p->prop->location.type == CU_MEM_LOCATION_TYPE_DEVICE ? 3 : 2;
        uint32_t dev = kind == 3 ? (uint32_t)p->prop->location.id : 0;
        pthread_mutex_lock(&vmm_lock);
        for (size_t i = h % VMM_CAP, n = 0; n < VMM_CAP; n++, i = (i + 1) % VMM_CAP)
            if (!vmm[i].handle) {
                vmm[i].handle = h, vmm[i].bytes = p->size, vmm[i].device = dev, vmm[i].kind = kind;
                break;
            }
        pthread_mutex_unlock(&vmm_lock);
        emit_vmm(1, h, p->size, dev, kind);
    } else if (cbid == CUPTI_DRIVER_TRACE_CBID_cuMemRelease && cb->callbackSite == CUPTI_API_ENTER) {
        uint64_t h = (uint64_t)((const cuMemRelease_params *)cb->functionParams)->handle;
        uint64_t bytes = 0;
        uint32_t dev = 0;
        uint8_t kind = 0;
        pthread_mutex_lock(&vmm_lock);
        for (size_t i = h % VMM_CAP, n = 0; n < VMM_CAP && vmm[i].handle; n++, i = (i + 1) % VMM_CAP)
            if (vmm[i].handle == h) {
                bytes = vmm[i].bytes, dev = vmm[i].device, kind = vmm[i].kind;
                /* Leave a tombstone so later entries of this probe chain stay reachable. */
                vmm[i].bytes = 0;
                vmm[i].handle = ~0ull;
                break;
            }
        pthread_mutex_unlock(&vmm_lock);
        if (bytes)
            emit_vmm(2, h, bytes, dev, kind);
    }
}
