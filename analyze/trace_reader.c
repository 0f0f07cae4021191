#include "trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#define READ_CHUNK (1u << 20)
#define MIN_BUFFER (64u << 10) /* buffers start this small and grow: small runs stay small */

struct pt_reader {
    char *path;
    int fd;
    int eof;
    struct pt_file_header header;
    ZSTD_DCtx *dctx;
    char *in;            /* compressed bytes read: in[in_start, in_len) not yet consumed */
    size_t in_start, in_len, in_cap;
    uint64_t in_offset;  /* file offset of in[in_start] */
    char *frame;         /* current decompressed frame, frame_cap bytes (grown to the largest) */
    size_t frame_len, frame_pos, frame_cap;
    size_t file_bytes;   /* at open: bounds the input buffer of small files */
    int stopped;
    char warning[512];
    struct pt_reader_stats stats;
};

size_t pt_rec_min_size(uint16_t kind)
{
    switch (kind) {
#define PT_X(name, val, st, label) \
    case PT_REC_##name:            \
        return sizeof(struct st);
        PT_REC_KINDS(PT_X)
#undef PT_X
    }
    return 0;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int pt_reader_open(const char *path, struct pt_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct pt_file_header h;
    memset(&h, 0, sizeof h);
    ssize_t n = pread(fd, &h, sizeof h, 0);
    if (n < (ssize_t)offsetof(struct pt_file_header, header_bytes) + 4 ||
        memcmp(h.magic, PT_MAGIC, PT_MAGIC_LEN) != 0) {
        fail(err, errlen, "%s: not a partrace trace (no '%s' magic at offset 0)", path, PT_MAGIC);
        close(fd);
        return -1;
    }
    if (h.version_major != PT_VERSION_MAJOR) {
        fail(err, errlen, "%s: trace format %u.%u; this partrace reads %u.x", path,
             h.version_major, h.version_minor, PT_VERSION_MAJOR);
        close(fd);
        return -1;
    }
    if (n < (ssize_t)sizeof h || h.header_bytes < sizeof h || h.header_bytes > (1u << 20)) {
        fail(err, errlen, "%s: header is cut short or damaged (%zd bytes, header_bytes %u)", path,
             n, h.header_bytes);
        close(fd);
        return -1;
    }
    h.host[sizeof h.host - 1] = '\0';
    struct pt_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path)) || !(r->dctx = ZSTD_createDCtx())) {
        fail(err, errlen, "%s: out of memory", path);
        if (r) {
            free(r->path);
            ZSTD_freeDCtx(r->dctx);
            free(r);
        }
        close(fd);
        return -1;
    }
    r->fd = fd;
    struct stat st;
    r->file_bytes = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
    r->header = h;
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
const char *pt_reader_path(const struct pt_reader *r) { return r->path; }
const struct pt_reader_stats *pt_reader_stats(const struct pt_reader *r) { return &r->stats; }
const char *pt_reader_warning(const struct pt_reader *r)
{
    return r->warning[0] ? r->warning : NULL;
}

static void stop(struct pt_reader *r, int truncated, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->warning, sizeof r->warning, fmt, ap);
    va_end(ap);
    r->stopped = 1;
    r->stats.stop_offset = r->in_offset;
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

