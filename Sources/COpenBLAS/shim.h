// Debian's libopenblas-dev puts cblas.h under the multiarch include path.
#include <cblas.h>
// Not in cblas.h on every packaging; declared by OpenBLAS itself.
void openblas_set_num_threads(int num_threads);
