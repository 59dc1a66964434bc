/*
 * test_fork.c - the fork executor: arena input used in place (the every-filter matrix is in
 * test_backends.c), crash detection
 * (SIGKILL, SIGSEGV, abort in a kernel, a dead parent), recovery on the next call, no leaks of
 * fds, mappings, child processes or /dev/shm entries over many pool lifetimes, and the shared
 * arena's memory bound.
 *
 * Kernels defined here run in the workers too: the workers are forks of this test binary, so
 * the function pointers are valid there.
 */
#define _GNU_SOURCE
#include "fork_internal.h"
#include "helpers.h"
#include "specs.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- process helpers ------------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Open fds of this process (the directory's own fd excluded). */
static int count_fds(void) { return count_dir("/proc/self/fd") - 1; }

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF)
        if (ch == '\n') n++;
    fclose(f);
    return n;
}

/* State letter and parent of a process from /proc/<pid>/stat; 0 when it does not exist. */
static char proc_state(pid_t pid, pid_t *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    char state = 0;
    int pp = 0;
    if (sscanf(p + 1, " %c %d", &state, &pp) != 2) return 0;
    if (ppid) *ppid = pp;
    return state;
}

/* Processes whose parent is this process (zombies included). */
static int count_children(void)
{
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    pid_t me = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        pid_t pp = 0;
        if (proc_state((pid_t)atoi(e->d_name), &pp) && pp == me) n++;
    }
    closedir(d);
    return n;
}

/* A process that is gone: absent, or a zombie waiting for someone else's wait. */
static int gone(pid_t pid)
{
    char s = proc_state(pid, NULL);
    return s == 0 || s == 'Z' || s == 'X';
}

/* Waits up to ms for a process to be gone. */
static int wait_gone(pid_t pid, int ms)
{
    double end = now_ms() + ms;
    while (!gone(pid) && now_ms() < end) sleep_ms(2);
    return gone(pid);
}

/* Our child `pid` was reaped (it no longer is our child). */
static int reaped(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD;
}

static long rss_shmem_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssShmem: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static pp_ctx *fork_ctx(int workers) { return th_ctx(PP_BACKEND_FORK, workers); }

static int worker_pids(pp_ctx *ctx, pid_t *pids, int max)
{
    int n = pp_fork_worker_pids(ctx, pids, max);
    return n < max ? n : max;
}

/* Starts the pool (if not yet) with a tiny pipeline. */
static void warm_up(pp_ctx *ctx)
{
    pp_image *in = th_random_image(ctx, 8, 8, 3, 1);
    pp_image *out = th_apply(ctx, "invert", in);
    pp_image_free(out);
    pp_image_free(in);
}

/* ---- hand-built stages ---------------------------------------------------------------------- */

static pid_t g_test_pid;

typedef struct test_params {
    int mode;     /* see test_kernel */
    int crash_band;
    int row_us;   /* busy time per row */
} test_params;

enum { K_COPY = 0, K_SEGV = 1, K_ABORT = 2 };

static void busy_us(int us)
{
    double end = now_ms() + us / 1000.0;
    while (now_ms() < end) {
    }
}

/* dst = src ^ 0x5a, row by row, optionally slow; crashes in a worker when asked to. */
static void test_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)scratch;
    const test_params *p = PP_STAGE_PARAMS(test_params, s);
    if (band == p->crash_band && getpid() != g_test_pid) {
        if (p->mode == K_SEGV) raise(SIGSEGV);
        if (p->mode == K_ABORT) abort();
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        for (int x = 0; x < s->src.width * s->src.channels; x++) out[x] = in[x] ^ 0x5a;
        if (p->row_us) busy_us(p->row_us);
    }
}

static void noop_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)s;
    (void)y0;
    (void)y1;
    (void)band;
    (void)scratch;
}

/* The fork executor's memory by pointer: a block of `bytes` in the context's arena (NULL when
   the executor refuses), and the arena's own release (what pp_block_release calls). */
static void *arena_get(pp_ctx *ctx, size_t bytes)
{
    pp_block b;
    return pp_exec_fork.alloc(ctx, bytes, &b) ? NULL : b.data;
}
static void arena_put(pp_ctx *ctx, void *ptr, size_t bytes)
{
    if (ptr) pp_arena_release(ctx->arena, ptr, bytes);
}

