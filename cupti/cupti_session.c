#include "cupti/cupti_session.h"

#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <partrace/format.h>

#include "preload/clock.h"
#include "preload/config.h"
#include "preload/export.h"
#include "preload/log.h"
#include "preload/runtime.h"
#include "preload/stacks.h"
#include "cupti/cupti_api.h"
#include "cupti/nvtx_inject.h"
#include "cupti/vmm_memory.h"

/* 1 MiB (~4,800 kernel records): CUPTI hands a buffer back only when every record in it is
 * complete, which in a busy program means when it is full, so the buffer size is how far kernel
 * records lag behind their NCCL calls (the order matcher must hold that many calls). */
#define BUFFER_BYTES (1u << 20)
#define MAX_BUFFERS 1024

int pt_cuda_level = 1;

/* PARTRACE_CUDA_RECORDS: which activity kinds to ask CUPTI for; PARTRACE_CUDA_TIE: whether a
 * driver launch callback ties NCCL kernels to their calls. Each costs the application time. */
static const struct {
    const char *name;
    CUpti_ActivityKind kind;
} record_kinds[] = {
    {"kernel", CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL}, {"memcpy", CUPTI_ACTIVITY_KIND_MEMCPY},
    {"memset", CUPTI_ACTIVITY_KIND_MEMSET},            {"memory", CUPTI_ACTIVITY_KIND_MEMORY2},
    {"sync", CUPTI_ACTIVITY_KIND_SYNCHRONIZATION},
};
#define N_RECORD_KINDS (sizeof record_kinds / sizeof *record_kinds)
/* Synchronization records are off unless asked for: on 4 x H200 they alone cost a host-bound
 * eager loop about 15 % per step (docs/PERFORMANCE.md), and the report does not need them. */
static int record_wanted[N_RECORD_KINDS] = {1, 1, 1, 1, 0};
static int tie_by_callback = 1;
/* PARTRACE_CUDA_CAPTURE=profiler: GPU records only between cudaProfilerStart and
 * cudaProfilerStop (nsys's --capture-range=cudaProfilerApi); outside them CUPTI records nothing
 * and costs the application nothing for it. Each range is an NVTX start/end range named
 * PT_CAPTURE_RANGE_NAME, so `partrace report --phase partrace:capture` covers the ranges only. */
static int capture_by_profiler;
static _Atomic int capturing;
static _Atomic uint64_t capture_range;

static void parse_records(const char *v)
{
    if (!v || !*v)
        return;
    int wanted[N_RECORD_KINDS] = {0};
    if (strcmp(v, "all") == 0) {
        for (size_t i = 0; i < N_RECORD_KINDS; i++)
            record_wanted[i] = 1;
        return;
    }
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < N_RECORD_KINDS &&
               !(strlen(record_kinds[i].name) == len && strncmp(p, record_kinds[i].name, len) == 0))
            i++;
        if (i == N_RECORD_KINDS) {
            pt_warn("PARTRACE_CUDA_RECORDS='%.64s': '%.*s' is not one of kernel, memcpy, memset, "
                    "memory, sync, all; using kernel,memcpy,memset,memory", v, (int)len, p);
            return;
        }
        wanted[i] = 1;
        p += len + (p[len] == ',');
    }
    memcpy(record_wanted, wanted, sizeof wanted);
}
static _Atomic int started;
static _Atomic int active;
static CUpti_SubscriberHandle subscriber;
static struct pt_convert convert;
static _Atomic uint64_t buffers_refused;
static _Atomic uint64_t seen_devices; /* bit per device ordinal < 64 */

