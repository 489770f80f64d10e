#define _GNU_SOURCE
#include "ShardlineIPC.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int sl_shm_create(const char *name, size_t size, void **out) {
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) return errno;
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        shm_unlink(name);
        return e;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        shm_unlink(name);
        return e;
    }
    *out = p;
    return 0;
}

int sl_shm_open(const char *name, void **out, size_t *size) {
    int fd = shm_open(name, O_RDWR, 0600);
    if (fd < 0) return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return e;
    *out = p;
    *size = (size_t)st.st_size;
    return 0;
}

int sl_shm_unlink(const char *name) { return shm_unlink(name) == 0 ? 0 : errno; }
void sl_shm_unmap(void *base, size_t size) { munmap(base, size); }

static inline uint8_t *ring_data(sl_ring *r) { return (uint8_t *)(r + 1); }

void sl_ring_init(sl_ring *r, uint64_t capacity) {
    memset(r, 0, sizeof(*r));
    r->capacity = capacity;
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void wake_if_waiting(uint32_t *seq, uint32_t *waiters) {
    __atomic_add_fetch(seq, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(waiters, __ATOMIC_SEQ_CST) > 0) futex(seq, FUTEX_WAKE, 1, NULL);
}

size_t sl_ring_write_some(sl_ring *r, const void *src, size_t n) {
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t free_bytes = r->capacity - (head - tail);
    size_t count = n < free_bytes ? n : (size_t)free_bytes;
    if (count == 0) return 0;
    uint64_t at = head % r->capacity;
    size_t first = (size_t)(r->capacity - at) < count ? (size_t)(r->capacity - at) : count;
    memcpy(ring_data(r) + at, src, first);
    memcpy(ring_data(r), (const uint8_t *)src + first, count - first);
    __atomic_store_n(&r->head, head + count, __ATOMIC_RELEASE);
    wake_if_waiting(&r->seq, &r->waiters);
    return count;
}

size_t sl_ring_read_some(sl_ring *r, void *dst, size_t n) {
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t avail = head - tail;
    size_t count = n < avail ? n : (size_t)avail;
    if (count == 0) return 0;
    uint64_t at = tail % r->capacity;
    size_t first = (size_t)(r->capacity - at) < count ? (size_t)(r->capacity - at) : count;
    memcpy(dst, ring_data(r) + at, first);
    memcpy((uint8_t *)dst + first, ring_data(r), count - first);
    __atomic_store_n(&r->tail, tail + count, __ATOMIC_RELEASE);
    wake_if_waiting(&r->space_seq, &r->space_waiters);
    return count;
}

uint32_t sl_ring_seq(sl_ring *r) { return __atomic_load_n(&r->seq, __ATOMIC_SEQ_CST); }
uint32_t sl_ring_space_seq(sl_ring *r) { return __atomic_load_n(&r->space_seq, __ATOMIC_SEQ_CST); }

/* The caller read `seen` before it found the ring empty (or full); a publish after that read
   changed the word, so the futex returns at once instead of missing the wake-up. */
static void wait_on(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t timeout_ns) {
    struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    futex(word, FUTEX_WAIT, seen, &ts);
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
}

void sl_ring_wait_data(sl_ring *r, uint32_t seen, int64_t timeout_ns) { wait_on(&r->seq, &r->waiters, seen, timeout_ns); }
void sl_ring_wait_space(sl_ring *r, uint32_t seen, int64_t timeout_ns) {
    wait_on(&r->space_seq, &r->space_waiters, seen, timeout_ns);
}

int sl_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig) == 0 ? 0 : errno; }

int sl_process_alive(pid_t pid) {
    int status;
    /* Reap it if it is our dead child, so a zombie does not look alive. */
    if (waitpid(pid, &status, WNOHANG) == pid) return 0;
    if (kill(pid, 0) == 0) return 1;
    return errno == EPERM;
}

void sl_cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
