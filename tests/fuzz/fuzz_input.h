/* Shared by the fuzz targets: fuzz bytes as a trace file the reader can open by path (an
 * anonymous memory file, /proc/self/fd/N), either as they are or wrapped as the records (plain
 * or packed) of one valid frame behind a valid header, so that the records themselves and
 * their unpacking get fuzzed. */
#ifndef PT_FUZZ_INPUT_H
#define PT_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct pt_fuzz_file {
    int fd;
    char path[64];
};

/* Writes bytes as they are. Returns 0, or -1. */
int pt_fuzz_file_raw(struct pt_fuzz_file *f, const uint8_t *data, size_t size);
/* Writes a valid header of format `major`, then data as the content of one zstd frame: records
 * as they are (1.x) or packed (2.x, 3.x). Returns 0, or -1. */
int pt_fuzz_file_records(struct pt_fuzz_file *f, const uint8_t *data, size_t size, unsigned major);
void pt_fuzz_file_close(struct pt_fuzz_file *f);
/* The same two forms into an open descriptor (a file of a run directory). */
int pt_fuzz_write_raw(int fd, const uint8_t *data, size_t size);
int pt_fuzz_write_records(int fd, const uint8_t *data, size_t size, unsigned major);

#endif
