/* A test double of CUPTI for CPU-only machines: the functions partrace binds, with CUPTI's real
 * prototypes and record structs, plus a few fake_cupti_* calls by which a test program plays the
 * GPU: launch a kernel (with the external correlation id pushed on its thread, as CUPTI does),
 * capture launches into graph nodes, instantiate and replay the graph, copy, set, allocate.
 * Records go to buffers that partrace hands over, and come back at cuptiActivityFlushAll.
 * FAKE_CUPTI_TAKEN=1 makes cuptiSubscribe answer that another subscriber exists.
 * Per-thread activity buffers (CUPTI 13's default, CUPTI_ACTIVITY_ATTR_PER_THREAD_ACTIVITY_BUFFER)
 * behave as seen on the GPU machine: the records of a thread that ends before they were flushed
 * are lost (NCCL launches a non-blocking communicator's kernels from short-lived threads). */
#include <cupti.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CUpti_CallbackFunc subscriber_cb;
static CUpti_BuffersCallbackRequestFunc request_cb;
static CUpti_BuffersCallbackCompleteFunc complete_cb;
static CUpti_TimestampCallbackFunc timestamp_cb;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *pending;     /* records not yet given to partrace */
static size_t pending_len, pending_cap;
static uint32_t *owners;     /* per pending record, in order: the thread that wrote it (0: shared) */
static size_t n_owned, owners_cap;
static uint8_t per_thread_buffers = 1;
static uint64_t enabled_kinds; /* bit per CUpti_ActivityKind */
static size_t fake_buffer_bytes = 1; /* the size of partrace's buffers, once one was asked for */
static pthread_key_t thread_end_key;
static pthread_once_t thread_end_once = PTHREAD_ONCE_INIT;
static uint32_t next_thread = 1;
static __thread uint32_t this_thread;
static uint32_t next_correlation = 1;
static __thread uint64_t ext_stack[16];
static __thread int ext_depth;
static int capturing;
static uint64_t captured_nodes[64], cloned_nodes[64];
static uint32_t captured_names[64];
static const char *names[64];
static int n_nodes;

static size_t record_size(CUpti_ActivityKind kind)
{
    switch (kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        return sizeof(CUpti_ActivityKernel10);
    case CUPTI_ACTIVITY_KIND_MEMCPY:
        return sizeof(CUpti_ActivityMemcpy6);
    case CUPTI_ACTIVITY_KIND_MEMSET:
        return sizeof(CUpti_ActivityMemset4);
    case CUPTI_ACTIVITY_KIND_MEMORY2:
        return sizeof(CUpti_ActivityMemory4);
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
        return sizeof(CUpti_ActivitySynchronization2);
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
        return sizeof(CUpti_ActivityExternalCorrelation);
    case CUPTI_ACTIVITY_KIND_DRIVER:
        return sizeof(CUpti_ActivityAPI);
    default:
        return 0;
    }
}

/* A thread ends: with per-thread buffers, its records not yet flushed are gone. */
static void thread_ended(void *arg)
{
    uint32_t gone = (uint32_t)(uintptr_t)arg;
    pthread_mutex_lock(&lock);
    size_t in = 0, out = 0, kept = 0;
    for (size_t i = 0; i < n_owned; i++) {
        size_t n = record_size(((CUpti_Activity *)(pending + in))->kind);
        if (owners[i] != gone) {
            memmove(pending + out, pending + in, n);
            owners[kept++] = owners[i];
            out += n;
        }
        in += n;
    }
    pending_len = out;
    n_owned = kept;
    pthread_mutex_unlock(&lock);
}

static void make_thread_end_key(void) { pthread_key_create(&thread_end_key, thread_ended); }

