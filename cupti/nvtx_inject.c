/* NVTX ranges and marks, from any domain, through NVTX's injection interface: the NVTX code in
 * the application loads the library named by NVTX_INJECTION64_PATH (set to libpartrace.so by
 * the constructor when free) and calls InitializeInjectionNvtx2, where we fill in the handlers.
 * Each event is one record with its text inline (at most PT_NVTX_TEXT_MAX bytes), written to the
 * calling thread's ring like an NCCL call. Domain names are sent once as STRING records with
 * ids from PT_NVTX_DOMAIN_IDS up, apart from the writer's own string ids. */
#include <nvtx3/nvToolsExt.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "cupti/nvtx_inject.h"

#include "preload/clock.h"
#include "preload/export.h"
#include "preload/runtime.h"

#define PT_NVTX_DOMAIN_IDS (1u << 23)

struct pt_nvtx_domain {
    uint32_t id;
};

static _Atomic uint32_t next_domain = PT_NVTX_DOMAIN_IDS;
static _Atomic uint64_t next_range = 1;
static __thread int push_depth __attribute__((tls_model("initial-exec")));

static void emit(uint16_t event, uint32_t domain, uint64_t range, const nvtxEventAttributes_t *attr,
                 const char *text)
{
    if (!pt_recording() || pt_self.in_wrapper)
        return;
    if (attr && !text) {
        if (attr->messageType == NVTX_MESSAGE_TYPE_ASCII)
            text = attr->message.ascii;
        else if (attr->messageType == NVTX_MESSAGE_TYPE_REGISTERED)
            text = (const char *)attr->message.registered; /* our handles are the text */
    }
    size_t n = text ? pt_text_cut(text, PT_NVTX_TEXT_MAX) : 0;
    size_t size = PT_REC_BYTES(sizeof(struct pt_rec_nvtx), n);
    struct pt_rec_nvtx *r = pt_reserve(size);
    if (!r)
        return;
    memset(r, 0, size);
    r->hdr.kind = PT_REC_NVTX;
    r->hdr.size = (uint16_t)size;
    r->ts_ns = pt_ticks();
    r->range_id = range;
    r->domain_id = domain;
    r->event = event;
    r->text_bytes = (uint16_t)n;
    if (attr) {
        r->color = attr->color;
        r->category = attr->category;
    }
    if (n)
        memcpy(r->text, text, n);
    pt_commit(r);
}

static uint32_t domain_id(nvtxDomainHandle_t d)
{
    return d ? ((struct pt_nvtx_domain *)d)->id : 0;
}

static void NVTX_API mark_a(const char *message) { emit(PT_NVTX_MARK, 0, 0, NULL, message); }
static void NVTX_API mark_ex(const nvtxEventAttributes_t *a) { emit(PT_NVTX_MARK, 0, 0, a, NULL); }

static nvtxRangeId_t NVTX_API range_start_a(const char *message)
{
    uint64_t id = atomic_fetch_add(&next_range, 1);
    emit(PT_NVTX_START, 0, id, NULL, message);
    return id;
}

static nvtxRangeId_t NVTX_API range_start_ex(const nvtxEventAttributes_t *a)
{
    uint64_t id = atomic_fetch_add(&next_range, 1);
    emit(PT_NVTX_START, 0, id, a, NULL);
    return id;
}

static void NVTX_API range_end(nvtxRangeId_t id) { emit(PT_NVTX_END, 0, id, NULL, NULL); }

static int NVTX_API range_push_a(const char *message)
{
    emit(PT_NVTX_PUSH, 0, 0, NULL, message);
    return push_depth++;
}

static int NVTX_API range_push_ex(const nvtxEventAttributes_t *a)
{
    emit(PT_NVTX_PUSH, 0, 0, a, NULL);
    return push_depth++;
}

static int NVTX_API range_pop(void)
{
    emit(PT_NVTX_POP, 0, 0, NULL, NULL);
    return push_depth > 0 ? --push_depth : -1;
}

uint64_t pt_nvtx_range_start(const char *text)
{
    uint64_t id = atomic_fetch_add(&next_range, 1);
    emit(PT_NVTX_START, 0, id, NULL, text);
    return id;
}

void pt_nvtx_range_end(uint64_t id) { emit(PT_NVTX_END, 0, id, NULL, NULL); }

static void NVTX_API domain_mark(nvtxDomainHandle_t d, const nvtxEventAttributes_t *a)
{
    emit(PT_NVTX_MARK, domain_id(d), 0, a, NULL);
}