/* Decodes the next whole frame into r->frame. Returns 1, 0 at a clean end, -1 when stopped. */
static int next_frame(struct pt_reader *r)
{
    const size_t max_compressed = ZSTD_compressBound(PT_FRAME_MAX_BYTES) + 64;
    for (;;) {
        const size_t avail = r->in_len - r->in_start;
        if (avail == 0 && r->eof)
            return 0;
        size_t size = avail ? ZSTD_findFrameCompressedSize(r->in + r->in_start, avail) : 0;
        if (avail && !ZSTD_isError(size))
            break;
        if ((avail && ZSTD_getErrorCode(size) != ZSTD_error_srcSize_wrong) ||
            avail >= max_compressed) {
            stop(r, 0, "%s: damaged frame at offset %llu (%s); %llu records read before it",
                 r->path, (unsigned long long)r->in_offset,
                 ZSTD_getErrorName(size), (unsigned long long)r->stats.records);
            return -1;
        }
        ssize_t got = fill(r);
        if (got < 0) {
            stop(r, 0, "%s: read error at offset %llu: %s", r->path,
                 (unsigned long long)(r->in_offset + (r->in_len - r->in_start)), strerror(errno));
            return -1;
        }
        if (got == 0 && r->in_len > r->in_start) {
            stop(r, 1, "%s: cut short at offset %llu, inside a frame (%zu trailing bytes ignored); "
                       "%llu records read up to the last whole frame",
                 r->path, (unsigned long long)r->in_offset, r->in_len - r->in_start,
                 (unsigned long long)r->stats.records);
            return -1;
        }
    }
    const char *src = r->in + r->in_start;
    size_t csize = ZSTD_findFrameCompressedSize(src, r->in_len - r->in_start);
    unsigned long long content = ZSTD_getFrameContentSize(src, csize);
    size_t n = 0;
    int ok = content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR &&
             content <= PT_FRAME_MAX_BYTES;
    if (ok && content > r->frame_cap) {
        size_t cap = r->frame_cap ? r->frame_cap : MIN_BUFFER;
        while (cap < content)
            cap *= 2;
        char *p = realloc(r->frame, cap);
        if (!p) {
            stop(r, 0, "%s: out of memory for a frame of %llu bytes at offset %llu", r->path,
                 content, (unsigned long long)r->in_offset);
            return -1;
        }
        r->frame = p, r->frame_cap = cap;
    }
    if (!ok || ZSTD_isError(n = ZSTD_decompressDCtx(r->dctx, r->frame, r->frame_cap, src, csize)) ||
        n != content) {
        stop(r, 0, "%s: damaged frame at offset %llu (%s); %llu records read before it", r->path,
             (unsigned long long)r->in_offset,
             ZSTD_isError(n) ? ZSTD_getErrorName(n) : "bad content size",
             (unsigned long long)r->stats.records);
        return -1;
    }
    r->in_start += csize;
    r->in_offset += csize;
    r->stats.bytes_on_disk = r->in_offset;
    r->stats.frames++;
    r->frame_len = n;
    r->frame_pos = 0;
    return 1;
}

/* Checks a record's declared sizes against its kind. */
static int record_ok(const struct pt_rec_hdr *h, size_t avail)
{
    if (h->size < sizeof *h || h->size % PT_REC_ALIGN || h->size > avail)
        return 0;
    size_t min = pt_rec_min_size(h->kind);
    if (min && h->size < min)
        return 0;
    if (h->kind == PT_REC_ATTR)
        return ((const struct pt_rec_attr *)h)->value_bytes <= h->size - sizeof(struct pt_rec_attr);
    if (h->kind == PT_REC_STRING)
        return ((const struct pt_rec_string *)h)->text_bytes <= h->size - sizeof(struct pt_rec_string);
    if (h->kind == PT_REC_STACK)
        return ((const struct pt_rec_stack *)h)->frames <= (h->size - sizeof(struct pt_rec_stack)) / 8;
    if (h->kind == PT_REC_NVTX)
        return ((const struct pt_rec_nvtx *)h)->text_bytes <= h->size - sizeof(struct pt_rec_nvtx);
    return 1;
}

int pt_reader_next(struct pt_reader *r, const struct pt_rec_hdr **rec)
{
    for (;;) {
        if (r->stopped)
            return 0;
        if (r->frame_pos == r->frame_len) {
            if (next_frame(r) <= 0)
                return 0;
            continue;
        }
        const struct pt_rec_hdr *h = (const void *)(r->frame + r->frame_pos);
        size_t avail = r->frame_len - r->frame_pos;
        if (avail < sizeof *h || !record_ok(h, avail)) {
            stop(r, 0, "%s: damaged record (kind %u, size %u) in frame %llu at byte %zu; "
                       "%llu records read before it",
                 r->path, avail >= sizeof *h ? h->kind : 0, avail >= sizeof *h ? h->size : 0,
                 (unsigned long long)r->stats.frames, r->frame_pos,
                 (unsigned long long)r->stats.records);
            return 0;
        }
        r->frame_pos += h->size;
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
    close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->frame);
    free(r->path);
    free(r);
}
