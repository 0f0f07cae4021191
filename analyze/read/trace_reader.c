#include "read/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "format/record_kinds.h"
#include "format/record_unpack.h"
#include "util/settings.h"

#define READ_CHUNK (1u << 20)
#define MIN_BUFFER (4u << 10) /* buffers start this small and grow: 10,000 small files stay small */

/* A decompressed frame (cap bytes, grown to the largest; packed records in 2.x and 3.x, records in
 * 1.x) and the file offsets of its first byte and just past it. */
struct frame_buf {
    char *data;
    size_t len, cap;
    uint64_t start, end;
};

/* Why decoding a frame failed (set by whoever decoded it; the message is made by the reading
 * thread, which knows how many records came before). */
enum failure { FAIL_NONE, FAIL_DAMAGED, FAIL_CUT, FAIL_READ, FAIL_MEMORY };

/* The next frame of a file is decompressed ahead on a helper thread while the reading thread
 * goes through the current one (advance below): zstd is about a sixth of reading. */
enum prefetch { PF_NONE, PF_QUEUED, PF_BUSY, PF_READY };

struct pt_reader {
    char *path;
    struct pt_file_header header;
    /* Decoding side: the helper thread's while a prefetch is queued or busy, else the reader's. */
    int fd;
    int eof;
    char *in;            /* compressed bytes read: in[in_start, in_len) not yet consumed */
    size_t in_start, in_len, in_cap;
    uint64_t in_offset;  /* file offset of in[in_start] */
    size_t file_bytes;   /* at open: bounds the input buffer of small files */
    int packed;          /* 2.x, 3.x: frames hold packed records, unpacked one by one into `kinds` */
    enum failure failure;
    uint64_t fail_offset;
    char fail_detail[160];
    /* Reading side. */
    struct frame_buf buf[2]; /* the current frame and the one decoded ahead */
    int cur;
    size_t frame_pos;
    struct pt_unpack_kinds kinds;
    size_t largest_frame;    /* bytes of the largest frame unpacked whole so far */
    int done;                /* the stream ended (cleanly or not): nothing more is returned */
    char warning[512];
    struct pt_reader_stats stats;
    /* Prefetch state, under the pool's lock. */
    int ahead;               /* this file's frames are decoded ahead (set at open) */
    enum prefetch pf;
    int pf_rc;
    struct pt_reader *pf_next;
};

size_t pt_rec_min_size(uint16_t kind) { return pt_rec_min_size_of(kind); }

static int wants_read_ahead(size_t bytes);

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *special_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
                                                                       : "a device";
}

/* Opens path for reading only if it is a regular file (a FIFO or a device named *.ptrace must not
 * block or be read), and checks its header. Returns the descriptor, or -1 with err set. */
