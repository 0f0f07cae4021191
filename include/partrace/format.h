/* partrace on-disk trace format. The one definition shared by the writer (preload/) and the
 * reader (analyze/). docs/FORMAT.md explains it; change both together and bump the version.
 *
 * A file is a fixed, uncompressed preamble (struct pt_file_header) followed by independent zstd
 * frames. Each frame holds whole records; every record starts with struct pt_rec_hdr whose
 * `size` lets a reader skip kinds it does not know. In format 1.x a frame decompresses to the
 * records themselves; in 2.x to the records packed as the end of this header says, which
 * unpack to the same records. All integers are little-endian.
 * Timestamps are CLOCK_MONOTONIC nanoseconds, shared by every process of a host. */
#ifndef PARTRACE_FORMAT_H
#define PARTRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PT_MAGIC "PARTRACE"
#define PT_MAGIC_LEN 8
#define PT_VERSION_MAJOR 3 /* what writers write; readers refuse majors they do not know */
#define PT_VERSION_MINOR 1 /* new record kinds or appended fields: readers of older minors skip them */
#define PT_VERSION_MAJOR_PLAIN 1 /* the major whose frames hold records unpacked; still read */
#define PT_VERSION_MAJOR_ONE_BASE 2 /* packed, each delta from the last record of its kind; read */
#define PT_FILE_SUFFIX ".ptrace"
#define PT_HOST_MAX 64
#define PT_REC_ALIGN 8u
/* The size of a record of a fixed head and a variable tail (text, path), padded to the alignment. */
#define PT_REC_BYTES(head_bytes, tail_bytes)                                                       \
    (((size_t)(head_bytes) + (size_t)(tail_bytes) + PT_REC_ALIGN - 1) & ~(size_t)(PT_REC_ALIGN - 1))
#define PT_FRAME_MAX_BYTES (4u << 20) /* decompressed size of one frame, at most */
#define PT_ATTR_MAX_BYTES 4096u       /* value of one attribute record, at most */

/* Fixed preamble, written once at file creation (256 bytes). */
struct pt_file_header {
    char magic[PT_MAGIC_LEN];
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t header_bytes;     /* sizeof(struct pt_file_header) as written */
    uint32_t pid;
    uint32_t ppid;
    uint64_t start_realtime_ns; /* CLOCK_REALTIME and CLOCK_MONOTONIC read together at */
    uint64_t start_monotonic_ns; /* library load: maps trace time to wall-clock time */
    uint32_t flags;            /* PT_FILE_* */
    uint32_t exec_index;       /* 0 for the first image of this pid, n after the n-th exec */
    char host[PT_HOST_MAX];    /* NUL-terminated, truncated */
    uint8_t reserved[256 - 8 - 4 - 4 - 4 - 4 - 8 - 8 - 4 - 4 - PT_HOST_MAX];
};
#define PT_FILE_FORKED 0x1u /* this process is a fork child of another traced process */

/* A header with the magic, this format's version and its own size set, everything else 0. */
static inline void pt_file_header_init(struct pt_file_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, PT_MAGIC, PT_MAGIC_LEN);
    h->version_major = PT_VERSION_MAJOR;
    h->version_minor = PT_VERSION_MINOR;
    h->header_bytes = sizeof *h;
}

/* Record kinds, one row each:
 * X(name, value, struct, label, time, start, end, stamp, tail_length, tail_unit).
 * Values are stable forever. The columns are the kind's facts, which the recorder, the codec
 * (format/record_kinds.h) and the reader take from here, never from a list of their own:
 *   time        NONE; AT: one time, `start`, right after the header; SPAN: `start` right after
 *               the header and `end` after it (PT_TIME_*; hdr where there is none)
 *   stamp       TICKS: stamped on a host thread with the recorder's tick clock and turned into
 *               ns by the writer; NS: stamped in ns (CUPTI, the writer itself), or no time
 *   tail_length the field counting the variable tail after the struct (hdr: no counted tail)
 *   tail_unit   bytes per unit of that count (0: no counted tail)
 * Adding a kind: a row here, its struct below, a size assert at the end, its producer in the
 * recorder and its printer in the dump (docs/FORMAT.md, "Adding a record kind").
 * What each kind holds is said at its struct below; in short: attr (process attribute),
 * thread (a thread's first record), nccl (one NCCL API call), comm_init (communicator made),
 * flush (writer's per-frame bookkeeping), end (orderly end), string (interned text), kernel,
 * memcpy, memset, memory, sync (CUPTI activity; memory also from cuMemCreate, in ticks through
 * the rings), ext_corr (CUDA correlation id → NCCL call), gpu, graph_node (graph node → NCCL
 * call), nvtx, cuda_status (GPU-side recording state), stack (PCs of another record), module
 * (a loaded object), cuda_api (runtime/driver call), stream (cudaStream_t → CUPTI id),
 * metric (a sample of a server's Prometheus metric, format 3.1). */
