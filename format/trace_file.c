#include "format/trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define FRAME_MAX (1u << 20)

int pt_trace_file_create(struct pt_trace_file *t, const char *path, const struct pt_file_header *h,
                         int plain, size_t frame_bytes, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->plain = plain;
    t->cap = frame_bytes && frame_bytes < FRAME_MAX ? frame_bytes : FRAME_MAX;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    t->f = fdopen(fd, "wb");
    t->frame = malloc(t->cap);
    t->packed = malloc(t->cap + PT_PACK_SLACK);
    t->out = malloc(ZSTD_compressBound(t->cap + PT_PACK_SLACK));
    if (!t->f || !t->frame || !t->packed || !t->out || fwrite(h, sizeof *h, 1, t->f) != 1) {
        snprintf(err, errlen, "%s: cannot write the header", path);
        if (!t->f)
            close(fd);
        pt_trace_file_close(t);
        return -1;
    }
    return 0;
}

static int write_frame(struct pt_trace_file *t)
{
    if (!t->len || t->failed)
        return t->failed ? -1 : 0;
    const char *content = t->frame;
    size_t len = t->len;
    if (!t->plain) {
        len = pt_pack_records(t->frame, t->len, t->packed);
        content = t->packed;
    }
    size_t z = len ? ZSTD_compress(t->out, ZSTD_compressBound(t->cap + PT_PACK_SLACK), content, len, 3) : 0;
    t->len = 0;
    if (!len || ZSTD_isError(z) || fwrite(t->out, 1, z, t->f) != z)
        t->failed = 1;
    return t->failed ? -1 : 0;
}

int pt_trace_file_put(struct pt_trace_file *t, const void *rec, size_t bytes)
{
    if (bytes > t->cap || t->failed)
        return -1;
    if (t->len + bytes > t->cap && write_frame(t) != 0)
        return -1;
    memcpy(t->frame + t->len, rec, bytes);
    t->len += bytes;
    return 0;
}

int pt_trace_file_flush(struct pt_trace_file *t)
{
    if (write_frame(t) != 0 || fflush(t->f) != 0)
        t->failed = 1;
    return t->failed ? -1 : 0;
}

int pt_trace_file_close(struct pt_trace_file *t)
{
    int rc = t->f ? write_frame(t) : -1;
    if (t->f && fclose(t->f) != 0)
        rc = -1;
    free(t->frame);
    free(t->packed);
    free(t->out);
    memset(t, 0, sizeof *t);
    return rc;
}
