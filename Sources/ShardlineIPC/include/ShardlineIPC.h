#ifndef SHARDLINE_IPC_H
#define SHARDLINE_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Shared-memory plumbing for worker processes on one machine: a segment, single-producer /
/// single-consumer byte rings inside it, and futex waits that work across processes.
/// Memory ordering lives here (C11 atomics on mapped memory) so the Swift side stays plain.

/// A ring's header; `capacity` bytes of data follow it. Head and tail are on their own cache lines.
typedef struct sl_ring {
    uint64_t capacity;
    uint64_t reserved[7];
    uint64_t head;      /* bytes ever written (producer) */
    uint64_t pad1[7];
    uint64_t tail;      /* bytes ever read (consumer) */
    uint64_t pad2[7];
    uint32_t seq;       /* bumped on every publish, futex word for a waiting consumer */
    uint32_t waiters;   /* consumers asleep on seq */
    uint32_t space_seq; /* bumped on every consume, futex word for a waiting producer */
    uint32_t space_waiters;
    uint64_t pad3[6];
} sl_ring;

/// Creates (exclusively) and maps a segment of `size` bytes, zero-filled. Returns 0 or errno.
int sl_shm_create(const char *name, size_t size, void **out);
/// Maps an existing segment; its size is returned in `size`. Returns 0 or errno.
int sl_shm_open(const char *name, void **out, size_t *size);
int sl_shm_unlink(const char *name);
void sl_shm_unmap(void *base, size_t size);

void sl_ring_init(sl_ring *ring, uint64_t capacity);
/// Copies up to n bytes in without blocking; returns the count written.
size_t sl_ring_write_some(sl_ring *ring, const void *src, size_t n);
/// Copies up to n bytes out without blocking; returns the count read.
size_t sl_ring_read_some(sl_ring *ring, void *dst, size_t n);
uint32_t sl_ring_seq(sl_ring *ring);
uint32_t sl_ring_space_seq(sl_ring *ring);
/// Sleeps until the ring's seq (or space_seq) differs from `seen` or `timeout_ns` passes.
void sl_ring_wait_data(sl_ring *ring, uint32_t seen, int64_t timeout_ns);
void sl_ring_wait_space(sl_ring *ring, uint32_t seen, int64_t timeout_ns);

/// Asks the kernel to send `sig` to this process when its parent dies (Linux); 0 or errno.
int sl_set_parent_death_signal(int sig);
/// 1 when `pid` exists (and is not a zombie child we could reap), 0 otherwise.
int sl_process_alive(pid_t pid);
void sl_cpu_pause(void);

#endif