#define PT_REC_KINDS(X)                                                                                 \
    X(ATTR,        1,  pt_rec_attr,        "attr",        NONE, hdr,        hdr,       NS,    value_bytes, 1) \
    X(THREAD,      2,  pt_rec_thread,      "thread",      AT,   ts_ns,      hdr,       TICKS, hdr,         0) \
    X(NCCL_CALL,   3,  pt_rec_nccl_call,   "nccl",        SPAN, t_enter_ns, t_exit_ns, TICKS, hdr,         0) \
    X(COMM_INIT,   4,  pt_rec_comm_init,   "comm_init",   SPAN, t_enter_ns, t_exit_ns, TICKS, hdr,         0) \
    X(FLUSH,       5,  pt_rec_flush,       "flush",       AT,   ts_ns,      hdr,       NS,    hdr,         0) \
    X(END,         6,  pt_rec_end,         "end",         AT,   ts_ns,      hdr,       NS,    hdr,         0) \
    X(STRING,      7,  pt_rec_string,      "string",      NONE, hdr,        hdr,       NS,    text_bytes,  1) \
    X(KERNEL,      8,  pt_rec_kernel,      "kernel",      SPAN, start_ns,   end_ns,    NS,    hdr,         0) \
    X(MEMCPY,      9,  pt_rec_memcpy,      "memcpy",      SPAN, start_ns,   end_ns,    NS,    hdr,         0) \
    X(MEMSET,      10, pt_rec_memset,      "memset",      SPAN, start_ns,   end_ns,    NS,    hdr,         0) \
    X(MEMORY,      11, pt_rec_memory,      "memory",      AT,   ts_ns,      hdr,       TICKS, hdr,         0) \
    X(SYNC,        12, pt_rec_sync,        "sync",        SPAN, start_ns,   end_ns,    NS,    hdr,         0) \
    X(EXT_CORR,    13, pt_rec_ext_corr,    "ext_corr",    NONE, hdr,        hdr,       NS,    hdr,         0) \
    X(GPU,         14, pt_rec_gpu,         "gpu",         NONE, hdr,        hdr,       NS,    hdr,         0) \
    X(GRAPH_NODE,  15, pt_rec_graph_node,  "graph_node",  AT,   ts_ns,      hdr,       TICKS, hdr,         0) \
    X(NVTX,        16, pt_rec_nvtx,        "nvtx",        AT,   ts_ns,      hdr,       TICKS, text_bytes,  1) \
    X(CUDA_STATUS, 17, pt_rec_cuda_status, "cuda_status", AT,   ts_ns,      hdr,       TICKS, hdr,         0) \
    X(STACK,       18, pt_rec_stack,       "stack",       NONE, hdr,        hdr,       NS,    frames,      8) \
    X(MODULE,      19, pt_rec_module,      "module",      NONE, hdr,        hdr,       NS,    hdr,         0) \
    X(CUDA_API,    20, pt_rec_cuda_api,    "cuda_api",    SPAN, start_ns,   end_ns,    NS,    hdr,         0) \
    X(STREAM,      21, pt_rec_stream,      "stream",      NONE, hdr,        hdr,       NS,    hdr,         0) \
    X(METRIC,      22, pt_rec_metric,      "metric",      AT,   ts_ns,      hdr,       NS,    hdr,         0)

/* The time column's values. */
#define PT_TIME_NONE 0
#define PT_TIME_AT 1
#define PT_TIME_SPAN 2
/* The stamp column's values. */
#define PT_STAMP_NS 0
#define PT_STAMP_TICKS 1