/* A w x h x 1 source and destination in the context's arena. */
typedef struct arena_job {
    pp_stage *st;
    size_t bytes;
} arena_job;

static arena_job job_new(pp_ctx *ctx, int w, int h, test_params tp)
{
    arena_job j;
    j.bytes = (size_t)w * h;
    j.st = calloc(1, sizeof *j.st);
    cr_assert_not_null(j.st);
    uint8_t *src = arena_get(ctx, j.bytes);
    uint8_t *dst = arena_get(ctx, j.bytes);
    cr_assert(src && dst, "%s", pp_ctx_last_error(ctx));
    for (size_t i = 0; i < j.bytes; i++) src[i] = (uint8_t)(i * 7 + i / 13);
    j.st->kernel = test_kernel;
    j.st->src = (pp_view){src, (size_t)w, w, h, 1, 8};
    j.st->dst = (pp_view){dst, (size_t)w, w, h, 1, 8};
    j.st->rows = h;
    memcpy(j.st->params, &tp, sizeof tp);
    return j;
}

static void job_clear(arena_job *j) { memset(j->st->dst.data, 0, j->bytes); }

static int job_correct(const arena_job *j)
{
    for (size_t i = 0; i < j->bytes; i++)
        if (j->st->dst.data[i] != (uint8_t)(j->st->src.data[i] ^ 0x5a)) return 0;
    return 1;
}

static void job_free(pp_ctx *ctx, arena_job *j)
{
    arena_put(ctx, j->st->src.data, j->bytes);
    arena_put(ctx, j->st->dst.data, j->bytes);
    free(j->st);
}

static void set_params(arena_job *j, test_params tp) { memcpy(j->st->params, &tp, sizeof tp); }

/* ---- determinism ---------------------------------------------------------------------------- */

/* (Every filter on every backend, worker count and band size: test_backends.c's matrix.) */

static pp_image *run_spec(pp_ctx *ctx, const char *spec, const pp_image *in)
{
    pp_image *out = NULL;
    pp_status st = pp_apply(ctx, spec, in, &out);
    cr_assert_eq(st, PP_OK, "%s on %dx%dx%d (%s): %s", spec, pp_image_width(in),
                 pp_image_height(in), pp_image_channels(in),
                 pp_ctx_backend(ctx) == PP_BACKEND_FORK ? "fork" : "serial",
                 pp_ctx_last_error(ctx));
    return out;
}

Test(fork, larger_image_and_arena_input)
{
    /* An image that already lives in the arena (made by the fork context) is used in place;
       bands really split the work here. */
    pp_ctx *serial = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *fk = fork_ctx(3);
    const char *specs[] = {"gaussian:sigma=2.5", "median:radius=2", "sobel", "rotate:angle=90",
                           "resize:scale=0.7", "unsharp", "invert"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        if (!pp_filter_find(strtok(strdupa(specs[i]), ":"))) continue;
        for (int c = 1; c <= 4; c++) {
            pp_image *in_heap = th_random_image(serial, 61, 523, c, (uint32_t)(i + 17 * c));
            pp_image *in_arena = th_random_image(fk, 61, 523, c, (uint32_t)(i + 17 * c));
            cr_assert(th_same(in_heap, in_arena));
            pp_image *ref = run_spec(serial, specs[i], in_heap);
            for (int b = 0; b < 4; b++) {
                pp_ctx_set_band_rows(fk, (int[]){0, 1, 7, 100}[b]);
                pp_image *a = run_spec(fk, specs[i], in_arena);
                pp_image *h = run_spec(fk, specs[i], in_heap); /* copied into the arena once */
                cr_assert(th_same(ref, a), "%s (arena input) differs", specs[i]);
                cr_assert(th_same(ref, h), "%s (heap input) differs", specs[i]);
                pp_image_free(a);
                pp_image_free(h);
            }
            pp_image_free(ref);
            pp_image_free(in_heap);
            pp_image_free(in_arena);
        }
    }
    pp_ctx_free(fk);
    pp_ctx_free(serial);
}

/* ---- crashes and recovery ------------------------------------------------------------------- */

