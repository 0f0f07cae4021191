/* A program that drives NCCL the way an inference engine does, for the tests and the demo.
 * Each iteration of the "mix" on a communicator of n ranks, as rank r, issues, in order:
 *   AllReduce(1024 float32 sum) Broadcast(256 bfloat16 root 0) Bcast(128 int8 root 1%n)
 *   Reduce(64 float16 max root 0) AllGather(32 float32) ReduceScatter(16 float32 sum)
 *   AlltoAll(8 int32) Gather(4 float64 root 0) Scatter(2 int64 root 0)
 *   GroupStart Send(10 uint8 to r+1) Recv(10 uint8 from r-1) GroupEnd
 * and AllReduce(512 bfloat16 sum) on a child split off with color r%2, key r.
 * Lifecycle options (fork, exec, signals, endless loop) exercise the recorder's process handling. */
#include <nccl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
    int rank, nranks, iters, threads, forever, fork_mode, exec_self, extras, term_handler;
    long sleep_us, straggle_us; /* straggle: a delay before each AllReduce of the mix */
    int have_id;
    ncclUniqueId id;
    const char *progress;
} opt = {.nranks = 1, .iters = 10, .threads = 1};

#define CHECK(call)                                                                   \
    do {                                                                              \
        ncclResult_t r_ = (call);                                                     \
        if (r_ != ncclSuccess && r_ != ncclInProgress) {                              \
            fprintf(stderr, "nccl_driver: %s failed: %d\n", #call, (int)r_);          \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static char buf[1 << 16];

static void mix(ncclComm_t comm, ncclComm_t child, int rank, int n)
{
    cudaStream_t s = (cudaStream_t)0x5;
    if (opt.straggle_us) {
        struct timespec ts = {opt.straggle_us / 1000000, (opt.straggle_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(ncclAllReduce(buf, buf, 1024, ncclFloat32, ncclSum, comm, s));
    CHECK(ncclBroadcast(buf, buf, 256, ncclBfloat16, 0, comm, s));
    CHECK(ncclBcast(buf, 128, ncclInt8, 1 % n, comm, s));
    CHECK(ncclReduce(buf, buf, 64, ncclFloat16, ncclMax, 0, comm, s));
    CHECK(ncclAllGather(buf, buf, 32, ncclFloat32, comm, s));
    CHECK(ncclReduceScatter(buf, buf, 16, ncclFloat32, ncclSum, comm, s));
    CHECK(ncclAlltoAll(buf, buf, 8, ncclInt32, comm, s));
    CHECK(ncclGather(buf, buf, 4, ncclFloat64, 0, comm, s));
    CHECK(ncclScatter(buf, buf, 2, ncclInt64, 0, comm, s));
    CHECK(ncclGroupStart());
    CHECK(ncclSend(buf, 10, ncclUint8, (rank + 1) % n, comm, s));
    CHECK(ncclRecv(buf, 10, ncclUint8, (rank + n - 1) % n, comm, s));
    CHECK(ncclGroupEnd());
    if (child)
        CHECK(ncclAllReduce(buf, buf, 512, ncclBfloat16, ncclSum, child, s));
}

/* Calls every other entry point once (single rank semantics are enough for the fake). */
static void extras(ncclComm_t comm)
{
    int v;
    CHECK(ncclCommCount(comm, &v));
    CHECK(ncclCommCuDevice(comm, &v));
    CHECK(ncclCommUserRank(comm, &v));
    void *handle;
    CHECK(ncclCommRegister(comm, buf, 4096, &handle));
    CHECK(ncclCommDeregister(comm, handle));
    ncclWindow_t win;
    CHECK(ncclCommWindowRegister(comm, buf, 8192, &win, NCCL_WIN_COLL_SYMMETRIC));
    CHECK(ncclCommWindowDeregister(comm, win));
    void *mem;
    CHECK(ncclMemAlloc(&mem, 1 << 20));
    CHECK(ncclMemFree(mem));
    ncclSimInfo_t sim = NCCL_SIM_INFO_INITIALIZER;
    CHECK(ncclGroupStart());
    CHECK(ncclAllReduce(buf, buf, 4, ncclFloat32, ncclSum, comm, NULL));
    CHECK(ncclGroupSimulateEnd(&sim));
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclComm_t nb, all[2], scal, shrunk;
    ncclUniqueId nb_id = opt.id;
    nb_id.internal[2] ^= 1;
    CHECK(ncclCommInitRankConfig(&nb, opt.nranks, nb_id, opt.rank, &cfg));
    CHECK(ncclAllReduce(buf, buf, 8, ncclFloat32, ncclSum, nb, NULL));
    CHECK(ncclCommFinalize(nb));
    CHECK(ncclCommDestroy(nb));
    int devs[2] = {3, 5};
    CHECK(ncclCommInitAll(all, 2, devs));
    CHECK(ncclCommDestroy(all[0]));
    CHECK(ncclCommDestroy(all[1]));
    ncclUniqueId ids[2] = {opt.id, opt.id};
    ids[1].internal[0] ^= 0x55;
    CHECK(ncclCommInitRankScalable(&scal, opt.nranks, opt.rank, 2, ids, NULL));
    if (opt.nranks > 1) {
        int exclude = opt.nranks - 1;
        if (opt.rank != exclude) {
            CHECK(ncclCommShrink(scal, &exclude, 1, &shrunk, NULL, NCCL_SHRINK_DEFAULT));
            CHECK(ncclAllReduce(buf, buf, 2, ncclFloat32, ncclSum, shrunk, NULL));
            CHECK(ncclCommDestroy(shrunk));
        }
    }
    CHECK(ncclCommRevoke(scal, NCCL_REVOKE_DEFAULT));
    CHECK(ncclCommAbort(scal));
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void run(int thread)
{
    ncclUniqueId id = opt.id;
    id.internal[1] ^= (char)thread;
    ncclComm_t comm, child;
    CHECK(ncclCommInitRank(&comm, opt.nranks, id, opt.rank));
    CHECK(ncclCommSplit(comm, opt.rank % 2, opt.rank, &child, NULL));
    FILE *progress = opt.progress ? fopen(opt.progress, "w") : NULL;
    for (long i = 0; opt.forever || i < opt.iters; i++) {
        mix(comm, child, opt.rank, opt.nranks);
        if (progress) {
            fprintf(progress, "%ld\n", i + 1);
            fflush(progress);
        }
        if (opt.sleep_us)
            sleep_us(opt.sleep_us);
    }
    if (progress)
        fclose(progress);
    if (thread == 0 && opt.extras)
        extras(comm);
    CHECK(ncclCommDestroy(child));
    CHECK(ncclCommDestroy(comm));
}

static void *thread_main(void *arg)
{
    run((int)(long)arg);
    return NULL;
}

static void on_term(int sig)
{
    (void)sig;
    static const char msg[] = "handler ran\n";
    ssize_t w = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

static int parse_id(const char *hex)
{
    if (strlen(hex) != 2 * sizeof opt.id.internal)
        return -1;
    for (size_t i = 0; i < sizeof opt.id.internal; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        opt.id.internal[i] = (char)v;
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--rank") && v)
            opt.rank = atoi(argv[++i]);
        else if (!strcmp(a, "--nranks") && v)
            opt.nranks = atoi(argv[++i]);
        else if (!strcmp(a, "--iters") && v)
            opt.iters = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && v)
            opt.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--sleep-us") && v)
            opt.sleep_us = atol(argv[++i]);
        else if (!strcmp(a, "--straggle-us") && v)
            opt.straggle_us = atol(argv[++i]);
        else if (!strcmp(a, "--progress") && v)
            opt.progress = argv[++i];
        else if (!strcmp(a, "--id") && v) {
            if (parse_id(argv[++i]) != 0) {
                fprintf(stderr, "nccl_driver: --id takes 256 hex digits\n");
                return 2;
            }
            opt.have_id = 1;
        } else if (!strcmp(a, "--forever"))
            opt.forever = 1;
        else if (!strcmp(a, "--fork"))
            opt.fork_mode = 1;
        else if (!strcmp(a, "--fork-underscore-exit"))
            opt.fork_mode = 2;
        else if (!strcmp(a, "--exec-self"))
            opt.exec_self = 1;
        else if (!strcmp(a, "--extras"))
            opt.extras = 1;
        else if (!strcmp(a, "--term-handler"))
            opt.term_handler = 1;
        else {
            fprintf(stderr, "nccl_driver: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (opt.term_handler)
        signal(SIGTERM, on_term);
    if (!opt.have_id)
        CHECK(ncclGetUniqueId(&opt.id));
    if (opt.threads > 1) {
        pthread_t t[256];
        for (long k = 0; k < opt.threads && k < 256; k++)
            pthread_create(&t[k], NULL, thread_main, (void *)k);
        for (long k = 0; k < opt.threads && k < 256; k++)
            pthread_join(t[k], NULL);
    } else {
        run(0);
    }
    if (opt.fork_mode) {
        pid_t pid = fork();
        if (pid == 0) {
            run(7);
            if (opt.fork_mode == 2)
                _exit(0);
            exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
        run(8); /* the parent goes on after the child */
    }
    if (opt.exec_self) {
        char *args[] = {argv[0], "--iters", "2", NULL};
        fflush(stdout);
        execv("/proc/self/exe", args);
        perror("execv");
        return 1;
    }
    return 0;
}