enum pt_rec_kind {
#define PT_X(name, val, st, label, time, start, end, stamp, tail, unit) PT_REC_##name = val,
    PT_REC_KINDS(PT_X)
#undef PT_X
    PT_REC_KIND_LIMIT
};

struct pt_rec_hdr {
    uint16_t kind;  /* enum pt_rec_kind */
    uint16_t size;  /* whole record in bytes, header included, multiple of 8 */
    uint32_t tid;   /* kernel thread id of the thread that produced it */
};

/* Process attributes. X(name, value, label). */
#define PT_ATTRS(X)                         \
    X(CMDLINE, 1, "cmdline") /* argv joined by NUL */ \
    X(ENV, 2, "env")         /* NAME=value, launcher whitelist only */ \
    X(EXE, 3, "exe")         /* /proc/self/exe target */
enum pt_attr {
#define PT_X(name, val, label) PT_ATTR_##name = val,
    PT_ATTRS(PT_X)
#undef PT_X
};

struct pt_rec_attr {
    struct pt_rec_hdr hdr;
    uint32_t attr;        /* enum pt_attr */
    uint32_t value_bytes; /* bytes of value[] that are used; the rest pads to 8 */
    char value[];
};

struct pt_rec_string {
    struct pt_rec_hdr hdr;
    uint32_t id;
    uint32_t text_bytes;
    char text[];
};

struct pt_rec_thread {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint32_t serial; /* process-unique thread number, never reused */
    uint32_t reserved;
    char name[16];   /* as prctl(PR_GET_NAME), NUL-terminated */
};

/* NCCL entry points we record, one row each: X(name, value, family, busbw, bytes). Values are
 * stable forever. The analyses take an op's nature from these columns (format/nccl_ops.h), never
 * from its value's place in the list:
 *   family  COLL collective with a seq per comm; P2P send/recv with a seq per comm and peer;
 *           GROUP group markers; COMM communicator management; QUERY comm queries;
 *           MEM memory/registration (PT_FAMILY_*)
 *   busbw   nccl-tests' bus bandwidth factor over algorithm bandwidth for n ranks: ALLREDUCE
 *           2(n-1)/n; SPREAD (n-1)/n; ONE 1 (PT_BUSBW_*)
 *   bytes   what nccl-tests count as the op's size S: CALL the call's own bytes; PER_RANK the
 *           call's bytes times n (the call records a per-rank count) (PT_OPBYTES_*)
 * Adding an op: a row here, its wrapper in preload/nccl_wrap_*.c (docs/FORMAT.md). */
#define PT_NCCL_OPS(X)                                  \
    X(AllReduce, 1, COLL, ALLREDUCE, CALL)              \
    X(Broadcast, 2, COLL, ONE, CALL)                    \
    X(Bcast, 3, COLL, ONE, CALL)                        \
    X(Reduce, 4, COLL, ONE, CALL)                       \
    X(AllGather, 5, COLL, SPREAD, PER_RANK)             \
    X(ReduceScatter, 6, COLL, SPREAD, PER_RANK)         \
    X(AlltoAll, 7, COLL, SPREAD, PER_RANK)              \
    X(Gather, 8, COLL, ONE, PER_RANK)                   \
    X(Scatter, 9, COLL, ONE, PER_RANK)                  \
    X(Send, 10, P2P, ONE, CALL)                         \
    X(Recv, 11, P2P, ONE, CALL)                         \
    X(GroupStart, 12, GROUP, ONE, CALL)                 \
    X(GroupEnd, 13, GROUP, ONE, CALL)                   \
    X(GroupSimulateEnd, 14, GROUP, ONE, CALL)           \
    X(CommFinalize, 15, COMM, ONE, CALL)                \
    X(CommDestroy, 16, COMM, ONE, CALL)                 \
    X(CommAbort, 17, COMM, ONE, CALL)                   \
    X(CommRevoke, 18, COMM, ONE, CALL)                  \
    X(CommCount, 19, QUERY, ONE, CALL)                  \
    X(CommCuDevice, 20, QUERY, ONE, CALL)               \
    X(CommUserRank, 21, QUERY, ONE, CALL)               \
    X(CommRegister, 22, MEM, ONE, CALL)                 \
    X(CommDeregister, 23, MEM, ONE, CALL)               \
    X(CommWindowRegister, 24, MEM, ONE, CALL)           \
    X(CommWindowDeregister, 25, MEM, ONE, CALL)         \
    X(MemAlloc, 26, MEM, ONE, CALL)                     \
    X(MemFree, 27, MEM, ONE, CALL)

