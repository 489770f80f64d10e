#ifndef SHARDLINE_MPI_SHIM_H
#define SHARDLINE_MPI_SHIM_H
// Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE, MPI_STATUS_IGNORE...) are macros over globals,
// which Swift cannot import; these inline functions hand them over.
#include <mpi.h>

static inline MPI_Comm sl_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype sl_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype sl_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Op sl_mpi_sum(void) { return MPI_SUM; }
static inline void *sl_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *sl_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Request sl_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline int sl_mpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline int sl_mpi_success(void) { return MPI_SUCCESS; }

/// Source-specific probe without blocking; returns 1 and the byte count when a message waits.
static inline int sl_mpi_iprobe_bytes(int source, int tag, MPI_Comm comm, int *count) {
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(source, tag, comm, &flag, &status) != MPI_SUCCESS || !flag) return 0;
    MPI_Get_count(&status, MPI_BYTE, count);
    return 1;
}
#endif