/* Buffer pool: a fixed set handed to CUPTI and given back by the writer after conversion. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *free_buffers[MAX_BUFFERS];
static int n_free;
static struct {
    uint8_t *buffer;
    size_t valid;
} full[MAX_BUFFERS];
static int n_full;

static void configure(void)
{
    pt_cuda_level = pt_cfg.cuda; /* PT_CUDA_OFF, _KERNELS, _LAUNCHES: 0, 1, 2 */
    if (!pt_cuda_level)
        return;
    parse_records(pt_cfg.cuda_records);
    if (pt_cfg.cuda_tie == PT_CUDA_TIE_NONE)
        tie_by_callback = 0;
    if (pt_cfg.cuda_capture == PT_CUDA_CAPTURE_PROFILER)
        capture_by_profiler = 1;
    const char *inj = getenv("CUDA_INJECTION64_PATH");
    Dl_info self;
    if (!dladdr((void *)configure, &self) || !self.dli_fname)
        return;
    if (!inj || !*inj)
        setenv("CUDA_INJECTION64_PATH", self.dli_fname, 1);
    const char *nvtx = getenv("NVTX_INJECTION64_PATH");
    if (!nvtx || !*nvtx)
        setenv("NVTX_INJECTION64_PATH", self.dli_fname, 1);
    else if (inj && *inj && strcmp(inj, self.dli_fname) != 0)
        pt_info("CUDA_INJECTION64_PATH is %s: GPU activity only if that is partrace", inj);
}

static void emit_status(uint32_t state)
{
    struct pt_rec_cuda_status r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_CUDA_STATUS;
    r.hdr.size = sizeof r;
    r.ts_ns = pt_ticks();
    r.buffers_refused = atomic_load(&buffers_refused);
    r.state = state;
    r.level = (uint32_t)pt_cuda_level;
    pt_emit(&r, sizeof r);
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
    pthread_mutex_lock(&pool_lock);
    *buffer = n_free ? free_buffers[--n_free] : NULL;
    pthread_mutex_unlock(&pool_lock);
    *size = *buffer ? BUFFER_BYTES : 0;
    *max_records = 0;
    if (!*buffer)
        atomic_fetch_add(&buffers_refused, 1);
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size,
                                      size_t valid)
{
    (void)ctx, (void)stream, (void)size;
    if (!buffer)
        return;
    pthread_mutex_lock(&pool_lock);
    if (n_full < MAX_BUFFERS) {
        full[n_full].buffer = buffer;
        full[n_full].valid = valid;
        n_full++;
    }
    pthread_mutex_unlock(&pool_lock);
}

static uint64_t CUPTIAPI timestamp(void)
{
    return pt_now_ns(); /* CUPTI puts GPU times on our clock */
}

/* The GPU behind a new context, once per device. */
static void record_gpu(CUcontext ctx)
{
    uint32_t dev = 0;
    if (pt_cupti.cuptiGetDeviceId(ctx, &dev) != CUPTI_SUCCESS)
        return;
    if (dev < 64 && (atomic_fetch_or(&seen_devices, 1ull << dev) & (1ull << dev)))
        return;
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    struct pt_rec_gpu r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_GPU;
    r.hdr.size = sizeof r;
    r.device = dev;
    if (cuda) {
        __typeof__(&cuDeviceGet) get = (__typeof__(&cuDeviceGet))dlsym(cuda, "cuDeviceGet");
        __typeof__(&cuDeviceGetName) name = (__typeof__(&cuDeviceGetName))dlsym(cuda, "cuDeviceGetName");
        __typeof__(&cuDeviceGetUuid) uuid = (__typeof__(&cuDeviceGetUuid))dlsym(cuda, "cuDeviceGetUuid_v2");
        __typeof__(&cuDeviceGetPCIBusId) bus = (__typeof__(&cuDeviceGetPCIBusId))dlsym(cuda, "cuDeviceGetPCIBusId");
        __typeof__(&cuDeviceGetAttribute) attr = (__typeof__(&cuDeviceGetAttribute))dlsym(cuda, "cuDeviceGetAttribute");
        __typeof__(&cuDeviceTotalMem) mem = (__typeof__(&cuDeviceTotalMem))dlsym(cuda, "cuDeviceTotalMem_v2");
        CUdevice d;
        if (get && get(&d, (int)dev) == CUDA_SUCCESS) {
            if (name)
                name(r.name, sizeof r.name - 1, d);
            CUuuid u;
            if (uuid && uuid(&u, d) == CUDA_SUCCESS)
                memcpy(r.uuid, u.bytes, sizeof r.uuid);
            if (bus)
                bus(r.pci_bus_id, sizeof r.pci_bus_id - 1, d);
            int sms = 0;
            if (attr && attr(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d) == CUDA_SUCCESS)
                r.sm_count = (uint32_t)sms;
            size_t bytes = 0;
            if (mem && mem(&bytes, d) == CUDA_SUCCESS)
                r.total_memory_bytes = bytes;
        }
        dlclose(cuda);
    }
    pt_emit(&r, sizeof r);
}