/* The op columns' values. */
#define PT_FAMILY_COLL 1
#define PT_FAMILY_P2P 2
#define PT_FAMILY_GROUP 3
#define PT_FAMILY_COMM 4
#define PT_FAMILY_QUERY 5
#define PT_FAMILY_MEM 6
#define PT_BUSBW_ONE 0
#define PT_BUSBW_ALLREDUCE 1
#define PT_BUSBW_SPREAD 2
#define PT_OPBYTES_CALL 0
#define PT_OPBYTES_PER_RANK 1

enum pt_nccl_op {
#define PT_X(name, val, fam, busbw, bytes) PT_OP_##name = val,
    PT_NCCL_OPS(PT_X)
#undef PT_X
    PT_OP_LIMIT
};

#define PT_NO_DTYPE 0xffu
#define PT_NO_REDOP 0xffu
#define PT_CUSTOM_REDOP 0xfeu /* ncclRedOpCreatePreMulSum result */

/* One NCCL call (112 bytes). */
struct pt_rec_nccl_call {
    struct pt_rec_hdr hdr;
    uint64_t t_enter_ns;
    uint64_t t_exit_ns;
    uint64_t comm_id;   /* same on every rank of the communicator; 0 when the op has none */
    uint64_t call_id;   /* process-unique: thread serial << 40 | per-thread counter */
    uint64_t group_id;  /* call_id of the outermost GroupStart around it, 0 outside groups */
    uint64_t seq;       /* per comm and op (per comm, op and peer for Send/Recv), from 0 */
    uint64_t count;     /* count argument as passed (sendcount for AllGather) */
    uint64_t bytes;     /* count × datatype size; buffer size for MEM ops */
    uint64_t stream;    /* cudaStream_t value */
    uint64_t aux;       /* op-specific: flags of Revoke / WindowRegister, buffer address of MEM ops */
    int32_t peer;       /* root (rooted collectives) or peer (Send/Recv); -1 when none */
    int32_t rank;       /* rank in comm, -1 unknown */
    int32_t nranks;     /* comm size, -1 unknown */
    int32_t device;     /* CUDA device of the comm, -1 unknown */
    uint16_t op;        /* enum pt_nccl_op */
    uint8_t dtype;      /* ncclDataType_t or PT_NO_DTYPE */
    uint8_t redop;      /* ncclRedOp_t (built-in) or PT_NO_REDOP / PT_CUSTOM_REDOP */
    int16_t result;     /* ncclResult_t returned */
    uint16_t group_depth; /* NCCL group nesting of this thread when called (GroupStart: before) */
};

/* How a communicator came to be. */
#define PT_COMM_HOWS(X)               \
    X(InitRank, 1)                    \
    X(InitRankConfig, 2)              \
    X(InitAll, 3)                     \
    X(InitRankScalable, 4)            \
    X(Split, 5)                       \
    X(Shrink, 6)                      \
    X(Adopted, 7) /* first seen in a call; created before partrace loaded */
enum pt_comm_how {
#define PT_X(name, val) PT_COMM_##name = val,
    PT_COMM_HOWS(PT_X)
#undef PT_X
};

#define PT_COMM_LOCAL_ID 0x1u /* comm_id could not be derived from a uniqueId: not comparable across processes */
#define PT_COMM_NONBLOCKING 0x2u

/* A communicator created (88 bytes). */
struct pt_rec_comm_init {
    struct pt_rec_hdr hdr;
    uint64_t t_enter_ns;
    uint64_t t_exit_ns;
    uint64_t comm_id;
    uint64_t parent_comm_id; /* Split/Shrink: the parent's id, else 0 */
    uint64_t call_id;
    uint64_t handle;         /* ncclComm_t value in this process */
    int32_t rank;
    int32_t nranks;
    int32_t device;
    int32_t color;           /* Split: color; Shrink: excluded count; else 0 */
    int32_t key;             /* Split: key, else 0 */
    uint16_t how;            /* enum pt_comm_how */
    int16_t result;
    uint32_t flags;          /* PT_COMM_* */
    uint32_t reserved;
};