static nvtxRangeId_t NVTX_API domain_range_start(nvtxDomainHandle_t d, const nvtxEventAttributes_t *a)
{
    uint64_t id = atomic_fetch_add(&next_range, 1);
    emit(PT_NVTX_START, domain_id(d), id, a, NULL);
    return id;
}

static void NVTX_API domain_range_end(nvtxDomainHandle_t d, nvtxRangeId_t id)
{
    emit(PT_NVTX_END, domain_id(d), id, NULL, NULL);
}

static int NVTX_API domain_range_push(nvtxDomainHandle_t d, const nvtxEventAttributes_t *a)
{
    emit(PT_NVTX_PUSH, domain_id(d), 0, a, NULL);
    return push_depth++;
}

static int NVTX_API domain_range_pop(nvtxDomainHandle_t d)
{
    emit(PT_NVTX_POP, domain_id(d), 0, NULL, NULL);
    return push_depth > 0 ? --push_depth : -1;
}

/* Domains and registered strings are created rarely: a small allocation each is fine. */
static nvtxDomainHandle_t NVTX_API domain_create(const char *name)
{
    struct pt_nvtx_domain *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->id = atomic_fetch_add(&next_domain, 1);
    size_t n = name ? pt_text_cut(name, 200) : 0;
    _Alignas(8) char buf[sizeof(struct pt_rec_string) + 208];
    size_t size = PT_REC_BYTES(sizeof(struct pt_rec_string), n);
    struct pt_rec_string *r = (void *)buf;
    memset(buf, 0, size);
    r->hdr.kind = PT_REC_STRING;
    r->hdr.size = (uint16_t)size;
    r->id = d->id;
    r->text_bytes = (uint32_t)n;
    memcpy(r->text, name ? name : "", n);
    pt_emit(r, size);
    return (nvtxDomainHandle_t)d;
}

static nvtxStringHandle_t NVTX_API register_string(nvtxDomainHandle_t d, const char *s)
{
    (void)d;
    return (nvtxStringHandle_t)strndup(s ? s : "", s ? pt_text_cut(s, PT_NVTX_TEXT_MAX) : 0);
}

static void NVTX_API domain_destroy(nvtxDomainHandle_t d) { (void)d; /* records may still name it */ }

static void set(NvtxFunctionTable table, unsigned size, unsigned id, NvtxFunctionPointer fn)
{
    if (id < size && table[id])
        *table[id] = fn;
}

PT_EXPORT int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table);
PT_EXPORT int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table)
{
    if (!get_export_table || atomic_load(&pt_state) == PT_OFF)
        return 0;
    const NvtxExportTableCallbacks *cb = get_export_table(NVTX_ETID_CALLBACKS);
    if (!cb || cb->struct_size < sizeof *cb || !cb->GetModuleFunctionTable)
        return 0;
    NvtxFunctionTable t;
    unsigned n;
#define SET(id, fn) set(t, n, id, (NvtxFunctionPointer)(fn))
    if (cb->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &t, &n)) {
        SET(NVTX_CBID_CORE_MarkEx, mark_ex);
        SET(NVTX_CBID_CORE_MarkA, mark_a);
        SET(NVTX_CBID_CORE_RangeStartEx, range_start_ex);
        SET(NVTX_CBID_CORE_RangeStartA, range_start_a);
        SET(NVTX_CBID_CORE_RangeEnd, range_end);
        SET(NVTX_CBID_CORE_RangePushEx, range_push_ex);
        SET(NVTX_CBID_CORE_RangePushA, range_push_a);
        SET(NVTX_CBID_CORE_RangePop, range_pop);
    }
    if (cb->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &t, &n)) {
        SET(NVTX_CBID_CORE2_DomainMarkEx, domain_mark);
        SET(NVTX_CBID_CORE2_DomainRangeStartEx, domain_range_start);
        SET(NVTX_CBID_CORE2_DomainRangeEnd, domain_range_end);
        SET(NVTX_CBID_CORE2_DomainRangePushEx, domain_range_push);
        SET(NVTX_CBID_CORE2_DomainRangePop, domain_range_pop);
        SET(NVTX_CBID_CORE2_DomainRegisterStringA, register_string);
        SET(NVTX_CBID_CORE2_DomainCreateA, domain_create);
        SET(NVTX_CBID_CORE2_DomainDestroy, domain_destroy);
    }
#undef SET
    return 1;
}