/* Driver entry points that name a graph node's kernel; NULL where the driver lacks them. */
static __typeof__(&cuGraphKernelNodeGetParams) get_params;
static __typeof__(&cuFuncGetName) func_name;
static __typeof__(&cuKernelGetName) kernel_name;

static void resolve_node_api(void)
{
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (cuda) {
        get_params = (__typeof__(get_params))dlsym(cuda, "cuGraphKernelNodeGetParams_v2");
        func_name = (__typeof__(func_name))dlsym(cuda, "cuFuncGetName");
        kernel_name = (__typeof__(kernel_name))dlsym(cuda, "cuKernelGetName");
        dlclose(cuda);
    }
}

/* The NCCL kernel kind of a kernel graph node (1 + kind), 0 when it is no NCCL kernel. */
static uint8_t nccl_node_kind(const CUpti_GraphData *g)
{
    /* Graphs may be built on several threads at once; the driver entry points are looked up
     * once (once per process, not per node, so the once-lock costs nothing that matters). */
    static pthread_once_t resolved = PTHREAD_ONCE_INIT;
    if (g->nodeType != CU_GRAPH_NODE_TYPE_KERNEL)
        return 0;
    pthread_once(&resolved, resolve_node_api);
    CUDA_KERNEL_NODE_PARAMS p;
    const char *name = NULL;
    if (!get_params || get_params(g->node, &p) != CUDA_SUCCESS)
        return 0;
    if (p.func && func_name)
        func_name(&name, p.func);
    else if (p.kern && kernel_name)
        kernel_name(&name, p.kern);
    return pt_nccl_kernel_kind(name);
}

/* Graph nodes made while a NCCL call is captured carry that call; clones at instantiation
 * carry the node they copy, so replayed kernels lead back to the call. */
static void record_graph_node(const CUpti_GraphData *g, int cloned)
{
    struct pt_rec_graph_node r;
    memset(&r, 0, sizeof r);
    r.hdr.kind = PT_REC_GRAPH_NODE;
    r.hdr.size = sizeof r;
    r.ts_ns = pt_ticks();
    if (pt_cupti.cuptiGetGraphNodeId(g->node, &r.node_id) != CUPTI_SUCCESS)
        return;
    pt_cupti.cuptiGetGraphId(g->graph, &r.graph_id);
    if (cloned) {
        r.cloned = 1;
        if (pt_cupti.cuptiGetGraphNodeId(g->originalNode, &r.original_node_id) != CUPTI_SUCCESS)
            return;
    } else {
        r.nccl_call_id = pt_self.in_wrapper ? pt_self.current_call_id : 0;
        if (!r.nccl_call_id && !(r.nccl_kind = nccl_node_kind(g)))
            return; /* only nodes of NCCL's kernels are worth a record */
        /* Made outside any call (NCCL captures a non-blocking communicator's work on its own
         * thread): the call entered last is the likely owner. Passed to the writer in this
         * otherwise unused field, which the writer clears before the record is written. */
        if (!r.nccl_call_id)
            r.original_node_id = atomic_load_explicit(&pt_gpu_last_call, memory_order_relaxed);
    }
    pt_emit(&r, sizeof r);
}

