#include "fuzz_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <partrace/format.h>

static int open_memfd(struct pt_fuzz_file *f)
{
    f->fd = memfd_create("pt-fuzz.ptrace", MFD_CLOEXEC);
    if (f->fd < 0)
        return -1;
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
    return 0;
}

static int put(int fd, const void *p, size_t n)
{
    return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

int pt_fuzz_write_raw(int fd, const uint8_t *data, size_t size) { return put(fd, data, size); }

int pt_fuzz_write_records(int fd, const uint8_t *data, size_t size, unsigned major)
{
    struct pt_file_header h;
    pt_file_header_init(&h);
    h.version_major = (uint16_t)major;
    h.pid = 100;
    snprintf(h.host, sizeof h.host, "fuzz");
    size_t cap = ZSTD_compressBound(size);
    void *z = malloc(cap);
    if (!z)
        return -1;
    size_t n = ZSTD_compress(z, cap, data, size, 1);
    int bad = ZSTD_isError(n) || put(fd, &h, sizeof h) || put(fd, z, n);
    free(z);
    return bad ? -1 : 0;
}

int pt_fuzz_file_raw(struct pt_fuzz_file *f, const uint8_t *data, size_t size)
{
    return open_memfd(f) || pt_fuzz_write_raw(f->fd, data, size);
}

int pt_fuzz_file_records(struct pt_fuzz_file *f, const uint8_t *data, size_t size, unsigned major)
{
    return open_memfd(f) || pt_fuzz_write_records(f->fd, data, size, major);
}

void pt_fuzz_file_close(struct pt_fuzz_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