typedef struct killer {
    pid_t pid;
    int after_ms;
    int sig;
    double t_kill;
} killer;

static void *killer_main(void *arg)
{
    killer *k = arg;
    sleep_ms(k->after_ms);
    k->t_kill = now_ms();
    kill(k->pid, k->sig);
    return NULL;
}

Test(fork, sigkill_worker_during_stage)
{
    g_test_pid = getpid();
    pp_ctx *ctx = fork_ctx(2);
    pp_ctx_set_band_rows(ctx, 10);
    /* 2000 rows of 1 ms each on 2 workers: about a second. */
    arena_job j = job_new(ctx, 64, 2000, (test_params){K_COPY, -1, 1000});
    set_params(&j, (test_params){K_COPY, -1, 0});
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    set_params(&j, (test_params){K_COPY, -1, 1000});

    killer k = {pids[1], 100, SIGKILL, 0};
    pthread_t th;
    pthread_create(&th, NULL, killer_main, &k);
    pp_status st = pp_exec_fork.run(ctx, j.st);
    double t_ret = now_ms();
    pthread_join(th, NULL);
    cr_assert_eq(st, PP_ERR_WORKER, "status %d: %s", st, pp_ctx_last_error(ctx));
    cr_assert_lt(t_ret - k.t_kill, 1000.0, "the error came %.0f ms after the kill",
                 t_ret - k.t_kill);
    cr_log_info("dead worker reported %.2f ms after SIGKILL: %s", t_ret - k.t_kill,
                pp_ctx_last_error(ctx));
    const char *msg = pp_ctx_last_error(ctx);
    char want[64];
    snprintf(want, sizeof want, "fork worker 1 (pid %d)", (int)pids[1]);
    cr_assert(strstr(msg, want), "message: %s", msg);
    cr_assert(strstr(msg, "signal 9"), "message: %s", msg);
    cr_assert(reaped(pids[0]) && reaped(pids[1]), "a worker of the dead pool was not reaped");
    cr_assert(gone(pids[0]) && gone(pids[1]));

    /* The next call forks a fresh pool and is right. */
    set_params(&j, (test_params){K_COPY, -1, 0});
    job_clear(&j);
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert(job_correct(&j));
    pid_t fresh[2];
    cr_assert_eq(worker_pids(ctx, fresh, 2), 2);
    cr_assert(fresh[0] != pids[0] && fresh[1] != pids[1]);
    pp_fork_stats fs;
    pp_fork_get_stats(ctx, &fs);
    cr_assert_eq(fs.pool_starts, 2);
    job_free(ctx, &j);
    pp_ctx_free(ctx);
    cr_assert(reaped(fresh[0]) && reaped(fresh[1]));
}