/* A kernel launch through the driver API. When it happens inside a NCCL call (NCCL launches
 * with cuLaunchKernelEx, at the call or at the outermost ncclGroupEnd), the launch's correlation
 * id, which its kernel record will carry, is tied to the call. CUPTI emits external-correlation
 * records only together with API activity records, which cost far more than this callback. */
static void on_launch(const CUpti_CallbackData *cb)
{
    if (cb->callbackSite != CUPTI_API_ENTER || !pt_self.in_wrapper || !pt_self.current_call_id)
        return;
    struct pt_rec_ext_corr r = {.hdr = {PT_REC_EXT_CORR, sizeof r, 0},
                                .nccl_call_id = pt_self.current_call_id,
                                .correlation_id = cb->correlationId};
    pt_emit(&r, sizeof r);
}

/* How CUPTI numbers a stream the application names (nccl records carry the cudaStream_t). */
static void record_stream(CUcontext ctx, CUstream stream, uint8_t per_thread, uint64_t handle)
{
    struct pt_rec_stream r = {.hdr = {PT_REC_STREAM, sizeof r, 0}, .handle = handle};
    if (pt_cupti.cuptiGetStreamIdEx(ctx, stream, per_thread, &r.stream_id) != CUPTI_SUCCESS)
        return;
    pt_cupti.cuptiGetContextId(ctx, &r.context_id);
    pt_emit(&r, sizeof r);
}

static void on_profiler(CUpti_CallbackId cbid, const CUpti_CallbackData *cb);

static void CUPTIAPI on_callback(void *userdata, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                                 const void *data)
{
    (void)userdata;
    if (!atomic_load(&active))
        return;
    if (domain == CUPTI_CB_DOMAIN_DRIVER_API) {
        if (cbid == CUPTI_DRIVER_TRACE_CBID_cuMemCreate || cbid == CUPTI_DRIVER_TRACE_CBID_cuMemRelease)
            pt_vmm_callback(cbid, data);
        else if (cbid == CUPTI_DRIVER_TRACE_CBID_cuProfilerStart || cbid == CUPTI_DRIVER_TRACE_CBID_cuProfilerStop)
            on_profiler(cbid, data);
        else
            on_launch(data);
        return;
    }
    if (domain != CUPTI_CB_DOMAIN_RESOURCE)
        return;
    const CUpti_ResourceData *res = data;
    if (cbid == CUPTI_CBID_RESOURCE_CONTEXT_CREATED) {
        record_gpu(res->context);
        record_stream(res->context, NULL, 0, 0);                     /* legacy default */
        record_stream(res->context, NULL, 1, (uintptr_t)CU_STREAM_PER_THREAD);
    } else if (cbid == CUPTI_CBID_RESOURCE_STREAM_CREATED)
        record_stream(res->context, res->resourceHandle.stream, 0, (uintptr_t)res->resourceHandle.stream);
    else if (cbid == CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED)
        record_graph_node(res->resourceDescriptor, 0);
    else if (cbid == CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED)
        record_graph_node(res->resourceDescriptor, 1);
}

static const char *result_text(CUptiResult r)
{
    const char *s = NULL;
    if (pt_cupti.cuptiGetResultString && pt_cupti.cuptiGetResultString(r, &s) == CUPTI_SUCCESS && s)
        return s;
    return "unknown CUPTI error";
}

/* What costs the application per launch or copy: the activity kinds asked for (all but memory,
 * whose records are few and whose in-use count needs every allocation) and the launch tie.
 * Switched on once, or at each capture range's edges. */
