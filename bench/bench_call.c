/* Host cost of one NCCL call, as seen by the application: times batches of ncclAllReduce calls
 * on the test NCCL and prints the median cost per call. bench/run.sh runs it with and without
 * libpartrace.so preloaded, in one go, and reads the traces for bytes per event.
 *   bench_call [--threads T] [--calls N] [--batch B] */
#include <nccl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long calls = 2000000, batch = 1000;
static int threads = 1;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double median_ns;
};

static void *worker(void *arg)
{
    struct result *res = arg;
    ncclUniqueId id;
    ncclComm_t comm;
    static float buf[1024];
    if (ncclGetUniqueId(&id) != ncclSuccess || ncclCommInitRank(&comm, 1, id, 0) != ncclSuccess)
        exit(1);
    long batches = calls / batch;
    double *per_call = malloc(sizeof *per_call * (size_t)batches);
    for (long b = 0; b < batches; b++) {
        double t0 = now_ns();
        for (long i = 0; i < batch; i++)
            ncclAllReduce(buf, buf, 1024, ncclFloat32, ncclSum, comm, NULL);
        per_call[b] = (now_ns() - t0) / (double)batch;
    }
    qsort(per_call, (size_t)batches, sizeof *per_call, cmp);
    res->median_ns = per_call[batches / 2];
    free(per_call);
    ncclCommDestroy(comm);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--calls"))
            calls = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atol(argv[i + 1]);
    }
    if (threads < 1 || threads > 256 || calls < batch || batch < 1) {
        fprintf(stderr, "usage: bench_call [--threads 1..256] [--calls N] [--batch B<=N]\n");
        return 2;
    }
    pthread_t t[256];
    struct result r[256];
    double t0 = now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, &r[i]);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double wall = (now_ns() - t0) / 1e9;
    double sum = 0;
    for (int i = 0; i < threads; i++)
        sum += r[i].median_ns;
    printf("{\"threads\":%d,\"calls_per_thread\":%ld,\"median_ns_per_call\":%.2f,"
           "\"wall_s\":%.4f,\"calls_per_s\":%.0f}\n",
           threads, calls, sum / threads, wall, (double)calls * threads / wall);
    return 0;
}