static int open_checked(const char *path, struct pt_file_header *hp, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    struct pt_file_header h;
    memset(&h, 0, sizeof h);
    ssize_t n;
    if (fstat(fd, &st) != 0) {
        fail(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        goto refused;
    }
    if (!S_ISREG(st.st_mode)) {
        fail(err, errlen, "%s: not a regular file (%s)", path, special_kind(st.st_mode));
        goto refused;
    }
    if (st.st_size == 0) {
        fail(err, errlen, "%s: empty file (a process that ended before its first write?)", path);
        goto refused;
    }
    n = pread(fd, &h, sizeof h, 0);
    if (n < (ssize_t)offsetof(struct pt_file_header, header_bytes) + 4 ||
        memcmp(h.magic, PT_MAGIC, PT_MAGIC_LEN) != 0) {
        size_t seen = n > 0 ? ((size_t)n < PT_MAGIC_LEN ? (size_t)n : PT_MAGIC_LEN) : 0;
        if (seen && memcmp(h.magic, PT_MAGIC, seen) == 0)
            fail(err, errlen, "%s: header cut short at byte %zd (killed while starting?)", path, n);
        else
            fail(err, errlen, "%s: not a partrace trace (no '%s' magic at offset 0)", path, PT_MAGIC);
        goto refused;
    }
    if (h.version_major < PT_VERSION_MAJOR_PLAIN || h.version_major > PT_VERSION_MAJOR) {
        fail(err, errlen, "%s: trace format %u.%u; this partrace reads %u.x to %u.x", path,
             h.version_major, h.version_minor, PT_VERSION_MAJOR_PLAIN, PT_VERSION_MAJOR);
        goto refused;
    }
    if (n < (ssize_t)sizeof h || h.header_bytes < sizeof h || h.header_bytes > (1u << 20)) {
        fail(err, errlen, "%s: header is cut short or damaged (%zd bytes, header_bytes %u)", path,
             n, h.header_bytes);
        goto refused;
    }
    *hp = h;
    return fd;
refused:
    close(fd);
    return -1;
}

int pt_reader_probe(const char *path, char *err, size_t errlen)
{
    struct pt_file_header h;
    int fd = open_checked(path, &h, err, errlen);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int pt_reader_open(const char *path, struct pt_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    struct pt_file_header h;
    int fd = open_checked(path, &h, err, errlen);
    if (fd < 0)
        return -1;
    h.host[sizeof h.host - 1] = '\0';
    struct pt_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        fail(err, errlen, "%s: out of memory", path);
        if (r) {
            free(r->path);
            free(r);
        }
        close(fd);
        return -1;
    }
    r->fd = fd;
    struct stat st;
    r->file_bytes = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
    r->header = h;
    r->packed = h.version_major != PT_VERSION_MAJOR_PLAIN;
    if (r->packed)
        pt_unpack_kinds_init(&r->kinds, h.version_major);
    r->ahead = wants_read_ahead(r->file_bytes);
    r->in_offset = h.header_bytes;
    r->stats.bytes_on_disk = h.header_bytes;
    if (lseek(fd, h.header_bytes, SEEK_SET) < 0) {
        fail(err, errlen, "%s: cannot seek: %s", path, strerror(errno));
        pt_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

const struct pt_file_header *pt_reader_header(const struct pt_reader *r) { return &r->header; }
const struct pt_reader_stats *pt_reader_stats(const struct pt_reader *r) { return &r->stats; }
const char *pt_reader_warning(const struct pt_reader *r)
{
    return r->warning[0] ? r->warning : NULL;
}

/* The reading side ends the stream at file offset `at`, saying why. */
__attribute__((format(printf, 4, 5))) static void stop(struct pt_reader *r, int truncated, uint64_t at,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warning, sizeof r->warning, fmt, ap);
    va_end(ap);
    r->done = 1;
    r->stats.stop_offset = at;
    if (truncated)
        r->stats.truncated = 1;
    else
        r->stats.corrupt = 1;
}

/* Reads more compressed bytes. Returns bytes added, 0 at end of file, -1 on error. */
static ssize_t fill(struct pt_reader *r)
{
    if (r->eof)
        return 0;
    if (r->in_start) { /* compact once per read, not once per frame */
        memmove(r->in, r->in + r->in_start, r->in_len - r->in_start);
        r->in_len -= r->in_start;
        r->in_start = 0;
    }
    /* Reads of up to READ_CHUNK; a file smaller than that gets a buffer of its size (+1 byte
     * to see its end), which grows only for a frame larger than the buffer. */
    size_t want = r->file_bytes && r->file_bytes < READ_CHUNK ? r->file_bytes + 1 : READ_CHUNK;
    if (r->in_cap - r->in_len < want) {
        size_t cap = r->in_cap ? r->in_cap * 2 : want < MIN_BUFFER ? MIN_BUFFER : 2 * want;
        while (cap - r->in_len < want)
            cap *= 2;
        char *p = realloc(r->in, cap);
        if (!p)
            return -1;
        r->in = p;
        r->in_cap = cap;
    }
    ssize_t n;
    do
        n = read(r->fd, r->in + r->in_len, r->in_cap - r->in_len < READ_CHUNK ? r->in_cap - r->in_len : READ_CHUNK);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        r->eof = 1;
    if (n > 0)
        r->in_len += (size_t)n;
    return n;
}

static int failed(struct pt_reader *r, enum failure f, uint64_t offset, const char *detail)
{
    r->failure = f;
    r->fail_offset = offset;
    snprintf(r->fail_detail, sizeof r->fail_detail, "%s", detail);
    return -1;
}

/* Makes b hold at least want bytes (buffers start small and double). */
static int grow(struct frame_buf *b, size_t want)
{
    if (want <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : MIN_BUFFER;
    while (cap < want)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p, b->cap = cap;
    return 0;
}

static int failed_for_memory(struct pt_reader *r, size_t bytes)
{
    char what[32];
    snprintf(what, sizeof what, "%zu", bytes);
    return failed(r, FAIL_MEMORY, r->in_offset, what);
}

/* One decompression context per decoding thread (the reading thread, the helper), not per file:
 * a context is about 100 KB, and a run of 10,000 files would hold a gigabyte of them. */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_free(void *d) { ZSTD_freeDCtx(d); }
static void dctx_key_make(void) { pthread_key_create(&dctx_key, dctx_free); }

static ZSTD_DCtx *thread_dctx(void)
{
    pthread_once(&dctx_once, dctx_key_make);
    ZSTD_DCtx *d = pthread_getspecific(dctx_key);
    if (!d && (d = ZSTD_createDCtx()) && pthread_setspecific(dctx_key, d) != 0) {
        ZSTD_freeDCtx(d);
        d = NULL;
    }
    return d;
}

/* Decodes the next whole frame into into. Returns 1, 0 at a clean end, -1 on failure (r->failure
 * says which). Touches only the decoding side of r. */
static int next_frame(struct pt_reader *r, struct frame_buf *into)
{
    const size_t max_compressed = ZSTD_compressBound(PT_FRAME_MAX_BYTES) + 64;
    for (;;) {
        const size_t avail = r->in_len - r->in_start;
        if (avail == 0 && r->eof)
            return 0;
        size_t size = avail ? ZSTD_findFrameCompressedSize(r->in + r->in_start, avail) : 0;
        if (avail && !ZSTD_isError(size))
            break;
        if ((avail && ZSTD_getErrorCode(size) != ZSTD_error_srcSize_wrong) || avail >= max_compressed)
            return failed(r, FAIL_DAMAGED, r->in_offset, ZSTD_getErrorName(size));
        ssize_t got = fill(r);
        if (got < 0)
            return failed(r, FAIL_READ, r->in_offset + (r->in_len - r->in_start), strerror(errno));
        if (got == 0 && r->in_len > r->in_start) {
            char n[32];
            snprintf(n, sizeof n, "%zu", r->in_len - r->in_start);
            return failed(r, FAIL_CUT, r->in_offset, n);
        }
    }
    const char *src = r->in + r->in_start;
    size_t csize = ZSTD_findFrameCompressedSize(src, r->in_len - r->in_start);
    unsigned long long content = ZSTD_getFrameContentSize(src, csize);
    size_t n = 0;
    int ok = content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR &&
             content <= PT_FRAME_MAX_BYTES;
    if (ok && grow(into, content) != 0)
        return failed_for_memory(r, content);
    ZSTD_DCtx *dctx = thread_dctx();
    if (!dctx)
        return failed_for_memory(r, content);
    if (!ok || ZSTD_isError(n = ZSTD_decompressDCtx(dctx, into->data, into->cap, src, csize)) || n != content)
        return failed(r, FAIL_DAMAGED, r->in_offset, ZSTD_isError(n) ? ZSTD_getErrorName(n) : "bad content size");
    into->start = r->in_offset;
    r->in_start += csize;
    r->in_offset += csize;
    into->len = n;
    into->end = r->in_offset;
    return 1;
}

/* The reading side's message for the decoding side's failure. */
static void report_failure(struct pt_reader *r)
{
    unsigned long long at = r->fail_offset, before = r->stats.records;
    switch (r->failure) {
    case FAIL_CUT:
        stop(r, 1, at, "%s: cut short at offset %llu, inside a frame (%s trailing bytes ignored); "
                   "%llu records read up to the last whole frame", r->path, at, r->fail_detail, before);
        break;
    case FAIL_READ:
        stop(r, 0, at, "%s: read error at offset %llu: %s", r->path, at, r->fail_detail);
        break;
    case FAIL_MEMORY:
        stop(r, 0, at, "%s: out of memory for a frame of %s bytes at offset %llu", r->path, r->fail_detail, at);
        break;
    default:
        stop(r, 0, at, "%s: damaged frame at offset %llu (%s); %llu records read before it", r->path, at,
             r->fail_detail, before);
        break;
    }
}

/* ---- Decoding ahead: one helper thread serves every open reader of the process, in turn. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t work, ready;
    struct pt_reader *head, *tail; /* prefetches queued */
    int state;                     /* 0 not tried, 1 running, -1 off (one core, or no thread) */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0};

static void *prefetch_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.head)
            pthread_cond_wait(&pool.work, &pool.lock);
        struct pt_reader *r = pool.head;
        pool.head = r->pf_next;
        if (!pool.head)
            pool.tail = NULL;
        r->pf = PF_BUSY;
        pthread_mutex_unlock(&pool.lock);
        int rc = next_frame(r, &r->buf[!r->cur]);
        pthread_mutex_lock(&pool.lock);
        r->pf_rc = rc;
        r->pf = PF_READY;
        pthread_cond_broadcast(&pool.ready);
    }
    return NULL;
}

