// How far apart two CPUs are, as the time for a cache line to go from one to the other and
// back. On a VM this tells whether its vCPUs share a last-level cache at the moment: the
// hypervisor moves them, and on an AMD EPYC host a round trip took ~60 ns within one CCD's
// L3 and ~320 ns across two CCDs, where memory bandwidth for two threads also differed
// (31-35 against 47-61 GB/s). bench-model prints it beside each run's roofline share.
#define _GNU_SOURCE
#include "ShardlineKernels.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct {
    _Alignas(64) atomic_long turn;
    int cpu, trips, pinned;
} bounce_t;

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

static void *answer(void *arg) {
    bounce_t *b = arg;
    b->pinned = pin(b->cpu);
    for (long i = 0; i < b->trips; i++) {
        while (atomic_load_explicit(&b->turn, memory_order_acquire) != 2 * i + 1) sl_cpu_relax();
        atomic_store_explicit(&b->turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

double sl_core_round_trip_ns(int cpu_a, int cpu_b, int trips) {
    if (trips <= 0) return -1;
    bounce_t b = {.cpu = cpu_b, .trips = trips, .pinned = 0};
    atomic_init(&b.turn, 0);
    cpu_set_t before;
    if (pthread_getaffinity_np(pthread_self(), sizeof before, &before) != 0) return -1;
    pthread_t other;
    if (pthread_create(&other, NULL, answer, &b) != 0) return -1;
    const int pinned = pin(cpu_a);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < trips; i++) {
        atomic_store_explicit(&b.turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&b.turn, memory_order_acquire) != 2 * i + 2) sl_cpu_relax();
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(other, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof before, &before);
    if (!pinned || !b.pinned) return -1;
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / trips;
}
#else
// Thread pinning is Linux's (pthread_setaffinity_np): elsewhere the distance is unknown.
double sl_core_round_trip_ns(int cpu_a, int cpu_b, int trips) {
    (void)cpu_a, (void)cpu_b, (void)trips;
    return -1;
}
#endif