static void add(const void *rec)
{
    CUpti_ActivityKind kind = ((const CUpti_Activity *)rec)->kind;
    if (!(enabled_kinds & (1ull << kind)))
        return; /* CUPTI records only the kinds that were enabled */
    size_t n = record_size(kind);
    pthread_once(&thread_end_once, make_thread_end_key);
    pthread_mutex_lock(&lock);
    if (per_thread_buffers && !this_thread) {
        this_thread = next_thread++;
        pthread_setspecific(thread_end_key, (void *)(uintptr_t)this_thread);
    }
    if (pending_len + n > pending_cap) {
        pending_cap = pending_cap ? pending_cap * 2 : 1 << 16;
        pending = realloc(pending, pending_cap);
    }
    if (n_owned == owners_cap) {
        owners_cap = owners_cap ? owners_cap * 2 : 1024;
        owners = realloc(owners, owners_cap * sizeof *owners);
    }
    memcpy(pending + pending_len, rec, n);
    pending_len += n;
    owners[n_owned++] = per_thread_buffers ? this_thread : 0;
    pthread_mutex_unlock(&lock);
}

static uint64_t now(void) { return timestamp_cb ? timestamp_cb() : 0; }

/* ---- The CUPTI API partrace binds. */
CUptiResult CUPTIAPI cuptiSubscribe(CUpti_SubscriberHandle *s, CUpti_CallbackFunc cb, void *u)
{
    (void)u;
    const char *taken = getenv("FAKE_CUPTI_TAKEN");
    if (taken && *taken == '1')
        return CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
    subscriber_cb = cb;
    *s = (CUpti_SubscriberHandle)&subscriber_cb;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiUnsubscribe(CUpti_SubscriberHandle s) { (void)s; subscriber_cb = NULL; return CUPTI_SUCCESS; }
/* Driver-API callbacks are delivered only for the ids enabled, as CUPTI does: a test can see
 * how many launches paid for a callback (FAKE_CUPTI_STATS=1 prints the counts at exit). */
static _Atomic uint64_t driver_cb_on[1024 / 64];
static _Atomic uint64_t launches, launch_callbacks;

static int driver_cb_enabled(CUpti_CallbackId c)
{
    return c < 1024 && (atomic_load(&driver_cb_on[c / 64]) >> (c % 64) & 1);
}

CUptiResult CUPTIAPI cuptiEnableCallback(uint32_t e, CUpti_SubscriberHandle s, CUpti_CallbackDomain d,
                                         CUpti_CallbackId c)
{
    (void)s;
    if (d != CUPTI_CB_DOMAIN_DRIVER_API)
        return CUPTI_SUCCESS;
    if (c >= 1024)
        return CUPTI_ERROR_INVALID_PARAMETER;
    if (e)
        atomic_fetch_or(&driver_cb_on[c / 64], 1ull << (c % 64));
    else
        atomic_fetch_and(&driver_cb_on[c / 64], ~(1ull << (c % 64)));
    return CUPTI_SUCCESS;
}

__attribute__((destructor)) static void print_stats(void)
{
    const char *v = getenv("FAKE_CUPTI_STATS");
    if (v && *v == '1')
        fprintf(stderr, "fake_cupti: launches %llu launch_callbacks %llu\n",
                (unsigned long long)launches, (unsigned long long)launch_callbacks);
}
CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind k)
{
    if ((unsigned)k < 64)
        enabled_kinds |= 1ull << k;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiActivityDisable(CUpti_ActivityKind k)
{
    if ((unsigned)k < 64)
        enabled_kinds &= ~(1ull << k);
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc r,
                                                    CUpti_BuffersCallbackCompleteFunc c)
{
    request_cb = r;
    complete_cb = c;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiActivitySetAttribute(CUpti_ActivityAttribute a, size_t *size, void *value)
{
    if (a != CUPTI_ACTIVITY_ATTR_PER_THREAD_ACTIVITY_BUFFER || !size || *size != sizeof(uint8_t))
        return CUPTI_ERROR_INVALID_PARAMETER;
    if (request_cb)
        return CUPTI_ERROR_INVALID_OPERATION; /* must come before the buffer callbacks */
    per_thread_buffers = *(uint8_t *)value;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiActivityRegisterTimestampCallback(CUpti_TimestampCallbackFunc f)
{
    timestamp_cb = f;
    return CUPTI_SUCCESS;
}

/* As CUPTI: a default flush returns only buffers whose records are all complete, and the buffer
 * being filled always holds a kernel still in flight in a busy program, so in effect only full
 * buffers come back; a forced flush returns everything. */
CUptiResult CUPTIAPI cuptiActivityFlushAll(uint32_t flag)
{
    for (;;) {
        pthread_mutex_lock(&lock);
        if (!pending_len || !request_cb ||
            (!(flag & CUPTI_ACTIVITY_FLAG_FLUSH_FORCED) && pending_len < fake_buffer_bytes)) {
            pthread_mutex_unlock(&lock);
            return CUPTI_SUCCESS;
        }
        uint8_t *buf = NULL;
        size_t size = 0, max = 0;
        request_cb(&buf, &size, &max);
        fake_buffer_bytes = size ? size : fake_buffer_bytes;
        if (!buf) {
            pthread_mutex_unlock(&lock);
            return CUPTI_SUCCESS; /* records stay pending, as CUPTI would drop or keep them */
        }
        size_t used = 0, off = 0;
        while (off < pending_len) {
            size_t n = record_size(((CUpti_Activity *)(pending + off))->kind);
            if (used + n > size)
                break;
            memcpy(buf + used, pending + off, n);
            used += n;
            off += n;
        }
        memmove(pending, pending + off, pending_len - off);
        pending_len -= off;
        size_t records = 0;
        for (size_t o = 0; o < off; records++)
            o += record_size(((CUpti_Activity *)(buf + o))->kind);
        memmove(owners, owners + records, (n_owned - records) * sizeof *owners);
        n_owned -= records;
        pthread_mutex_unlock(&lock);
        complete_cb(NULL, 0, buf, size, used);
    }
}

CUptiResult CUPTIAPI cuptiActivityGetNextRecord(uint8_t *buffer, size_t valid, CUpti_Activity **record)
{
    size_t off = *record ? (size_t)((uint8_t *)*record - buffer) +
                               record_size((*record)->kind)
                         : 0;
    if (off + sizeof(CUpti_Activity) > valid)
        return CUPTI_ERROR_MAX_LIMIT_REACHED;
    *record = (CUpti_Activity *)(buffer + off);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityPushExternalCorrelationId(CUpti_ExternalCorrelationKind k, uint64_t id)
{
    (void)k;
    if (ext_depth < 16)
        ext_stack[ext_depth] = id;
    ext_depth++;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiActivityPopExternalCorrelationId(CUpti_ExternalCorrelationKind k, uint64_t *last)
{
    (void)k;
    if (ext_depth == 0)
        return CUPTI_ERROR_QUEUE_EMPTY;
    ext_depth--;
    if (last)
        *last = ext_depth < 16 ? ext_stack[ext_depth] : 0;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiGetGraphNodeId(CUgraphNode node, uint64_t *id) { *id = (uint64_t)(uintptr_t)node; return CUPTI_SUCCESS; }
CUptiResult CUPTIAPI cuptiGetGraphId(CUgraph g, uint32_t *id) { *id = (uint32_t)(uintptr_t)g; return CUPTI_SUCCESS; }
CUptiResult CUPTIAPI cuptiGetDeviceId(CUcontext c, uint32_t *id) { *id = (uint32_t)(uintptr_t)c; return CUPTI_SUCCESS; }
CUptiResult CUPTIAPI cuptiGetCallbackName(CUpti_CallbackDomain d, uint32_t cbid, const char **name)
{
    *name = d == CUPTI_CB_DOMAIN_DRIVER_API && cbid == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx
                ? "cuLaunchKernelEx"
                : "cuUnknown";
    return CUPTI_SUCCESS;
}

/* Streams: handle value 3 is CUPTI stream 3, the default stream is 7 (as CUPTI numbers it). */
CUptiResult CUPTIAPI cuptiGetStreamIdEx(CUcontext c, CUstream s, uint8_t per_thread, uint32_t *id)
{
    (void)c, (void)per_thread;
    *id = s ? (uint32_t)(uintptr_t)s : 7;
    return CUPTI_SUCCESS;
}
CUptiResult CUPTIAPI cuptiGetContextId(CUcontext c, uint32_t *id) { (void)c; *id = 1; return CUPTI_SUCCESS; }

CUptiResult CUPTIAPI cuptiGetResultString(CUptiResult r, const char **s)
{
    *s = r == CUPTI_SUCCESS ? "CUPTI_SUCCESS" : "CUPTI_ERROR (fake)";
    return CUPTI_SUCCESS;
}

/* ---- What a test program does to play the GPU. */
static void kernel(const char *name, uint32_t stream, uint32_t correlation, uint64_t node)
{
    CUpti_ActivityKernel10 k;
    memset(&k, 0, sizeof k);
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.start = now() + 1000;
    k.end = k.start + 5000;
    k.streamId = stream;
    k.correlationId = correlation;
    k.gridX = 8, k.gridY = k.gridZ = 1;
    k.blockX = 256, k.blockY = k.blockZ = 1;
    k.registersPerThread = 32;
    k.graphNodeId = node;
    k.graphId = node ? 7 : 0;
    k.name = name;
    add(&k);
}

void fake_cupti_launch(const char *name, uint32_t stream);
void fake_cupti_launch(const char *name, uint32_t stream)
{
    uint32_t corr;
    pthread_mutex_lock(&lock);
    corr = next_correlation++;
    pthread_mutex_unlock(&lock);
    if (capturing && n_nodes < 64) {
        /* Under capture the launch becomes a graph node, as with stream capture. */
        uint64_t node = 1000 + (uint64_t)n_nodes;
        captured_nodes[n_nodes] = node;
        names[n_nodes] = name;
        captured_names[n_nodes] = stream;
        n_nodes++;
        CUpti_GraphData g = {.graph = (CUgraph)(uintptr_t)7, .node = (CUgraphNode)(uintptr_t)node};
        CUpti_ResourceData res = {.context = NULL, .resourceDescriptor = &g};
        if (subscriber_cb)
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, &res);
        return;
    }
    /* The driver-API callback at the launch's entry, then (only when the application pushed
     * one) the external correlation record that CUPTI writes with API activity. */
    CUpti_CallbackData cb = {.callbackSite = CUPTI_API_ENTER, .functionName = "cuLaunchKernelEx",
                             .correlationId = corr};
    atomic_fetch_add(&launches, 1);
    if (subscriber_cb && driver_cb_enabled(CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx)) {
        atomic_fetch_add(&launch_callbacks, 1);
        subscriber_cb(NULL, CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, &cb);
    }
    if (ext_depth > 0) { /* only with API activity: the API record too */
        uint64_t t = now();
        CUpti_ActivityAPI api = {.kind = CUPTI_ACTIVITY_KIND_DRIVER,
                                 .cbid = CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
                                 .start = t, .end = t + 700, .threadId = 42,
                                 .correlationId = corr};
        add(&api);
        CUpti_ActivityExternalCorrelation e = {.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION,
                                               .externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0,
                                               .externalId = ext_stack[ext_depth - 1],
                                               .correlationId = corr};
        add(&e);
    }
    kernel(name, stream, corr, 0);
}

/* cudaProfilerStart/Stop as the driver reports them: callbacks at entry and exit, when enabled. */
void fake_cupti_profiler(int start);
void fake_cupti_profiler(int start)
{
    CUpti_CallbackId id = start ? CUPTI_DRIVER_TRACE_CBID_cuProfilerStart : CUPTI_DRIVER_TRACE_CBID_cuProfilerStop;
    for (int site = CUPTI_API_ENTER; site <= CUPTI_API_EXIT; site++) {
        CUpti_CallbackData cb = {.callbackSite = (CUpti_ApiCallbackSite)site,
                                 .functionName = start ? "cuProfilerStart" : "cuProfilerStop"};
        if (subscriber_cb && driver_cb_enabled(id))
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_DRIVER_API, id, &cb);
    }
}

void fake_cupti_capture(int on);
void fake_cupti_capture(int on) { capturing = on; }

/* Instantiation clones every captured node under a new id. */
void fake_cupti_instantiate(void);
void fake_cupti_instantiate(void)
{
    /* As CUPTI 13 reported torch.cuda.graph's instantiation on the GPU machine: each node of the
     * new graph created (a kernel node, no NCCL call around it), then at once cloned from the
     * captured node. */
    for (int i = 0; i < n_nodes; i++) {
        cloned_nodes[i] = 5000 + captured_nodes[i];
        CUpti_GraphData g = {.graph = (CUgraph)(uintptr_t)8,
                             .node = (CUgraphNode)(uintptr_t)cloned_nodes[i],
                             .nodeType = CU_GRAPH_NODE_TYPE_KERNEL};
        CUpti_ResourceData res = {.resourceDescriptor = &g};
        if (subscriber_cb)
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_GRAPHNODE_CREATED, &res);
        g.originalNode = (CUgraphNode)(uintptr_t)captured_nodes[i];
        if (subscriber_cb)
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_GRAPHNODE_CLONED, &res);
    }
}

/* The kernel a captured or instantiated node runs (the test driver, fake_cuda.c, asks). */
const char *fake_cupti_node_name(uint64_t node);
const char *fake_cupti_node_name(uint64_t node)
{
    for (int i = 0; i < n_nodes; i++)
        if (captured_nodes[i] == node || (cloned_nodes[i] && cloned_nodes[i] == node))
            return names[i];
    return NULL;
}

/* A replay runs every node's kernel, with new correlation ids and no external correlation. */
void fake_cupti_replay(void);
void fake_cupti_replay(void)
{
    for (int i = 0; i < n_nodes; i++) {
        pthread_mutex_lock(&lock);
        uint32_t corr = next_correlation++;
        pthread_mutex_unlock(&lock);
        kernel(names[i], captured_names[i], corr, cloned_nodes[i]);
    }
}

/* One copy, one memset, an allocation and its release, one synchronization. */
void fake_cupti_misc(void);
void fake_cupti_misc(void)
{
    uint64_t t = now();
    CUpti_ActivityMemcpy6 c = {.kind = CUPTI_ACTIVITY_KIND_MEMCPY, .copyKind = 1, .srcKind = 2,
                               .dstKind = 3, .bytes = 1 << 20, .start = t, .end = t + 100,
                               .streamId = 3, .correlationId = 900};
    CUpti_ActivityMemset4 s = {.kind = CUPTI_ACTIVITY_KIND_MEMSET, .value = 0, .bytes = 4096,
                               .start = t + 200, .end = t + 300, .streamId = 3, .memoryKind = 3};
    CUpti_ActivityMemory4 a = {.kind = CUPTI_ACTIVITY_KIND_MEMORY2,
                               .memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION,
                               .memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE,
                               .address = 0x7f0000000000ull, .bytes = 1 << 30, .timestamp = t};
    CUpti_ActivityMemory4 f = a;
    f.memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
    f.timestamp = t + 400;
    CUpti_ActivitySynchronization2 y = {.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,
                                        .type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE,
                                        .start = t + 500, .end = t + 900, .streamId = 3};
    add(&c);
    add(&s);
    add(&a);
    add(&f);
    add(&y);
}

/* cuMemCreate of `bytes` on `device` and, later, cuMemRelease: the driver-API callbacks. */
void fake_cupti_vmm(uint64_t handle, size_t bytes, int device, int release);
void fake_cupti_vmm(uint64_t handle, size_t bytes, int device, int release)
{
    if (!subscriber_cb)
        return;
    CUresult ok = CUDA_SUCCESS;
    if (!release) {
        CUmemGenericAllocationHandle h = handle;
        CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                    .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = device}};
        cuMemCreate_params p = {.handle = &h, .size = bytes, .prop = &prop, .flags = 0};
        CUpti_CallbackData cb = {.callbackSite = CUPTI_API_EXIT, .functionName = "cuMemCreate",
                                 .functionParams = &p, .functionReturnValue = &ok};
        if (driver_cb_enabled(CUPTI_DRIVER_TRACE_CBID_cuMemCreate))
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemCreate, &cb);
    } else {
        cuMemRelease_params p = {.handle = handle};
        CUpti_CallbackData cb = {.callbackSite = CUPTI_API_ENTER, .functionName = "cuMemRelease",
                                 .functionParams = &p};
        if (driver_cb_enabled(CUPTI_DRIVER_TRACE_CBID_cuMemRelease))
            subscriber_cb(NULL, CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemRelease, &cb);
    }
}

/* A context on device `device` (the driver's callback at context creation). */
void fake_cupti_context_created(int device);
void fake_cupti_context_created(int device)
{
    CUpti_ResourceData res = {.context = (CUcontext)(uintptr_t)device};
    if (subscriber_cb)
        subscriber_cb(NULL, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_CONTEXT_CREATED, &res);
}