/* Why the writer wrote a frame. */
#define PT_FLUSH_REASONS(X) \
    X(PERIODIC, 1)          \
    X(EXEC, 2)              \
    X(SIGNAL, 3)            \
    X(EXIT, 4)              \
    X(FORCED, 5)
enum pt_flush_reason {
#define PT_X(name, val) PT_FLUSH_##name = val,
    PT_FLUSH_REASONS(PT_X)
#undef PT_X
};

/* Written by the writer at the end of every frame: running totals, so a killed process still
 * tells what it lost (48 bytes). */
struct pt_rec_flush {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t records_total;  /* records written so far, this one excluded */
    uint64_t dropped_total;  /* records dropped so far (buffers full, no buffer, write failed) */
    uint64_t frame_index;
    uint32_t reason;         /* enum pt_flush_reason */
    uint32_t threads;        /* threads that have produced records so far */
};

/* Last record of a trace that ended in order (48 bytes). */
struct pt_rec_end {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t records_total;
    uint64_t dropped_total;
    uint32_t how;            /* 1 exit / destructor, 2 _exit, 3 fatal signal default action */
    uint32_t reserved;
    uint64_t reserved2;
};
#define PT_END_EXIT 1u
#define PT_END_UNDERSCORE_EXIT 2u
#define PT_END_SIGNAL 3u

/* ---- GPU side (format 1.1). Timestamps are CLOCK_MONOTONIC ns (CUPTI is given our clock). */

/* A kernel (104 bytes). nccl_call_id: the NCCL call that launched it (0: unknown or none). */
struct pt_rec_kernel {
    struct pt_rec_hdr hdr;
    uint64_t start_ns, end_ns;
    uint64_t graph_node_id;   /* 0 when not launched from a CUDA graph */
    uint64_t nccl_call_id;
    uint32_t correlation_id;  /* CUPTI's, shared with the launching API call */
    uint32_t name_id;         /* STRING record id of the (mangled) name */
    uint32_t device, context, stream, graph_id;
    int32_t grid[3], block[3];
    int32_t smem_static, smem_dynamic;
    uint16_t registers;
    uint8_t launch_type;
    uint8_t reserved;
};

/* A copy (64 bytes). Kinds are CUPTI's CUpti_ActivityMemcpyKind / CUpti_ActivityMemoryKind. */
struct pt_rec_memcpy {
    struct pt_rec_hdr hdr;
    uint64_t start_ns, end_ns;
    uint64_t bytes;
    uint64_t graph_node_id;
    uint32_t correlation_id, device, context, stream;
    uint8_t copy_kind, src_kind, dst_kind, flags;
    uint32_t graph_id;
};

/* A memset (64 bytes). */
struct pt_rec_memset {
    struct pt_rec_hdr hdr;
    uint64_t start_ns, end_ns;
    uint64_t bytes;
    uint64_t graph_node_id;
    uint32_t correlation_id, device, context, stream;
    uint32_t value;
    uint16_t memory_kind, flags;
};

/* An allocation or release of memory (64 bytes). */
struct pt_rec_memory {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t address;
    uint64_t bytes;
    uint64_t pool_address;    /* stream-ordered pool, 0 otherwise */
    uint32_t correlation_id, device, context, stream;
    uint8_t operation;        /* 1 allocation, 2 release */
    uint8_t memory_kind;      /* CUpti_ActivityMemoryKind: 3 device, 2 pinned host, ... */
    uint8_t pool_type;        /* 0 none, 1 local, 2 imported (CUPTI); PT_POOL_VMM: cuMemCreate */
    uint8_t is_async;
    uint32_t reserved;
};

#define PT_POOL_VMM 3 /* physical memory of the virtual memory API; address = the handle */

/* A synchronization (48 bytes). type: CUpti_ActivitySynchronizationType. */
struct pt_rec_sync {
    struct pt_rec_hdr hdr;
    uint64_t start_ns, end_ns;
    uint32_t correlation_id, context, stream, event_id;
    uint32_t type, reserved;
};