static void set_gpu_records(int on)
{
    static const CUpti_ActivityKind api_kinds[] = {CUPTI_ACTIVITY_KIND_RUNTIME,
                                                   CUPTI_ACTIVITY_KIND_DRIVER,
                                                   CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION};
    static const CUpti_CallbackId launch_cbs[] = {
        CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz};
    CUptiResult r;
    for (size_t i = 0; tie_by_callback && i < sizeof launch_cbs / sizeof *launch_cbs; i++)
        pt_cupti.cuptiEnableCallback(on, subscriber, CUPTI_CB_DOMAIN_DRIVER_API, launch_cbs[i]);
    for (size_t i = 0; i < N_RECORD_KINDS; i++) {
        if (!record_wanted[i] || record_kinds[i].kind == CUPTI_ACTIVITY_KIND_MEMORY2)
            continue;
        CUpti_ActivityKind k = record_kinds[i].kind;
        r = on ? pt_cupti.cuptiActivityEnable(k) : pt_cupti.cuptiActivityDisable(k);
        if (r != CUPTI_SUCCESS)
            pt_info("CUPTI activity kind %s not %s: %s", record_kinds[i].name, on ? "enabled" : "disabled",
                    result_text(r));
    }
    for (size_t i = 0; pt_cuda_level >= 2 && i < sizeof api_kinds / sizeof *api_kinds; i++)
        on ? pt_cupti.cuptiActivityEnable(api_kinds[i]) : pt_cupti.cuptiActivityDisable(api_kinds[i]);
}

/* cuProfilerStart (the runtime's cudaProfilerStart calls it) opens a capture range when it has
 * returned; cuProfilerStop closes it as it is entered, so nothing of the stop itself counts. */
static void on_profiler(CUpti_CallbackId cbid, const CUpti_CallbackData *cb)
{
    if (cbid == CUPTI_DRIVER_TRACE_CBID_cuProfilerStart && cb->callbackSite == CUPTI_API_EXIT &&
        !atomic_exchange(&capturing, 1)) {
        set_gpu_records(1);
        atomic_store(&capture_range, pt_nvtx_range_start(PT_CAPTURE_RANGE_NAME));
    } else if (cbid == CUPTI_DRIVER_TRACE_CBID_cuProfilerStop && cb->callbackSite == CUPTI_API_ENTER &&
               atomic_exchange(&capturing, 0)) {
        set_gpu_records(0);
        pt_nvtx_range_end(atomic_load(&capture_range));
    }
}

static int enable_all(void)
{
    static const CUpti_CallbackId resource_cbs[] = {CUPTI_CBID_RESOURCE_CONTEXT_CREATED,
                                                    CUPTI_CBID_RESOURCE_STREAM_CREATED,
                                                    CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED,
                                                    CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED};
    CUptiResult r;
    /* One shared set of activity buffers, not CUPTI 13's default of one per thread: NCCL launches
     * a non-blocking communicator's kernels from threads that end right after, and the records in
     * an ended thread's buffer were lost (4 x H200: ~30 of 1200 eager NCCL kernels arrived). It
     * must be set before the buffer callbacks; a CUPTI without the attribute has no per-thread
     * buffers to turn off. */
    uint8_t per_thread = 0;
    size_t per_thread_size = sizeof per_thread;
    pt_cupti.cuptiActivitySetAttribute(CUPTI_ACTIVITY_ATTR_PER_THREAD_ACTIVITY_BUFFER,
                                       &per_thread_size, &per_thread);
    /* Our clock first: every timestamp CUPTI produces from here on is ours. */
    if ((r = pt_cupti.cuptiActivityRegisterTimestampCallback(timestamp)) != CUPTI_SUCCESS ||
        (r = pt_cupti.cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed)) !=
            CUPTI_SUCCESS) {
        pt_warn("CUPTI refused its callbacks (%s); recording NCCL only", result_text(r));
        return -1;
    }
    for (size_t i = 0; i < sizeof resource_cbs / sizeof *resource_cbs; i++)
        pt_cupti.cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_RESOURCE, resource_cbs[i]);
    if (record_wanted[3]) { /* "memory" */
        pt_cupti.cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API,
                                     CUPTI_DRIVER_TRACE_CBID_cuMemCreate);
        pt_cupti.cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API,
                                     CUPTI_DRIVER_TRACE_CBID_cuMemRelease);
    }
    if (record_wanted[3] && (r = pt_cupti.cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMORY2)) != CUPTI_SUCCESS)
        pt_info("CUPTI activity kind memory not enabled: %s", result_text(r));
    if (capture_by_profiler) {
        pt_cupti.cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API,
                                     CUPTI_DRIVER_TRACE_CBID_cuProfilerStart);
        pt_cupti.cuptiEnableCallback(1, subscriber, CUPTI_CB_DOMAIN_DRIVER_API,
                                     CUPTI_DRIVER_TRACE_CBID_cuProfilerStop);
    } else {
        set_gpu_records(1);
    }
    return 0;
}

