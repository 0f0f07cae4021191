/* Applications that do what real ones do and a careless recorder would break (the tests run each
 * plain and traced and compare):
 *   closeall FILE   NCCL calls; then, as a daemon does, closes every descriptor above 2 and
 *                   opens FILE, writes to it between more NCCL calls, and prints its size
 *   dup2 FILE       opens FILE, then dup2()s it over every descriptor from 3 to 4095 (as a
 *                   program that sets up fixed descriptor numbers could), with NCCL calls and
 *                   flushes in between; FILE must hold only what the program wrote
 *   signals         SIGINT handler with SA_NODEFER that longjmp()s out (a REPL's Ctrl-C), installed
 *                   before and after the recorder starts; prints what sigaction() reports and
 *                   how many of three SIGINTs reached the handler
 *   forksig MS      a timer signal handler that forks every millisecond (the child _exits)
 *                   while the main loop creates and destroys communicators for MS milliseconds
 *   churn N         N threads one after another, each making 20 NCCL calls and exiting
 *   reuse           a thread destroys its communicator; while the destroy lingers (the test
 *                   NCCL's FAKE_NCCL_FREED_SLEEP_US), another thread's new communicator takes
 *                   the freed address and makes 5 calls after the destroy has returned */
#include <fcntl.h>
#include <nccl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static float buf[64];

static ncclComm_t new_comm(void)
{
    ncclUniqueId id;
    ncclComm_t comm;
    if (ncclGetUniqueId(&id) || ncclCommInitRank(&comm, 1, id, 0)) {
        fprintf(stderr, "hostile_app: no communicator\n");
        exit(2);
    }
    return comm;
}

static void calls(ncclComm_t comm, int n)
{
    for (int i = 0; i < n; i++)
        ncclAllReduce(buf, buf, 64, ncclFloat32, ncclSum, comm, NULL);
}

static void write_line(int fd, int i)
{
    char line[64];
    int n = snprintf(line, sizeof line, "application line %d\n", i);
    if (write(fd, line, (size_t)n) != n)
        exit(3);
}

/* Long enough for the recorder's writer to flush (PARTRACE_FLUSH_MS=10 in the tests). */
static void let_writer_flush(void) { usleep(60 * 1000); }

static int closeall(const char *file)
{
    ncclComm_t comm = new_comm();
    calls(comm, 10);
    let_writer_flush();
    for (int fd = 3; fd < 65536; fd++)
        close(fd);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 4;
    for (int i = 0; i < 5; i++) {
        write_line(fd, i);
        calls(comm, 10);
        let_writer_flush();
    }
    close(fd);
    ncclCommDestroy(comm);
    return 0;
}

static int dup_everywhere(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0)
        return 4;
    ncclComm_t comm = new_comm();
    calls(comm, 10);
    let_writer_flush();
    for (int target = 3; target < 4096; target++)
        if (target != fd)
            dup2(fd, target);
    for (int i = 0; i < 5; i++) {
        write_line(fd, i);
        calls(comm, 10);
        let_writer_flush();
    }
    ncclCommDestroy(comm);
    return 0;
}

static jmp_buf back;
static volatile sig_atomic_t caught;

static void on_int(int sig)
{
    (void)sig;
    caught++;
    longjmp(back, 1); /* not siglongjmp: the mask stays as the handler left it */
}

/* Installs the handler, then raises SIGINT three times, jumping back out of the handler each
 * time; prints what sigaction reports and how many arrived. */
static void ctrl_c(const char *when)
{
    struct sigaction act, seen;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_int;
    act.sa_flags = SA_NODEFER | SA_RESTART;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, SIGUSR2);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGINT, NULL, &seen);
    caught = 0;
    for (volatile int i = 0; i < 3; i++)
        if (!setjmp(back))
            raise(SIGINT);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("%s: flags 0x%x handler_is_ours %d mask_has_usr2 %d caught %d int_blocked %d\n", when,
           (unsigned)seen.sa_flags, seen.sa_handler == on_int, sigismember(&seen.sa_mask, SIGUSR2),
           (int)caught, sigismember(&now, SIGINT));
    sigprocmask(SIG_UNBLOCK, &now, NULL);
}

static int signals(void)
{
    ctrl_c("before");
    ncclComm_t comm = new_comm(); /* the recorder starts here */
    calls(comm, 3);
    ctrl_c("after");
    struct sigaction reset;
    memset(&reset, 0, sizeof reset);
    reset.sa_handler = on_int;
    reset.sa_flags = SA_RESETHAND;
    sigaction(SIGTERM, &reset, NULL);
    struct sigaction seen;
    sigaction(SIGTERM, NULL, &seen);
    printf("resethand: flags 0x%x\n", (unsigned)seen.sa_flags);
    ncclCommDestroy(comm);
    return 0;
}

static volatile sig_atomic_t forks;

static void on_alarm(int sig)
{
    (void)sig;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        forks++;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int forksig(int ms)
{
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_alarm;
    act.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &act, NULL);
    struct itimerval every = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every, NULL);
    long made = 0;
    for (double end = now_ms() + ms; now_ms() < end; made++) {
        ncclComm_t comm = new_comm();
        calls(comm, 1);
        ncclCommDestroy(comm);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("communicators %ld forks %d\n", made, (int)forks);
    return 0;
}

static void *churn_thread(void *arg)
{
    calls(arg, 20);
    return NULL;
}

static int churn(int n)
{
    ncclComm_t comm = new_comm();
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, churn_thread, comm) != 0)
            return 5;
        pthread_join(t, NULL);
    }
    ncclCommDestroy(comm);
    return 0;
}

static ncclComm_t doomed;

static void *destroy_thread(void *arg)
{
    (void)arg;
    ncclCommDestroy(doomed);
    return NULL;
}

static int reuse(void)
{
    doomed = new_comm();
    calls(doomed, 3);
    pthread_t t;
    if (pthread_create(&t, NULL, destroy_thread, NULL) != 0)
        return 5;
    usleep(50 * 1000); /* inside the destroy, after the free */
    ncclComm_t fresh = new_comm();
    printf("same address %d\n", fresh == doomed);
    pthread_join(t, NULL);
    calls(fresh, 5);
    ncclCommDestroy(fresh);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "closeall"))
        return closeall(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "dup2"))
        return dup_everywhere(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "signals"))
        return signals();
    if (argc >= 3 && !strcmp(argv[1], "forksig"))
        return forksig(atoi(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "churn"))
        return churn(atoi(argv[2]));
    if (argc >= 2 && !strcmp(argv[1], "reuse"))
        return reuse();
    fprintf(stderr, "usage: hostile_app closeall|dup2 FILE | signals | forksig MS | churn N | reuse\n");
    return 2;
}