/* CUPTI correlation id of a CUDA API call made inside a NCCL call (24 bytes). */
struct pt_rec_ext_corr {
    struct pt_rec_hdr hdr;
    uint64_t nccl_call_id;
    uint32_t correlation_id;
    uint32_t external_kind;
};

/* A GPU this process used (120 bytes). device: the CUDA ordinal in this process. */
struct pt_rec_gpu {
    struct pt_rec_hdr hdr;
    uint32_t device;
    uint32_t sm_count;
    uint64_t total_memory_bytes;
    uint8_t uuid[16];
    char pci_bus_id[16];
    char name[64];
};

/* A CUDA graph node created while a NCCL call was being captured, or cloned at
 * instantiation (48 bytes). call_id is 0 for clones: follow original_node_id. A NCCL kernel node
 * captured outside any call (a non-blocking communicator captures on a NCCL thread) has
 * nccl_kind != 0, and the writer fills nccl_call_id by order, as for such kernels. */
struct pt_rec_graph_node {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t node_id;
    uint64_t original_node_id; /* clones: the node it was cloned from; else 0 */
    uint64_t nccl_call_id;
    uint32_t graph_id;
    uint16_t cloned;
    uint8_t nccl_kind;         /* 1 + kind of the NCCL kernel, for nodes bound by order */
    uint8_t reserved;
};

/* An NVTX range or mark (40 bytes + text, padded). Ranges come as push/pop (nested per
 * thread) or start/end (matched by id). */
struct pt_rec_nvtx {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t range_id;        /* start/end ranges: the id; else 0 */
    uint32_t domain_id;       /* 0: the default domain; else a STRING record id */
    uint16_t event;           /* PT_NVTX_* */
    uint16_t text_bytes;
    uint32_t color, category;
    char text[];
};
#define PT_NVTX_PUSH 1
#define PT_NVTX_POP 2
#define PT_NVTX_START 3
#define PT_NVTX_END 4
#define PT_NVTX_MARK 5
/* The NVTX start/end range the writer records around each capture range of
 * PARTRACE_CUDA_CAPTURE=profiler (GPU records only inside them). */
#define PT_CAPTURE_RANGE_NAME "partrace:capture"
static inline int pt_nvtx_is_capture_start(const struct pt_rec_nvtx *n)
{
    return n->event == PT_NVTX_START && n->text_bytes == sizeof PT_CAPTURE_RANGE_NAME - 1 &&
           !memcmp(n->text, PT_CAPTURE_RANGE_NAME, n->text_bytes);
}
#define PT_NVTX_TEXT_MAX 256u

/* Text fields hold whole UTF-8 characters: the length of s in a field of max bytes is
 * strnlen(s, max), less whatever part of a character a cut at max would leave at the end. */