/* Whether a file of `bytes` gets its frames decoded ahead. PARTRACE_READ_AHEAD=0: never, 1:
 * always; by default for files of READ_AHEAD_BYTES or more when there is more than one core
 * (small files gain nothing, and need no thread). */
#define READ_AHEAD_BYTES (1u << 20)
static int wants_read_ahead(size_t bytes)
{
    static int mode = -1; /* 0 off, 1 on, 2 by size; set by the first open (one thread) */
    if (mode < 0) {
        int v = pt_settings()->read_ahead; /* 0, 1, or -1: by size */
        mode = v >= 0 ? v : sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 0;
    }
    return mode == 1 || (mode == 2 && bytes >= READ_AHEAD_BYTES);
}

/* Starts the helper thread once (pool lock held). Returns 1 when it runs. */
static int pool_running(void)
{
    if (!pool.state) {
        pool.state = -1;
        pthread_t t;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&t, &attr, prefetch_worker, NULL) == 0)
                pool.state = 1;
            pthread_attr_destroy(&attr);
        }
    }
    return pool.state > 0;
}

/* Queues decoding r's next frame ahead (pool lock held). */
static void queue_prefetch(struct pt_reader *r)
{
    r->pf = PF_QUEUED;
    r->pf_next = NULL;
    if (pool.tail)
        pool.tail->pf_next = r;
    else
        pool.head = r;
    pool.tail = r;
    pthread_cond_signal(&pool.work);
}