Test(fork, sigkill_worker_during_pipeline)
{
    /* The same through the public API, on a real filter that runs for a while. */
    const char *spec = "gaussian:sigma=30";
    cr_assert_not_null(pp_filter_find("gaussian"));
    pp_ctx *ctx = fork_ctx(2);
    pp_ctx *serial = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in = th_random_image(ctx, 2000, 2000, 1, 5);
    warm_up(ctx);
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    killer k = {pids[0], 50, SIGKILL, 0};
    pthread_t th;
    pthread_create(&th, NULL, killer_main, &k);
    pp_image *out = NULL;
    pp_status st = pp_apply(ctx, spec, in, &out);
    double t_ret = now_ms();
    pthread_join(th, NULL);
    if (st == PP_OK) {
        /* The filter beat the killer (a fast machine): then the next call must report it,
           once the worker is really gone - kill() returns before the process has exited, and
           a short call can finish on the other worker first. WNOWAIT leaves it to the pool to
           reap. */
        cr_assert_lt(t_ret, k.t_kill + 1.0);
        pp_image_free(out);
        siginfo_t si;
        while (waitid(P_PID, (id_t)pids[0], &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
        }
        st = pp_apply(ctx, "invert", in, &out);
    } else {
        cr_assert_lt(t_ret - k.t_kill, 1000.0);
    }
    cr_assert_eq(st, PP_ERR_WORKER, "%s", pp_ctx_last_error(ctx));
    cr_assert_null(out);
    cr_assert(strstr(pp_ctx_last_error(ctx), "fork worker 0"), "%s", pp_ctx_last_error(ctx));
    cr_assert(strstr(pp_ctx_last_error(ctx), "signal 9"), "%s", pp_ctx_last_error(ctx));
    cr_assert(reaped(pids[0]) && reaped(pids[1]));

    pp_image *small = th_random_image(ctx, 300, 200, 3, 9);
    pp_image *a = run_spec(ctx, "gaussian:sigma=3", small);
    pp_image *b = run_spec(serial, "gaussian:sigma=3", small);
    cr_assert(th_same(a, b));
    pp_image_free(a);
    pp_image_free(b);
    pp_image_free(small);
    pp_image_free(in);
    pp_ctx_free(serial);
    pp_ctx_free(ctx);
}

static void crash_in_kernel(int mode, int sig)
{
    g_test_pid = getpid();
    pp_ctx *ctx = fork_ctx(3);
    pp_ctx_set_band_rows(ctx, 4);
    arena_job j = job_new(ctx, 33, 61, (test_params){mode, 5, 0});
    pp_status st = pp_exec_fork.run(ctx, j.st);
    cr_assert_eq(st, PP_ERR_WORKER, "status %d: %s", st, pp_ctx_last_error(ctx));
    char want[32];
    snprintf(want, sizeof want, "signal %d", sig);
    cr_assert(strstr(pp_ctx_last_error(ctx), want), "%s", pp_ctx_last_error(ctx));
    cr_assert(strstr(pp_ctx_last_error(ctx), "while running band 5"), "%s",
              pp_ctx_last_error(ctx));
    cr_log_info("%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_fork_worker_pids(ctx, NULL, 0), 0, "the broken pool was not stopped");
    cr_assert_eq(count_children(), 0, "a worker was left behind");
    set_params(&j, (test_params){K_COPY, -1, 0});
    job_clear(&j);
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert(job_correct(&j));
    job_free(ctx, &j);
    pp_ctx_free(ctx);
}

Test(fork, segfault_in_kernel) { crash_in_kernel(K_SEGV, SIGSEGV); }
Test(fork, abort_in_kernel) { crash_in_kernel(K_ABORT, SIGABRT); }

Test(fork, worker_killed_while_idle_fails_next_call_then_recovers)
{
    pp_ctx *ctx = fork_ctx(2);
    pp_image *in = th_random_image(ctx, 40, 30, 4, 3);
    warm_up(ctx);
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    kill(pids[1], SIGTERM);
    cr_assert(wait_gone(pids[1], 2000));
    pp_image *out = NULL;
    cr_assert_eq(pp_apply(ctx, "invert", in, &out), PP_ERR_WORKER);
    cr_assert(strstr(pp_ctx_last_error(ctx), "signal 15"), "%s", pp_ctx_last_error(ctx));
    cr_assert(strstr(pp_ctx_last_error(ctx), "while idle"), "%s", pp_ctx_last_error(ctx));
    cr_assert(reaped(pids[0]) && reaped(pids[1]));
    out = th_apply(ctx, "invert", in);
    for (size_t i = 0; i < 40 * 30 * 4; i++)
        if (i % 4 != 3) cr_assert_eq(pp_image_data(out)[i], 255 - pp_image_data(in)[i]);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

static void *thread_runs_stage(void *arg)
{
    warm_up(arg); /* this thread forks the pool; its exit sends PDEATHSIG to the workers */
    return NULL;
}

Test(fork, pool_forked_by_a_thread_that_exited_is_restarted)
{
    pp_ctx *ctx = fork_ctx(2);
    pthread_t th;
    pthread_create(&th, NULL, thread_runs_stage, ctx);
    pthread_join(th, NULL);
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    cr_assert(wait_gone(pids[0], 2000) && wait_gone(pids[1], 2000),
              "PDEATHSIG did not follow the thread");
    /* Not a crash: the next call starts a fresh pool from this thread, silently. */
    warm_up(ctx);
    cr_assert(reaped(pids[0]) && reaped(pids[1]));
    pp_fork_stats fs;
    pp_fork_get_stats(ctx, &fs);
    cr_assert_eq(fs.pool_starts, 2);
    pp_ctx_free(ctx);
}

static void reap_everything(int sig)
{
    (void)sig;
    int e = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = e;
}

Test(fork, caller_sigchld_handler_reaps_our_worker)
{
    pp_ctx *ctx = fork_ctx(2);
    warm_up(ctx);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reap_everything;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, &old);
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    kill(pids[0], SIGKILL);
    double end = now_ms() + 2000; /* until the handler has reaped it */
    while (proc_state(pids[0], NULL) && now_ms() < end) sleep_ms(2);
    pp_image *in = th_random_image(ctx, 5, 5, 1, 3), *out = NULL;
    cr_assert_eq(pp_apply(ctx, "invert", in, &out), PP_ERR_WORKER);
    cr_assert(strstr(pp_ctx_last_error(ctx), "died (already reaped)"), "%s",
              pp_ctx_last_error(ctx));
    out = th_apply(ctx, "invert", in);
    sigaction(SIGCHLD, &old, NULL);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
    cr_assert_eq(count_children(), 0);
}

Test(fork, workers_ignore_sigint_and_hold_no_caller_fds)
{
    int caller_pipe[2];
    cr_assert_eq(pipe(caller_pipe), 0); /* not CLOEXEC: a fork would inherit it */
    pp_ctx *ctx = fork_ctx(2);
    warm_up(ctx);
    pid_t pids[2];
    cr_assert_eq(worker_pids(ctx, pids, 2), 2);
    for (int i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pids[i]);
        /* stdin, stdout (/dev/null), stderr, the lifeline and the eventfd */
        cr_assert_eq(count_dir(path), 5, "worker %d has %d fds", i, count_dir(path));
        kill(pids[i], SIGINT);
    }
    sleep_ms(50);
    warm_up(ctx);
    pid_t again[2];
    cr_assert_eq(worker_pids(ctx, again, 2), 2);
    cr_assert(again[0] == pids[0] && again[1] == pids[1], "SIGINT killed a worker");
    pp_ctx_free(ctx);
    close(caller_pipe[0]);
    close(caller_pipe[1]);
}

Test(fork, parent_killed_workers_die)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        close(fds[0]);
        g_test_pid = getpid();
        pp_ctx *ctx = pp_ctx_new();
        pp_ctx_set_backend(ctx, PP_BACKEND_FORK);
        pp_ctx_set_workers(ctx, 3);
        arena_job j = job_new(ctx, 16, 100000, (test_params){K_COPY, -1, 0});
        if (pp_exec_fork.run(ctx, j.st) != PP_OK) _exit(1);
        pid_t pids[3];
        int n = pp_fork_worker_pids(ctx, pids, 3);
        if (write(fds[1], pids, sizeof(pid_t) * (size_t)n) < 0) _exit(1);
        close(fds[1]);
        set_params(&j, (test_params){K_COPY, -1, 1000}); /* 100000 rows x 1 ms */
        pp_exec_fork.run(ctx, j.st);
        _exit(0);
    }
    close(fds[1]);
    pid_t pids[3];
    ssize_t got = read(fds[0], pids, sizeof pids);
    close(fds[0]);
    cr_assert_eq(got, (ssize_t)sizeof pids, "the child did not start its pool");
    sleep_ms(100); /* the long stage runs */
    for (int i = 0; i < 3; i++) cr_assert(!gone(pids[i]));
    kill(child, SIGKILL);
    cr_assert_eq(waitpid(child, NULL, 0), child);
    double t0 = now_ms();
    int left = 3;
    while (left > 0 && now_ms() - t0 < 2000) {
        left = 0;
        for (int i = 0; i < 3; i++) left += !gone(pids[i]);
        if (left) sleep_ms(5);
    }
    cr_assert_eq(left, 0, "%d workers outlived their parent by 2 s", left);
    cr_log_info("orphaned workers gone %.1f ms after their parent", now_ms() - t0);
}

