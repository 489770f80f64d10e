// The process's malloc policy for tensor buffers (Compute's TensorStorage sets it once).
#include "ShardlineKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int sl_malloc_reuse_below(size_t bytes) {
#if defined(__GLIBC__)
    // Served from the heap below `bytes` (glibc's own threshold moves up to 32 MB only, and a
    // 32-sequence step's logits are 32 MB), and the heap's top is not handed back to the
    // kernel until twice that is free.
    return mallopt(M_MMAP_THRESHOLD, (int)bytes) && mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes));
#else
    (void)bytes;
    return 0;
#endif
}