/* Takes r off the queue if it waits there and waits while its frame is being decoded (pool lock
 * held): afterwards the decoding side is the reading thread's. A frame decoded ahead stays. */
static void quiesce(struct pt_reader *r)
{
    if (r->pf == PF_QUEUED) {
        struct pt_reader **p = &pool.head, *prev = NULL;
        while (*p != r)
            prev = *p, p = &(*p)->pf_next;
        *p = r->pf_next;
        if (pool.tail == r)
            pool.tail = prev;
        r->pf = PF_NONE;
    }
    while (r->pf == PF_BUSY)
        pthread_cond_wait(&pool.ready, &pool.lock);
}

/* Makes the next frame current: the one decoded ahead, else decoded now; then queues the one
 * after it. Returns 1, 0 at a clean end, -1 on failure. */
static int advance(struct pt_reader *r)
{
    int rc;
    if (!r->ahead) {
        rc = next_frame(r, &r->buf[r->cur]);
    } else {
        pthread_mutex_lock(&pool.lock);
        quiesce(r);
        if (r->pf == PF_READY) {
            rc = r->pf_rc;
            r->cur = !r->cur;
            r->pf = PF_NONE;
        } else {
            pthread_mutex_unlock(&pool.lock);
            rc = next_frame(r, &r->buf[r->cur]);
            pthread_mutex_lock(&pool.lock);
        }
        if (rc > 0 && pool_running())
            queue_prefetch(r);
        pthread_mutex_unlock(&pool.lock);
    }
    r->frame_pos = 0;
    if (rc > 0) {
        pt_unpack_kinds_frame(&r->kinds);
        r->stats.frames++;
        r->stats.bytes_on_disk = r->buf[r->cur].end;
    } else if (rc < 0) {
        report_failure(r);
    } else {
        r->done = 1;
    }
    return rc;
}