/* ---- resources ------------------------------------------------------------------------------ */

static void one_cycle(void)
{
    pp_ctx *ctx = pp_ctx_new();
    pp_ctx_set_backend(ctx, PP_BACKEND_FORK);
    pp_ctx_set_workers(ctx, 2);
    pp_image *in = NULL, *out = NULL;
    cr_assert_eq(pp_image_new(ctx, 9, 5, 3, &in), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_apply(ctx, "invert", in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_data(out)[0], 255);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(fork, thousand_pools_leak_nothing, .timeout = 120)
{
    for (int i = 0; i < 5; i++) one_cycle(); /* warm the allocator */
    int fds = count_fds(), maps = count_lines("/proc/self/maps"), kids = count_children();
    double t0 = now_ms();
    for (int i = 0; i < 1000; i++) one_cycle();
    double ms = now_ms() - t0;
    cr_assert_eq(count_fds(), fds, "fds: %d before, %d after", fds, count_fds());
    cr_assert_eq(count_children(), kids, "children: %d before, %d after", kids,
                 count_children());
    int maps_after = count_lines("/proc/self/maps");
    cr_assert_eq(maps_after, maps, "mappings: %d before, %d after", maps, maps_after);
    cr_log_info("1000 create/run/destroy cycles with 2 workers: %.2f ms each", ms / 1000);
}

static char *shm_listing(void)
{
    static char buf[1 << 16];
    buf[0] = '\0';
    DIR *d = opendir("/dev/shm");
    if (!d) return strdup("");
    struct dirent *e;
    while ((e = readdir(d))) {
        strncat(buf, e->d_name, sizeof buf - strlen(buf) - 2);
        strcat(buf, "/");
    }
    closedir(d);
    return strdup(buf);
}

Test(fork, nothing_in_dev_shm)
{
    char *before = shm_listing();
    pp_ctx *ctx = fork_ctx(2);
    pp_image *in = th_random_image(ctx, 100, 100, 3, 1);
    pp_image *out = th_apply(ctx, "invert", in);
    char *during = shm_listing();
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
    char *after = shm_listing();
    cr_assert_str_eq(during, before);
    cr_assert_str_eq(after, before);
    free(before);
    free(during);
    free(after);
}

Test(fork, images_outlive_their_context)
{
    pp_ctx *ctx = fork_ctx(2);
    pp_image *in = th_random_image(ctx, 50, 40, 3, 8);
    pp_image *out = th_apply(ctx, "invert", in);
    int maps = count_lines("/proc/self/maps");
    pp_ctx_free(ctx); /* workers gone, arena kept by the two images */
    cr_assert_eq(count_children(), 0);
    for (size_t i = 0; i < 50 * 40 * 3; i++)
        cr_assert_eq(pp_image_data(out)[i], 255 - pp_image_data(in)[i]);
    pp_image_free(in);
    cr_assert_eq(count_lines("/proc/self/maps"), maps);
    pp_image_free(out); /* the last reference: the arena is unmapped */
    cr_assert_lt(count_lines("/proc/self/maps"), maps);
}

Test(fork, worker_count_change_restarts_pool)
{
    pp_ctx *ctx = fork_ctx(2);
    warm_up(ctx);
    pid_t two[2], three[3];
    cr_assert_eq(worker_pids(ctx, two, 2), 2);
    warm_up(ctx);
    pid_t same[2];
    worker_pids(ctx, same, 2);
    cr_assert(same[0] == two[0] && same[1] == two[1], "the pool was not reused");
    pp_ctx_set_workers(ctx, 3);
    warm_up(ctx);
    cr_assert_eq(worker_pids(ctx, three, 3), 3);
    cr_assert(reaped(two[0]) && reaped(two[1]));
    pp_ctx_set_workers(ctx, 1);
    warm_up(ctx);
    cr_assert_eq(pp_fork_worker_pids(ctx, NULL, 0), 1);
    cr_assert_eq(count_children(), 1);
    pp_ctx_free(ctx);
    cr_assert_eq(count_children(), 0);
}

Test(fork, stage_outside_the_arena_is_refused)
{
    pp_ctx *ctx = fork_ctx(2);
    uint8_t heap_src[64], heap_dst[64];
    pp_stage *st = calloc(1, sizeof *st);
    st->kernel = test_kernel;
    st->src = (pp_view){heap_src, 8, 8, 8, 1, 8};
    st->dst = (pp_view){heap_dst, 8, 8, 8, 1, 8};
    st->rows = 8;
    memcpy(st->params, &(test_params){K_COPY, -1, 0}, sizeof(test_params));
    cr_assert_eq(pp_exec_fork.run(ctx, st), PP_ERR_BACKEND);
    cr_assert(strstr(pp_ctx_last_error(ctx), "not in the shared arena"), "%s",
              pp_ctx_last_error(ctx));
    /* A destination that runs past the end of its block is caught too. */
    uint8_t *blk = arena_get(ctx, 64);
    st->src = (pp_view){blk, 8, 8, 8, 1, 8};
    st->dst = (pp_view){blk, (size_t)1 << 50, 8, 8, 1, 8};
    cr_assert_eq(pp_exec_fork.run(ctx, st), PP_ERR_BACKEND);
    cr_assert(!pp_exec_fork.can_see(ctx, heap_src));
    cr_assert(pp_exec_fork.can_see(ctx, blk));
    arena_put(ctx, blk, 64);
    free(st);
    pp_ctx_free(ctx);
}

Test(fork, context_used_in_a_forked_child_fails_cleanly)
{
    pp_ctx *ctx = fork_ctx(2);
    pp_image *in = th_random_image(ctx, 20, 20, 3, 2);
    warm_up(ctx);
    pid_t pids[2];
    worker_pids(ctx, pids, 2);
    g_test_pid = getpid();
    arena_job j = job_new(ctx, 8, 8, (test_params){K_COPY, -1, 0});
    pid_t child = fork();
    if (child == 0) {
        pp_image *out = NULL;
        int code = 0;
        if (pp_apply(ctx, "invert", in, &out) == PP_OK) code |= 1;
        if (pp_exec_fork.run(ctx, j.st) != PP_ERR_BACKEND) code |= 2;
        if (!strstr(pp_ctx_last_error(ctx), "child of fork()")) code |= 4;
        if (arena_get(ctx, 64)) code |= 8;
        job_free(ctx, &j);
        pp_image_free(in);
        pp_ctx_free(ctx); /* must neither stop the parent's workers nor punch its arena */
        _exit(code);
    }
    int status = 0;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    pp_image *out = th_apply(ctx, "invert", in);
    pid_t again[2];
    worker_pids(ctx, again, 2);
    cr_assert(again[0] == pids[0] && again[1] == pids[1]);
    job_clear(&j);
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert(job_correct(&j));
    job_free(ctx, &j);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(fork, arena_gives_memory_back)
{
    pp_ctx *ctx = fork_ctx(2);
    const size_t mib = (size_t)1 << 20, big = 64 * mib;
    long base = rss_shmem_kb();
    cr_assert_geq(base, 0);
    /* 200 rounds of 64 MiB (sizes varying a little, two alive at a time) and small blocks that
       live a few rounds: resident shared memory stays bounded. */
    void *prev = NULL;
    size_t prev_n = 0;
    void *small[3] = {NULL, NULL, NULL};
    long peak = 0;
    for (int r = 0; r < 200; r++) {
        size_t n = big + (size_t)(r % 7) * 12345;
        uint8_t *b = arena_get(ctx, n);
        cr_assert_not_null(b, "%s", pp_ctx_last_error(ctx));
        memset(b, r, n);
        arena_put(ctx, small[r % 3], 1000);
        small[r % 3] = arena_get(ctx, 1000);
        memset(small[r % 3], 1, 1000);
        if (prev) arena_put(ctx, prev, prev_n);
        prev = b;
        prev_n = n;
        long kb = rss_shmem_kb() - base;
        if (kb > peak) peak = kb;
    }
    arena_put(ctx, prev, prev_n);
    for (int i = 0; i < 3; i++) arena_put(ctx, small[i], 1000);
    cr_assert_lt(peak, 512 * 1024, "RssShmem grew to %ld kB", peak);

    /* Twelve blocks alive at once, then all freed: all but the keep limit is punched out. */
    void *blocks[12];
    for (int i = 0; i < 12; i++) {
        blocks[i] = arena_get(ctx, big);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], i, big);
    }
    long full = rss_shmem_kb() - base;
    cr_assert_geq(full, 12 * 64 * 1024 - 1024);
    for (int i = 0; i < 12; i++) arena_put(ctx, blocks[i], big);
    long after = rss_shmem_kb() - base;
    pp_arena_stats s;
    pp_arena_get_stats(ctx->arena, &s);
    cr_assert_eq(s.in_use, 0);
    cr_assert_eq(s.refs, 1);
    cr_assert_eq(s.nfree, 1, "the free list did not coalesce");
    cr_assert_leq(s.free_resident, s.keep_limit);
    cr_assert_gt(s.punched, 0);
    cr_assert_leq(after, (long)(s.keep_limit / 1024) + 1024, "RssShmem %ld kB after freeing",
                  after);
    cr_log_info("RssShmem: peak %ld kB over 200 rounds; %ld kB with 12 x 64 MiB, %ld kB after "
                "freeing them (keep limit %zu MiB)",
                peak, full, after, s.keep_limit / mib);
    pp_ctx_free(ctx);
}

Test(fork, arena_full_fails_cleanly)
{
    pp_ctx *ctx = fork_ctx(1);
    void *a = arena_get(ctx, 64);
    cr_assert_not_null(a);
    pp_arena_stats s;
    pp_arena_get_stats(ctx->arena, &s);
    cr_assert_null(arena_get(ctx, s.size)); /* never touches memory */
    cr_assert(strstr(pp_ctx_last_error(ctx), "arena is full"), "%s", pp_ctx_last_error(ctx));
    cr_assert_null(arena_get(ctx, SIZE_MAX - 10));
    /* A double free is ignored rather than corrupting the free list. */
    arena_put(ctx, a, 64);
    arena_put(ctx, a, 64);
    pp_arena_get_stats(ctx->arena, &s);
    cr_assert_eq(s.refs, 1);
    cr_assert_eq(s.in_use, 0);
    pp_ctx_free(ctx);
}

Test(fork, kernel_scratch_is_private_and_sized)
{
    /* A stage asking for a lot of scratch: each worker maps its own. */
    g_test_pid = getpid();
    pp_ctx *ctx = fork_ctx(3);
    pp_ctx_set_band_rows(ctx, 1);
    arena_job j = job_new(ctx, 7, 30, (test_params){K_COPY, -1, 0});
    j.st->scratch_bytes = (size_t)48 << 20;
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert(job_correct(&j));
    j.st->scratch_bytes = SIZE_MAX - 4096;
    cr_assert_neq(pp_exec_fork.run(ctx, j.st), PP_OK);
    j.st->scratch_bytes = (size_t)1 << 46; /* 64 TiB: the mapping fails in the workers */
    pp_status st = pp_exec_fork.run(ctx, j.st);
    cr_assert_eq(st, PP_ERR_NOMEM, "status %d: %s", st, pp_ctx_last_error(ctx));
    cr_assert(strstr(pp_ctx_last_error(ctx), "scratch"), "%s", pp_ctx_last_error(ctx));
    j.st->scratch_bytes = 0;
    job_clear(&j);
    cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert(job_correct(&j));
    job_free(ctx, &j);
    pp_ctx_free(ctx);
}

/* ---- costs ---------------------------------------------------------------------------------- */

Test(fork, startup_and_dispatch_costs)
{
    g_test_pid = getpid();
    for (int w = 1; w <= 4; w *= 2) {
        pp_ctx *ctx = fork_ctx(w);
        arena_job j = job_new(ctx, 8, 64, (test_params){K_COPY, -1, 0});
        j.st->kernel = noop_kernel;
        cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK);
        pp_fork_stats fs;
        pp_fork_get_stats(ctx, &fs);
        const int reps = 2000;
        double per[2];
        for (int b = 0; b < 2; b++) {
            pp_ctx_set_band_rows(ctx, b == 0 ? 64 : 1); /* 1 band, then 64 bands */
            double t0 = now_ms();
            for (int i = 0; i < reps; i++) cr_assert_eq(pp_exec_fork.run(ctx, j.st), PP_OK);
            per[b] = (now_ms() - t0) * 1000.0 / reps;
        }
        cr_log_info("fork pool, %d worker(s): start-up %.2f ms; empty stage %.1f us (1 band), "
                    "%.1f us (64 bands)",
                    w, fs.last_startup_ms, per[0], per[1]);
        job_free(ctx, &j);
        pp_ctx_free(ctx);
    }
}
