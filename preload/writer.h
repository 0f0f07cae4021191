/* The writer thread: drains every thread's ring, compresses what it found into one independent
 * zstd frame and appends it to this process's trace file, at least every PARTRACE_FLUSH_MS.
 * It never blocks an application thread; when the file cannot be written, records are counted
 * as dropped. */
#ifndef PT_WRITER_H
#define PT_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* Starts the writer thread. attrs (ATTR records; must stay valid until the first frame is
 * written) go first in the file. Returns 0, or -1 when no thread could be started. */
int pt_writer_start(const char *attrs, size_t attrs_bytes);

/* Asks for a flush and returns its ticket; async-signal-safe. final != 0: the flush also writes
 * the end record (how = PT_END_*), closes the file and ends the thread. */
uint64_t pt_writer_request(uint32_t reason, int final, uint32_t end_how);

/* Waits until the flush with this ticket is done, at most timeout_ms; async-signal-safe.
 * Returns 0 when done, -1 on time-out or when no writer runs. */
int pt_writer_wait(uint64_t ticket, long timeout_ms);

/* Before fork: lets a writer thread that is being created get past the thread library's (and
 * a sanitizer's) start-up, which holds allocator locks a fork child could never get back. */
void pt_writer_settle_before_fork(void);

/* In a fork child: forgets the parent's writer (closes its file descriptor, drops its state). */
void pt_writer_forget_after_fork(void);

#endif