/* The message for a record whose sizes do not fit its kind, at byte pos of the current frame. */
static void damaged_record(struct pt_reader *r, const struct pt_rec_hdr *h, size_t avail,
                           size_t pos)
{
    /* Where the damage is: the frame that holds it (a frame is the unit on disk). */
    uint64_t at = r->buf[r->cur].start;
    stop(r, 0, at,
         "%s: damaged record (kind %u, size %u) in frame %llu at offset %llu, at byte %zu of the "
         "decompressed frame; %llu records read before it",
         r->path, avail >= sizeof *h ? h->kind : 0, avail >= sizeof *h ? h->size : 0,
         (unsigned long long)r->stats.frames, (unsigned long long)at, pos,
         (unsigned long long)r->stats.records);
}

/* The message for a packed frame that cannot be unpacked (why, at byte `at` of it). */
static void damaged_frame(struct pt_reader *r, const struct frame_buf *f, const char *why, size_t at)
{
    stop(r, 0, f->start, "%s: damaged frame at offset %llu (%s, at byte %zu of the decompressed frame); "
                         "%llu records read before it", r->path, (unsigned long long)f->start, why, at,
         (unsigned long long)r->stats.records);
}

/* The 1.x record at byte pos of [data, data + len), checked; NULL (the stream ends) when it is
 * damaged. */
static const struct pt_rec_hdr *plain_record(struct pt_reader *r, const char *data, size_t len,
                                             size_t pos)
{
    const struct pt_rec_hdr *h = (const void *)(data + pos);
    size_t avail = len - pos;
    if (avail < sizeof *h || !pt_rec_ok(h, avail)) {
        damaged_record(r, h, avail, pos);
        return NULL;
    }
    return h;
}

/* The next record of a packed (2.x, 3.x) frame, unpacked in place; NULL when the stream ends
 * there. */
static const struct pt_rec_hdr *next_packed(struct pt_reader *r, const struct frame_buf *f)
{
    const uint8_t *p = (const uint8_t *)f->data + r->frame_pos;
    const struct pt_rec_hdr *h;
    const char *why;
    int rc = pt_unpack_next(&r->kinds, &p, (const uint8_t *)f->data + f->len, &h, &why);
    if (rc < 0) {
        if (rc == -2)
            stop(r, 0, f->start, "%s: out of memory for a record in frame %llu at offset %llu", r->path,
                 (unsigned long long)r->stats.frames, (unsigned long long)f->start);
        else
            damaged_frame(r, f, why, r->frame_pos);
        return NULL;
    }
    /* A delta keeps its base's size, checked when the base came whole; only lengths inside the
     * record can have changed. */
    if (rc == PT_UNPACK_WHOLE ? !pt_rec_ok(h, h->size) : !pt_rec_lengths_ok(h)) {
        damaged_record(r, h, h->size, r->frame_pos);
        return NULL;
    }
    r->frame_pos = (size_t)(p - (const uint8_t *)f->data);
    return h;
}

/* The next record of a 1.x frame, in place. */
static const struct pt_rec_hdr *next_plain(struct pt_reader *r, const struct frame_buf *f)
{
    const struct pt_rec_hdr *h = plain_record(r, f->data, f->len, r->frame_pos);
    if (h)
        r->frame_pos += h->size;
    return h;
}

int pt_reader_next(struct pt_reader *r, const struct pt_rec_hdr **rec)
{
    for (;;) {
        if (r->done)
            return 0;
        const struct frame_buf *f = &r->buf[r->cur];
        if (r->frame_pos == f->len) {
            if (advance(r) <= 0)
                return 0;
            continue;
        }
        const struct pt_rec_hdr *h = r->packed ? next_packed(r, f) : next_plain(r, f);
        if (!h)
            return 0;
        if (!pt_rec_min_size(h->kind)) {
            r->stats.unknown_records++;
            continue;
        }
        r->stats.records++;
        *rec = h;
        return 1;
    }
}

void pt_reader_close(struct pt_reader *r)
{
    if (!r)
        return;
    if (r->ahead) { /* the helper must be done with it */
        pthread_mutex_lock(&pool.lock);
        quiesce(r);
        pthread_mutex_unlock(&pool.lock);
    }
    close(r->fd);
    free(r->in);
    free(r->buf[0].data);
    free(r->buf[1].data);
    pt_unpack_kinds_free(&r->kinds);
    free(r->path);
    free(r);
}