static inline size_t pt_text_cut(const char *s, size_t max)
{
    size_t n = strnlen(s, max), lead = n;
    if (n < max)
        return n; /* not cut */
    while (lead > 0 && n - lead < 3 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
        lead--;
    unsigned char c = lead > 0 ? (unsigned char)s[lead - 1] : 0;
    if (c < 0xc2 || c > 0xf4)
        return n; /* ends in ASCII, or in bytes that are no UTF-8: kept as they are */
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return n - (lead - 1) < want ? lead - 1 : n;
}

/* State of the GPU-side recording, written when it changes (40 bytes). */
struct pt_rec_cuda_status {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;
    uint64_t buffers_refused;  /* CUPTI asked for a buffer and the pool was empty */
    uint64_t records_dropped;  /* records CUPTI reports it dropped */
    uint32_t state;            /* PT_CUDA_* */
    uint32_t level;            /* 0 off, 1 kernels, 2 launches */
};
#define PT_CUDA_ACTIVE 1
#define PT_CUDA_NO_CUPTI 2      /* no CUPTI library found */
#define PT_CUDA_TAKEN 3         /* another tool holds CUPTI's one subscriber */
#define PT_CUDA_FAILED 4        /* CUPTI answered an error */

/* The call stack of an event (PARTRACE_STACKS), as return addresses, innermost first
 * (24 bytes + 8 per frame). ref: the call_id of a nccl/comm_init record, or the address of a
 * memory record; ref_kind: that record's kind. */
struct pt_rec_stack {
    struct pt_rec_hdr hdr;
    uint64_t ref;
    uint16_t ref_kind;
    uint16_t frames;
    uint32_t reserved;
    uint64_t pc[];
};
#define PT_STACK_MAX_FRAMES 48

/* A loaded object (32 bytes + path, padded), written when the set of loaded objects changed:
 * [start, end) holds its executable and read-only segments; load_bias is added to ELF
 * addresses (symbol values) to get run-time addresses. */
struct pt_rec_module {
    struct pt_rec_hdr hdr;
    uint64_t start, end;
    uint64_t load_bias;
    char path[];
};

/* A CUDA runtime or driver API call, host side (48 bytes); its correlation id is the one of
 * the kernels, copies and memsets it started. */
struct pt_rec_cuda_api {
    struct pt_rec_hdr hdr;
    uint64_t start_ns, end_ns;
    uint32_t correlation_id;
    uint32_t name_id;          /* STRING record id of the function name */
    uint32_t thread_id;        /* as CUPTI reports it */
    uint32_t result;
    uint32_t domain;           /* 1 runtime, 2 driver */
    uint32_t cbid;
};

/* A CUDA stream as the application names it (the cudaStream_t in nccl records; 0 legacy
 * default, 2 per-thread default) and as CUPTI numbers it (kernel records) (24 bytes). */
struct pt_rec_stream {
    struct pt_rec_hdr hdr;
    uint64_t handle;
    uint32_t stream_id;
    uint32_t context_id;
};

/* One sample of a server's Prometheus metric, scraped by `partrace record --metrics` into a
 * file of its own in the run (32 bytes; format 3.1). series_id: a STRING record holding the
 * series as the endpoint wrote it, `name{labels}`. All samples of one scrape of all endpoints
 * carry the same time. */
struct pt_rec_metric {
    struct pt_rec_hdr hdr;
    uint64_t ts_ns;            /* CLOCK_MONOTONIC ns when the scrape started */
    double value;
    uint32_t series_id;
    uint8_t type;              /* the family's "# TYPE": 0 untyped, 1 counter, 2 gauge,
                                * 3 histogram, 4 summary */
    uint8_t reserved[3];
};

/* ---- Packed frames (formats 2.x and 3.x): how a frame's records are stored before zstd
 * compresses them (docs/FORMAT.md, "Packed records"). Records are fixed structs, and a record
 * differs from one of the last few records of its kind in a few of its 32-bit words (timestamps,
 * a sequence number, a correlation id): writing only the words that changed, as small deltas,
 * makes a frame a fifth to a tenth of its size before compression and leaves zstd that much less
 * to decode. 2.x takes each delta from the last record of its kind; 3.x from any of the last
 * PT_PACK_REFS, named in the lead byte, which follows kinds that interleave (a step's kernels,
 * a call and its kernel): a third fewer changed words on GPU traces. Each frame is packed on its
 * own (the state below starts empty at every frame), so frames stay independent. The writer
 * packs (format/record_pack.c); readers unpack (format/record_unpack.c) back into the records
 * a 1.x frame holds. */

#define PT_PACK_KIND_LIMIT 128u   /* kinds a 2.x packed frame can hold: 1..127 */
#define PT_PACK_RAW 0x80u         /* lead byte: the record follows whole */
#define PT_PACK_DELTA_MAX_BYTES 256u /* larger records are always written whole */
#define PT_PACK_REFS 4u           /* 3.x: a delta is from one of the last 4 records of its kind */
#define PT_PACK3_KIND_MASK 0x1fu  /* 3.x lead byte: bits 0-4 the kind (1..31), bits 5-6 which */
#define PT_PACK3_REF_SHIFT 5u     /* of the last records (0 the newest), bit 7 PT_PACK_RAW */
#define PT_PACK3_KIND_LIMIT 32u   /* kinds a 3.x packed frame can hold: 1..31 */

/* Room callers give the packer beyond the records it packs. The packer measures a delta before
 * it writes one, so it writes no more than the records' own length; the room is kept so that a
 * packer that writes first and measures after stays within its callers' buffers. */
#define PT_PACK_SLACK 512u

/* Packs the records in [recs, recs + len) (whole records, sizes checked by the caller) into out,
 * which holds at least len + PT_PACK_SLACK bytes, in the packed form of format `major` (2 or
 * 3). Returns the packed length (never more than len), or 0 when a record's kind cannot be
 * packed (0, or past that major's kind limit). */
size_t pt_pack_records_as(const void *recs, size_t len, void *out, unsigned major);
/* The same in the packed form of PT_VERSION_MAJOR, what writers write. */
size_t pt_pack_records(const void *recs, size_t len, void *out);

/* Where unpacking a frame stands, so that a call that ran out of room can go on after the
 * caller gave it more (out may move: the state holds offsets, not pointers). */
struct pt_unpack_state {
    size_t in_pos;                      /* packed bytes consumed */
    size_t out_len;                     /* record bytes produced */
    unsigned major;                     /* the format the frame is packed in: 2 or 3 */
    /* offset + 1 in out of the last records of each kind: [kind][0] the newest, then older
     * ones (2.x uses [kind][0] only); 0 where there is none */
    uint32_t last[PT_PACK_KIND_LIMIT][PT_PACK_REFS];
};

/* Starts unpacking a frame packed in format `major` (2 or 3). */
void pt_unpack_begin(struct pt_unpack_state *s, unsigned major);

/* Unpacks the packed frame [in, in + len) into out (cap bytes), from where s stands. Returns 0
 * when the frame is done (s->out_len bytes of records); 1 when the next record needs more
 * than cap bytes (call again with a larger out holding the same s->out_len bytes); -1 when the
 * input is damaged, with *bad_at its offset in the packed frame, *why a static message and
 * s->out_len the bytes of the records before it. */
int pt_unpack_records(struct pt_unpack_state *s, const void *in, size_t len, void *out, size_t cap,
                      size_t *bad_at, const char **why);

/* Sizes are part of the format: docs/FORMAT.md lists them. */
_Static_assert(sizeof(struct pt_file_header) == 256, "file header is 256 bytes");
_Static_assert(sizeof(struct pt_rec_hdr) == 8, "record header is 8 bytes");
_Static_assert(sizeof(struct pt_rec_attr) == 16, "attr record head is 16 bytes");
_Static_assert(sizeof(struct pt_rec_string) == 16, "string record head is 16 bytes");
_Static_assert(sizeof(struct pt_rec_thread) == 40, "thread record is 40 bytes");
_Static_assert(sizeof(struct pt_rec_nccl_call) == 112, "nccl record is 112 bytes");
_Static_assert(sizeof(struct pt_rec_comm_init) == 88, "comm_init record is 88 bytes");
_Static_assert(sizeof(struct pt_rec_flush) == 48, "flush record is 48 bytes");
_Static_assert(sizeof(struct pt_rec_end) == 48, "end record is 48 bytes");
_Static_assert(sizeof(struct pt_rec_kernel) == 104, "kernel record is 104 bytes");
_Static_assert(sizeof(struct pt_rec_memcpy) == 64, "memcpy record is 64 bytes");
_Static_assert(sizeof(struct pt_rec_memset) == 64, "memset record is 64 bytes");
_Static_assert(sizeof(struct pt_rec_memory) == 64, "memory record is 64 bytes");
_Static_assert(sizeof(struct pt_rec_sync) == 48, "sync record is 48 bytes");
_Static_assert(sizeof(struct pt_rec_ext_corr) == 24, "ext_corr record is 24 bytes");
_Static_assert(sizeof(struct pt_rec_gpu) == 120, "gpu record is 120 bytes");
_Static_assert(sizeof(struct pt_rec_graph_node) == 48, "graph_node record is 48 bytes");
_Static_assert(sizeof(struct pt_rec_nvtx) == 40, "nvtx record head is 40 bytes");
_Static_assert(sizeof(struct pt_rec_cuda_status) == 40, "cuda_status record is 40 bytes");
_Static_assert(sizeof(struct pt_rec_stack) == 24, "stack record head is 24 bytes");
_Static_assert(sizeof(struct pt_rec_module) == 32, "module record head is 32 bytes");
_Static_assert(sizeof(struct pt_rec_cuda_api) == 48, "cuda_api record is 48 bytes");
_Static_assert(sizeof(struct pt_rec_stream) == 24, "stream record is 24 bytes");
_Static_assert(sizeof(struct pt_rec_metric) == 32, "metric record is 32 bytes");

#endif