static const char *api_name(int domain, uint32_t cbid)
{
    const char *name = NULL;
    if (pt_cupti.cuptiGetCallbackName(domain == 1 ? CUPTI_CB_DOMAIN_RUNTIME_API
                                                  : CUPTI_CB_DOMAIN_DRIVER_API,
                                      cbid, &name) != CUPTI_SUCCESS)
        return NULL;
    return name;
}

static void start(void)
{
    if (atomic_exchange(&started, 1) || !pt_cuda_level || pt_cfg.disabled)
        return;
    char why[600];
    if (pt_cupti_load(why, sizeof why) != 0) {
        pt_warn("%s; recording NCCL only", why);
        emit_status(PT_CUDA_NO_CUPTI);
        return;
    }
    int n = (int)(pt_cfg.cuda_buffer_mb * (1u << 20) / BUFFER_BYTES);
    n = n < 2 ? 2 : n > MAX_BUFFERS ? MAX_BUFFERS : n;
    uint8_t *mem = mmap(NULL, (size_t)n * BUFFER_BYTES, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || pt_convert_init(&convert) != 0) {
        if (mem != MAP_FAILED)
            munmap(mem, (size_t)n * BUFFER_BYTES);
        pt_warn("no memory for GPU activity buffers; recording NCCL only");
        emit_status(PT_CUDA_FAILED);
        return;
    }
    convert.api_name = api_name;
    for (int i = 0; i < n; i++)
        free_buffers[n_free++] = mem + (size_t)i * BUFFER_BYTES;
    CUptiResult r = pt_cupti.cuptiSubscribe(&subscriber, on_callback, NULL);
    if (r != CUPTI_SUCCESS) {
        int taken = r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
        pt_warn("%s; recording NCCL only",
                taken ? "another tool (nsys, ncu, torch.profiler) holds CUPTI"
                      : result_text(r));
        emit_status(taken ? PT_CUDA_TAKEN : PT_CUDA_FAILED);
        return;
    }
    pt_stacks_skip_object((const void *)pt_cupti.cuptiSubscribe);
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (cuda) {
        pt_stacks_skip_object(dlsym(cuda, "cuMemCreate"));
        dlclose(cuda);
    }
    atomic_store(&active, 1);
    if (enable_all() != 0) {
        atomic_store(&active, 0);
        pt_cupti.cuptiUnsubscribe(subscriber);
        emit_status(PT_CUDA_FAILED);
        return;
    }
    /* With API activity records, CUPTI's own external correlation works too. */
    atomic_store(&pt_gpu_tie, pt_cuda_level >= 2);
    pt_info("GPU activity through %s", pt_cupti.path);
    emit_status(PT_CUDA_ACTIVE);
}

/* Called by the CUDA driver at cuInit when CUDA_INJECTION64_PATH names this library. */
PT_EXPORT int InitializeInjection(void)
{
    start();
    return 1;
}

static void put_converted(const CUpti_Activity *a, pt_put_fn put, void *arg)
{
    pt_convert_activity(&convert, a, put, arg);
}