/* Makes out hold at least want bytes (doubling, from MIN_BUFFER), keeping its first `keep`.
 * Returns 0, -1 when out of memory. */
static int records_room(struct pt_records *out, size_t want, size_t keep)
{
    if (want <= out->cap)
        return 0;
    size_t cap = out->cap ? out->cap : MIN_BUFFER;
    while (cap < want)
        cap *= 2;
    char *p;
    if (keep) {
        p = realloc(out->data, cap);
    } else { /* nothing to copy over */
        free(out->data);
        out->data = NULL, out->cap = 0;
        p = malloc(cap);
    }
    if (!p)
        return -1;
    out->data = p, out->cap = cap;
    return 0;
}

/* Unpacks the current packed frame f whole into out, checking and counting its records.
 * Returns the bytes of those before any damage, which ends the stream with its message. */
static size_t unpack_frame(struct pt_reader *r, const struct frame_buf *f, struct pt_records *out)
{
    struct pt_unpack_state st;
    pt_unpack_begin(&st, r->header.version_major);
    struct pt_unpack_counts n = {0, 0};
    size_t at = 0;
    const char *why = NULL;
    int rc = -2;
    /* Room for as much as this file's largest frame so far: a caller that keeps several
     * buffers grows each once, not by doubling within each frame. */
    if (!records_room(out, r->largest_frame, 0))
        while ((rc = pt_unpack_checked(&st, f->data, f->len, out->data, out->cap, &at, &why, &n)) == 1) {
            /* A frame's records take at most PT_FRAME_MAX_BYTES (docs/FORMAT.md); a packed
             * frame that unpacks to more is damaged, and must not take memory without bound. */
            if (out->cap >= PT_FRAME_MAX_BYTES) {
                rc = -1, at = st.in_pos, why = "its records unpack to more than 4 MiB";
                break;
            }
            size_t want = out->cap ? 2 * out->cap : MIN_BUFFER;
            if (records_room(out, want < PT_FRAME_MAX_BYTES ? want : PT_FRAME_MAX_BYTES, st.out_len)) {
                rc = -2;
                break;
            }
        }
    r->stats.records += n.known;
    r->stats.unknown_records += n.unknown;
    if (rc == -3) {
        const struct pt_rec_hdr *h = (const void *)(out->data + st.out_len);
        damaged_record(r, h, h->size, st.in_pos);
    } else if (rc == -2) {
        stop(r, 0, f->start, "%s: out of memory for frame %llu's records", r->path,
             (unsigned long long)r->stats.frames);
    } else if (rc == -1) {
        damaged_frame(r, f, why, at);
    }
    r->largest_frame = st.out_len > r->largest_frame ? st.out_len : r->largest_frame;
    return st.out_len;
}

/* Checks the 1.x records in [data, data + len) and counts them. Returns the bytes of those
 * before the first damaged one, which ends the stream. */
static size_t check_frame(struct pt_reader *r, const char *data, size_t len)
{
    size_t pos = 0;
    const struct pt_rec_hdr *h;
    while (pos < len && (h = plain_record(r, data, len, pos))) {
        if (pt_rec_known(h->kind))
            r->stats.records++;
        else
            r->stats.unknown_records++;
        pos += h->size;
    }
    return pos;
}

int pt_reader_next_frame(struct pt_reader *r, struct pt_records *out)
{
    out->len = 0;
    if (r->done || advance(r) <= 0)
        return 0;
    struct frame_buf *f = &r->buf[r->cur];
    r->frame_pos = f->len; /* consumed whole */
    if (r->packed) {
        out->len = unpack_frame(r, f, out);
    } else {
        /* 1.x: the decompressed frame is the records. The caller takes its buffer and gives
         * its own for a later frame (this one is done with, and read-ahead decodes into the
         * other). */
        char *data = out->data;
        size_t cap = out->cap;
        out->data = f->data, out->cap = f->cap;
        f->data = data, f->cap = cap;
        out->len = f->len ? check_frame(r, out->data, f->len) : 0;
    }
    return out->len || !r->done;
}