/* Converts every buffer CUPTI has given back. Returns how many there were. */
/* Converts up to `most` returned buffers, oldest first. */
static int convert_returned(pt_put_fn put, void *arg, int most)
{
    int buffers = 0;
    for (; buffers < most; buffers++) {
        pthread_mutex_lock(&pool_lock);
        uint8_t *buffer = n_full ? full[0].buffer : NULL;
        size_t valid = n_full ? full[0].valid : 0;
        if (n_full) {
            memmove(full, full + 1, (size_t)(n_full - 1) * sizeof *full);
            n_full--;
        }
        pthread_mutex_unlock(&pool_lock);
        if (!buffer)
            break;
        CUpti_Activity *rec = NULL;
        while (pt_cupti.cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS)
            put_converted(rec, put, arg);
        pthread_mutex_lock(&pool_lock);
        free_buffers[n_free++] = buffer;
        pthread_mutex_unlock(&pool_lock);
    }
    return buffers;
}

/* Buffers CUPTI had returned at the last pt_cupti_flush: only these are converted next, after the
 * rings were drained, so every NCCL call whose kernel is in them has been learned. */
static int ready;

static void before_drain(void)
{
    if (!atomic_load(&active))
        return;
    pt_cupti.cuptiActivityFlushAll(0);
    pthread_mutex_lock(&pool_lock);
    ready = n_full;
    pthread_mutex_unlock(&pool_lock);
}

static void after_drain(pt_put_fn put, void *arg, int final)
{
    if (!atomic_load(&active))
        return;
    if (final)
        pt_cupti.cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    /* Every ring of this pass is learned: bind the nodes NCCL captured on its own threads
     * (those of the pass before; at the end, all). */
    pt_convert_graph_flush(&convert, final);
    pt_convert_release_held(&convert, put, arg);
    convert.no_hold = final;
    convert_returned(put, arg, final ? MAX_BUFFERS : ready);
    ready = 0;
    /* At the end, CUPTI may hand the last buffers back from its own thread after the flush
     * returned: flush again, at least twice, until a round brings nothing (5 rounds at most). */
    const struct timespec pause = {0, 10 * 1000000L};
    for (int round = 0; final && round < 5; round++) {
        nanosleep(&pause, NULL);
        pt_cupti.cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
        if (!convert_returned(put, arg, MAX_BUFFERS) && round >= 1)
            break;
    }
}

static void learn(char *records, size_t bytes)
{
    if (!atomic_load(&active))
        return;
    for (size_t off = 0; off + sizeof(struct pt_rec_hdr) <= bytes;) {
        struct pt_rec_hdr *h = (void *)(records + off);
        if (h->size < sizeof *h)
            break;
        if (h->kind == PT_REC_GRAPH_NODE)
            pt_convert_graph_node(&convert, (struct pt_rec_graph_node *)h);
        else if (h->kind == PT_REC_EXT_CORR)
            pt_convert_correlation(&convert, (const struct pt_rec_ext_corr *)h);
        else if (h->kind == PT_REC_STREAM)
            pt_convert_stream(&convert, (const struct pt_rec_stream *)h);
        else if (h->kind == PT_REC_COMM_INIT)
            pt_convert_comm(&convert, (const struct pt_rec_comm_init *)h);
        else if (h->kind == PT_REC_NCCL_CALL)
            pt_convert_call(&convert, (const struct pt_rec_nccl_call *)h);
        off += h->size;
    }
}

static void call_enter(uint64_t nccl_call_id)
{
    pt_cupti.cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0,
                                                    nccl_call_id);
}

static void call_exit(void)
{
    uint64_t last;
    pt_cupti.cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last);
}

static void after_fork(void)
{
    atomic_store(&active, 0);
    atomic_store(&pt_gpu_tie, 0);
    atomic_store(&capturing, 0);
    pthread_mutex_init(&pool_lock, NULL);
    if (convert.slots)
        pt_convert_reset_strings(&convert);
}

/* Registered before the recorder's constructor runs (which calls configure): priorities run
 * first, lowest first, and the recorder's constructor has none. */
__attribute__((constructor(101))) static void register_hooks(void)
{
    static const struct pt_gpu_hooks hooks = {
        .configure = configure,
        .before_drain = before_drain,
        .learn = learn,
        .after_drain = after_drain,
        .call_enter = call_enter,
        .call_exit = call_exit,
        .after_fork = after_fork,
    };
    pt_gpu_hooks_register(&hooks);
}
