/*
 * exec_fork.c - the fork executor: a persistent pool of pre-forked worker processes that run a
 * stage's bands on pixels in a shared-memory arena (arena.c), with no copy between processes.
 *
 * Design (docs/FORK.md has the long form):
 *  - One arena per context, created on first need (pp_exec_fork.alloc, e.g. when pp_load decodes
 *    into it, or the first stage), *before* any worker is forked, at the same address in every
 *    process. Its first pages hold the control block (struct fork_ctl below). Pointers into the
 *    arena and function pointers (the workers are forks of this very binary) mean the same in
 *    the parent and in the workers, so a pp_stage is copied into the control block as it is.
 *  - The pool is forked lazily, on the first stage, with pp_ctx_workers(ctx) workers; it is
 *    reused for every later stage and re-forked when the worker count changed, after a worker
 *    died, or when the thread that forked it has exited (see PDEATHSIG below). Never a fork
 *    per call.
 *  - Dispatch: the parent copies the stage into the control block, resets the counters, tags
 *    the limit word and each worker's share of the bands (a contiguous range, the same rows
 *    stage after stage) with a new generation and bumps the generation word, on which idle
 *    workers sleep (FUTEX_WAIT, 1 s timeout), then FUTEX_WAKEs them. A worker claims bands from
 *    its own share, then from the others', with a CAS on the share's claim word only while its
 *    generation is theirs, so a late worker can never take a band of another stage. The worker that finishes the last band writes the
 *    eventfd; the parent poll()s that eventfd together with one lifeline pipe per worker.
 *  - Crash detection: each worker alone holds the write end of its lifeline pipe. When a worker
 *    dies, for any reason, its pipe hangs up: the parent reaps it (waitpid on that pid only),
 *    names it in the error ("fork worker 1 (pid 4242) was killed by signal 9 (Killed)"), kills
 *    and reaps the rest of the pool (a band claimed by the dead worker will never finish), and
 *    returns PP_ERR_WORKER at once; the next call forks a fresh pool on the same arena. A death
 *    noticed between stages fails the next stage the same way. No zombie is left behind.
 *  - Workers: PR_SET_PDEATHSIG(SIGKILL), then a getppid() check against the parent's pid saved
 *    before fork; every signal disposition back to default (the caller's handlers never run in
 *    a worker) with SIGINT and SIGQUIT ignored (the keyboard signals go to the whole process
 *    group; the parent decides what an interrupt means), all signals unblocked; every fd closed
 *    except stderr, the lifeline and the eventfd; stdin and stdout on /dev/null. They run
 *    kernels only: no malloc, no stdio, no OpenMP; scratch is an anonymous mapping of their own,
 *    grown when a stage needs more; they leave with _exit (no atexit handler, no stdio flush,
 *    no LeakSanitizer run of the caller's state).
 *  - Shutdown (fork_teardown, from pp_ctx_free): a shutdown flag and a wake, up to 1 s
 *    for the workers to leave, SIGKILL for stragglers, all reaped, every fd closed, then the
 *    context's arena reference is dropped (images still alive keep the arena).
 *
 * Guarantees: bands are cut by pp_stage_band_rows/pp_band_count like every executor, so the
 * output is bit-identical to serial; the call never waits on a dead worker; no orphan (the
 * workers die with the parent), no zombie, no inherited fd, nothing in /dev/shm; a context used
 * in a child of the caller's fork() fails cleanly instead of driving its parent's workers.
 */
#define _GNU_SOURCE
#include "fork_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORK_MAGIC 0x4b465050u /* "PPFK" */
#define FORK_VERSION 1u
#define FORK_MAX_WORKERS 1024
#define SHUTDOWN_GRACE_MS 1000
#define WORKER_NAP_S 1 /* futex timeout: how often an idle worker checks getppid() */

/* The atomics below live in memory shared between processes: they must be lock-free (a lock
   inside libatomic would be private to each process). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "the fork backend needs lock-free 32- and 64-bit atomics");

/* ---- the control block --------------------------------------------------------------------- */

enum worker_state {
    W_UNUSED = 0,   /* slot of no worker */
    W_STARTING = 1, /* forked, not yet ready */
    W_IDLE = 2,     /* waiting for a stage */
    W_BUSY = 3,     /* running a band (last_band) */
    W_EXITED = 4    /* left on shutdown or because the parent was gone */
};

/* One worker's status slot, on a cache line of its own. The parent reads it only for messages
   and diagnostics; liveness comes from the lifeline pipe and waitpid, never from this slot. */
typedef struct fork_slot {
    _Alignas(64) _Atomic int32_t pid; /* parent after fork() and worker at start-up (same value) */
    _Atomic int32_t state;            /* parent: W_STARTING before fork(); then the worker only */
    _Atomic int32_t last_band;        /* worker: band it runs or ran last (-1: none yet) */
    _Atomic uint32_t gen;             /* worker: generation it last worked on */
    _Atomic uint64_t bands;           /* worker: bands run since start (statistics) */
    /* This worker's share of the stage's bands, [first, end) with first = claim's low half:
       gen:next, set by the parent before gen (as the limit word); the owner and, once their own
       share is done, the other workers CAS it to gen:next+1 while the tag is theirs and next <
       end. The owner takes the same rows stage after stage, so the pages of its rows stay
       mapped in its own page tables (a shared page is mapped per process, and a worker that
       wrote other rows last time would take a page fault on each new 4 KiB page). */
    _Atomic uint64_t claim;
    _Atomic uint32_t end;
} fork_slot;

/* At offset 0 of the arena. All fields are written by the parent only, except where a field
   says "worker". Ordering: the parent writes the stage, band_rows, nbands, done, fail_*, limit
   and claim, then stores gen with memory_order_release; a worker loads gen with acquire, so it
   sees all of them. Once a worker has claimed a band of generation g, the parent cannot publish
   g + 1 before that band is counted in `done` (acq_rel), so the stage it reads cannot change
   under it. */
struct fork_ctl {
    /* Set by the parent at pool start, before the workers are forked; constant while they run. */
    uint32_t magic;   /* FORK_MAGIC */
    uint32_t version; /* FORK_VERSION */
    uint32_t ctl_size;
    int32_t nworkers;

    /* The futex word: idle workers FUTEX_WAIT on it. Parent: +1 with release after publishing a
       stage or setting shutdown, then FUTEX_WAKE. */
    _Alignas(64) _Atomic uint32_t gen;
    _Atomic uint32_t shutdown; /* parent: 1 before the last gen bump; workers _exit on seeing it */

    /* limit = gen:nbands, tagged with the generation in the high 32 bits, set once per stage by
       the parent; a worker that finds another tag is late and takes nothing. The bands are
       split into one contiguous share per worker (fork_slot.claim and end): a worker runs its
       own share first, then helps with the others'. */
    _Alignas(64) _Atomic uint64_t limit;

    /* Completion. done: parent 0 before gen; worker +1 (acq_rel) after each band, and the one
       that reaches nbands writes the eventfd. ready: worker +1 at start-up, the last one writes
       the eventfd. fail_errno/fail_worker: a worker that cannot map scratch sets fail_errno
       (CAS from 0, first wins) then fail_worker, and counts its bands as done without running
       them; the parent reads both after `done` is complete. */
    _Alignas(64) _Atomic uint32_t done;
    _Atomic uint32_t ready;
    _Atomic int32_t fail_errno;
    _Atomic int32_t fail_worker;

    /* The stage: parent, before gen; workers read it after claiming a band. */
    _Alignas(64) int32_t band_rows;
    int32_t nbands;
    pp_stage stage;

    fork_slot slots[FORK_MAX_WORKERS];
};

/* ---- the pool (parent-private) ------------------------------------------------------------- */

struct pp_fork_pool {
    pid_t owner;         /* process that owns the pool; another one (a fork) must not drive it */
    pid_t fork_tid;      /* thread that forked the workers: their PDEATHSIG follows it */
    int n;               /* workers running; 0 when none (fork on next use) */
    pid_t *pids;         /* [n]; 0 once reaped */
    struct pollfd *pfd;  /* [n + 1]: the eventfd, then each worker's lifeline read end */
    int evfd;
    struct fork_ctl *ctl;
    uint32_t gen;        /* last generation published (continues across restarts) */
    pp_fork_stats stats;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
    return syscall(SYS_futex, (uint32_t *)(void *)word, op, val, timeout, NULL, 0);
}

/* Keeps the pool's fds off 0..2, so that a worker can put /dev/null on stdin and stdout even
   when the caller had closed them. */
static int fd_high(int fd)
{
    if (fd < 0 || fd > 2) return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    close(fd);
    errno = e;
    return h;
}

/* ---- the worker side ----------------------------------------------------------------------- */

/* Everything from here to worker_main's end runs in a freshly forked child of a process that
   may have had other threads: only async-signal-safe calls (raw syscalls), no malloc, no stdio,
   no locks; it leaves with _exit. */

static void notify(int evfd)
{
    uint64_t one = 1;
    while (write(evfd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

static void close_fds(unsigned lo, unsigned hi)
{
    if (lo > hi) return;
    if (close_range(lo, hi, 0) == 0) return;
    struct rlimit rl;
    unsigned max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
        max = (unsigned)rl.rlim_cur;
    if (hi >= max) hi = max - 1;
    for (unsigned fd = lo; fd <= hi; fd++) close((int)fd);
}

/* Closes every fd but 0..2, a and b (both > 2). */
static void keep_only(int a, int b)
{
    unsigned k0 = (unsigned)(a < b ? a : b), k1 = (unsigned)(a < b ? b : a);
    close_fds(3, k0 - 1);
    close_fds(k0 + 1, k1 - 1);
    close_fds(k1 + 1, ~0U);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        if (nul != 0) dup2(nul, 0);
        if (nul != 1) dup2(nul, 1);
        if (nul > 2) close(nul);
    }
}

static void reset_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL); /* EINVAL for reserved ones */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Scratch of at least `bytes` (and of one page for kernels that need none). */
static void *worker_scratch(size_t bytes, void **buf, size_t *cap)
{
    size_t page = 4096;
    size_t need = bytes < page ? page : bytes;
    if (need > SIZE_MAX - page) return NULL;
    need = (need + page - 1) / page * page;
    if (need <= *cap) return *buf;
    if (*buf) munmap(*buf, *cap);
    *buf = NULL;
    *cap = 0;
    void *p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    *buf = p;
    *cap = need;
    return p;
}

/* Takes the next band of generation g from `share`, or returns -1 when it has none left. */
static int claim_band(fork_slot *share, uint32_t g)
{
    const uint32_t end = atomic_load_explicit(&share->end, memory_order_acquire); /* then claim */
    uint64_t c = atomic_load_explicit(&share->claim, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(c >> 32) != g || (uint32_t)c >= end) return -1;
        if (atomic_compare_exchange_weak_explicit(&share->claim, &c, c + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)(uint32_t)c;
    }
}

/* Runs band `band` of the current stage and counts it done; the worker that completes the
   stage (n bands) writes the eventfd. */
static void run_band(struct fork_ctl *ctl, int idx, int band, uint32_t n, int evfd, void **sbuf,
                     size_t *scap)
{
    fork_slot *me = &ctl->slots[idx];
    atomic_store_explicit(&me->last_band, band, memory_order_relaxed);
    atomic_store_explicit(&me->state, W_BUSY, memory_order_relaxed);
    const pp_stage *st = &ctl->stage;
    const int64_t br = ctl->band_rows;
    const int64_t y0 = (int64_t)band * br;
    const int64_t y1 = y0 + br < st->rows ? y0 + br : st->rows;
    if (atomic_load_explicit(&ctl->fail_errno, memory_order_relaxed) == 0) {
        void *scratch = worker_scratch(st->scratch_bytes, sbuf, scap);
        if (scratch) {
            st->kernel(st, (int)y0, (int)y1, band, scratch);
        } else {
            int32_t zero = 0;
            if (atomic_compare_exchange_strong(&ctl->fail_errno, &zero, errno ? errno : ENOMEM))
                atomic_store_explicit(&ctl->fail_worker, idx, memory_order_relaxed);
        }
    }
    atomic_fetch_add_explicit(&me->bands, 1, memory_order_relaxed);
    atomic_store_explicit(&me->state, W_IDLE, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&ctl->done, 1, memory_order_acq_rel) + 1 == n) notify(evfd);
}

/* Runs the bands of generation g that this worker can claim: its own share, then what is left
   of the others' (each share in turn, starting with the next worker's). */
static void worker_generation(struct fork_ctl *ctl, int idx, uint32_t g, int evfd, void **sbuf,
                              size_t *scap)
{
    uint64_t lim = atomic_load_explicit(&ctl->limit, memory_order_acquire);
    if ((uint32_t)(lim >> 32) != g) return; /* that stage is over: we are late */
    const uint32_t n = (uint32_t)lim;
    const int nw = ctl->nworkers;
    atomic_store_explicit(&ctl->slots[idx].gen, g, memory_order_relaxed);
    for (int k = 0; k < nw; k++) {
        fork_slot *share = &ctl->slots[(idx + k) % nw];
        int band;
        while ((band = claim_band(share, g)) >= 0) run_band(ctl, idx, band, n, evfd, sbuf, scap);
    }
}

static _Noreturn void worker_main(struct fork_ctl *ctl, int idx, int life_w, int evfd,
                                  pid_t parent, uint32_t gen0)
{
    /* Die with the parent: the signal, then the check for a parent gone before it was set. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    reset_signals();
    keep_only(life_w, evfd);
    if (ctl->magic != FORK_MAGIC || ctl->version != FORK_VERSION) _exit(2);

    fork_slot *me = &ctl->slots[idx];
    atomic_store_explicit(&me->pid, (int32_t)getpid(), memory_order_relaxed);
    atomic_store_explicit(&me->last_band, -1, memory_order_relaxed);
    atomic_store_explicit(&me->state, W_IDLE, memory_order_release);
    if (atomic_fetch_add_explicit(&ctl->ready, 1, memory_order_acq_rel) + 1 ==
        (uint32_t)ctl->nworkers)
        notify(evfd);

    void *sbuf = NULL;
    size_t scap = 0;
    uint32_t mine = gen0;
    for (;;) {
        uint32_t g = atomic_load_explicit(&ctl->gen, memory_order_acquire);
        if (atomic_load_explicit(&ctl->shutdown, memory_order_acquire)) break;
        if (g == mine) {
            const struct timespec nap = {WORKER_NAP_S, 0};
            futex(&ctl->gen, FUTEX_WAIT, mine, &nap); /* shared (not _PRIVATE): across processes */
            if (getppid() != parent) break;           /* backstop for PDEATHSIG */
            continue;
        }
        mine = g;
        worker_generation(ctl, idx, g, evfd, &sbuf, &scap);
    }
    atomic_store_explicit(&me->state, W_EXITED, memory_order_release);
    _exit(0);
}

/* ---- the parent side: pool lifetime -------------------------------------------------------- */

/* Kills (SIGKILL) every worker still alive, reaps them all, closes the pool's fds. */
static void pool_kill(struct pp_fork_pool *p)
{
    if (p->n > 0) {
        /* A worker whose lifeline has hung up is dead already: its pid may even have been reaped
           by a SIGCHLD handler of the caller and reused, so it must not be signalled. */
        for (int i = 0; i < p->n; i++) p->pfd[i + 1].revents = 0;
        while (poll(p->pfd + 1, (nfds_t)p->n, 0) < 0 && errno == EINTR) {
        }
        for (int i = 0; i < p->n; i++)
            if (p->pids[i] > 0 && !(p->pfd[i + 1].revents & (POLLHUP | POLLERR | POLLIN)))
                kill(p->pids[i], SIGKILL);
        for (int i = 0; i < p->n; i++) {
            if (p->pids[i] <= 0) continue;
            while (waitpid(p->pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
            p->pids[i] = 0;
        }
    }
    for (int i = 0; p->pfd && i < p->n; i++)
        if (p->pfd[i + 1].fd >= 0) close(p->pfd[i + 1].fd);
    if (p->evfd >= 0) close(p->evfd);
    p->evfd = -1;
    free(p->pids);
    free(p->pfd);
    p->pids = NULL;
    p->pfd = NULL;
    p->n = 0;
}

/* Asks the workers to leave, gives them up to SHUTDOWN_GRACE_MS, then kills and reaps. */
static void pool_stop(struct pp_fork_pool *p)
{
    if (p->n > 0) {
        struct fork_ctl *ctl = p->ctl;
        atomic_store_explicit(&ctl->shutdown, 1, memory_order_release);
        atomic_store_explicit(&ctl->gen, ++p->gen, memory_order_release);
        futex(&ctl->gen, FUTEX_WAKE, INT_MAX, NULL);
        /* Sleep until every lifeline has hung up or the deadline passes; a lifeline that has
           hung up is taken out of the set (negative fd) so that poll() does not spin on it. */
        struct pollfd *w = p->pfd + 1;
        double deadline = now_ms() + SHUTDOWN_GRACE_MS;
        int open = p->n;
        while (open > 0) {
            int left = (int)(deadline - now_ms());
            if (left <= 0) break;
            int r = poll(w, (nfds_t)p->n, left);
            if (r < 0 && errno != EINTR) break;
            for (int i = 0; r > 0 && i < p->n; i++) {
                if (w[i].fd >= 0 && (w[i].revents & (POLLHUP | POLLERR | POLLIN | POLLNVAL))) {
                    w[i].fd = ~w[i].fd;
                    open--;
                }
            }
        }
        for (int i = 0; i < p->n; i++)
            if (w[i].fd < 0) w[i].fd = ~w[i].fd;
    }
    pool_kill(p); /* SIGKILL for stragglers; reaps everyone */
}

/* Reaps worker i (unless `reaped` says it is done: 1 with its status, -1 reaped by someone
   else) and names its death in the context's message. */
static void describe_death(struct pp_fork_pool *p, pp_ctx *ctx, int i, const char *when,
                           int reaped, int status)
{
    pid_t pid = p->pids[i];
    pid_t r = reaped > 0 ? pid : -1;
    if (reaped == 0) {
        while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
    }
    p->pids[i] = 0;
    const fork_slot *s = &p->ctl->slots[i];
    char doing[96] = "";
    if (atomic_load(&s->state) == W_BUSY)
        snprintf(doing, sizeof doing, " while running band %d", (int)atomic_load(&s->last_band));
    else if (when[0])
        snprintf(doing, sizeof doing, " %s", when);
    if (r < 0) {
        pp_fail(ctx, PP_ERR_WORKER, "fork worker %d (pid %d) died (already reaped)%s", i, (int)pid,
                doing);
    } else if (WIFSIGNALED(status)) {
        const char *name = sigdescr_np(WTERMSIG(status));
        pp_fail(ctx, PP_ERR_WORKER, "fork worker %d (pid %d) was killed by signal %d (%s)%s%s", i,
                (int)pid, WTERMSIG(status), name ? name : "unknown signal",
                WCOREDUMP(status) ? " (core dumped)" : "", doing);
    } else {
        pp_fail(ctx, PP_ERR_WORKER, "fork worker %d (pid %d) exited with status %d%s", i,
                (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1, doing);
    }
}

/* After poll(): if a lifeline hung up, reaps that worker, sets the message, stops the pool and
   returns PP_ERR_WORKER. */
static pp_status check_deaths(struct pp_fork_pool *p, pp_ctx *ctx, const char *when)
{
    for (int i = 0; i < p->n; i++) {
        if (!(p->pfd[i + 1].revents & (POLLHUP | POLLERR | POLLIN | POLLNVAL))) continue;
        describe_death(p, ctx, i, when, 0, 0);
        pool_kill(p); /* a band it claimed will never finish: start afresh on the next call */
        return PP_ERR_WORKER;
    }
    return PP_OK;
}

/* The backstop for a lifeline that cannot hang up because a child that the caller fork()ed
   from another thread, while this pool was being started, inherited its write end (until that
   child execs): asks the kernel directly, without blocking, whether a worker has exited. */
static pp_status check_exits(struct pp_fork_pool *p, pp_ctx *ctx, const char *when)
{
    for (int i = 0; i < p->n; i++) {
        int status = 0;
        pid_t r = waitpid(p->pids[i], &status, WNOHANG);
        if (r == 0 || (r < 0 && errno != ECHILD)) continue;
        describe_death(p, ctx, i, when, r > 0 ? 1 : -1, status);
        pool_kill(p);
        return PP_ERR_WORKER;
    }
    return PP_OK;
}

/* Waits until *counter == target, watching every worker. */
/* The parent takes every band of generation g not yet claimed (as a worker would, so no worker
   can start one) and counts them done; returns how many it took. */
static uint32_t steal_bands(struct fork_ctl *ctl, int nw, uint32_t g)
{
    uint32_t taken = 0;
    for (int i = 0; i < nw; i++) {
        fork_slot *share = &ctl->slots[i];
        const uint32_t end = atomic_load_explicit(&share->end, memory_order_acquire);
        uint64_t c = atomic_load_explicit(&share->claim, memory_order_acquire);
        while ((uint32_t)(c >> 32) == g && (uint32_t)c < end) {
            if (atomic_compare_exchange_weak_explicit(&share->claim, &c, (uint64_t)g << 32 | end,
                                                      memory_order_acq_rel, memory_order_acquire)) {
                taken += end - (uint32_t)c;
                break;
            }
        }
    }
    if (taken) atomic_fetch_add_explicit(&ctl->done, taken, memory_order_acq_rel);
    return taken;
}

/* Waits until *counter reaches target. For a stage (g != 0) with a progress callback, it wakes
   at least every 10 ms to report the bands done; when the callback asks to stop, the bands not
   yet claimed are taken away, the ones in flight waited for, and *cancelled set. */
static pp_status pool_wait(struct pp_fork_pool *p, pp_ctx *ctx, _Atomic uint32_t *counter,
                           uint32_t target, const char *when, uint32_t g, bool *cancelled)
{
    const bool report = g != 0 && ctx->progress;
    for (;;) {
        for (int i = 0; i <= p->n; i++) p->pfd[i].revents = 0;
        if (atomic_load_explicit(counter, memory_order_acquire) == target) return PP_OK;
        if (report && !*cancelled) {
            uint32_t done = atomic_load_explicit(counter, memory_order_acquire);
            if (ctx->progress(ctx->progress_user, (int)done, (int)target) != 0) {
                *cancelled = true;
                steal_bands(p->ctl, p->n, g);
                continue;
            }
        }
        /* Deaths (lifeline hang-ups) and completion (the eventfd) wake us; the timeout is a
           backstop against a lost wake-up and a lifeline that cannot hang up (check_exits). */
        int r = poll(p->pfd, (nfds_t)p->n + 1, report ? 10 : 1000);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            pool_kill(p);
            return pp_fail(ctx, PP_ERR_BACKEND, "fork backend: poll: %s", strerror(e));
        }
        if (p->pfd[0].revents & POLLIN) {
            uint64_t v;
            while (read(p->evfd, &v, sizeof v) < 0 && errno == EINTR) {
            }
        }
        /* A stage that completed wins over a death noticed in the same wake-up: its output is
           whole; the death fails the next stage. */
        if (atomic_load_explicit(counter, memory_order_acquire) == target) return PP_OK;
        pp_status st = check_deaths(p, ctx, when);
        if (st) return st;
        if (r == 0 && (st = check_exits(p, ctx, when))) return st;
    }
}

static pp_status pool_start(struct pp_fork_pool *p, pp_ctx *ctx, int n)
{
    double t0 = now_ms();
    struct fork_ctl *ctl = p->ctl;
    memset(ctl, 0, offsetof(struct fork_ctl, slots) + (size_t)n * sizeof(fork_slot));
    ctl->magic = FORK_MAGIC;
    ctl->version = FORK_VERSION;
    ctl->ctl_size = (uint32_t)sizeof *ctl;
    ctl->nworkers = n;
    atomic_store(&ctl->gen, p->gen);
    atomic_store(&ctl->limit, (uint64_t)p->gen << 32); /* no bands */
    for (int i = 0; i < n; i++) {
        atomic_store(&ctl->slots[i].claim, (uint64_t)p->gen << 32);
        atomic_store(&ctl->slots[i].end, 0);
    }

    p->pids = calloc((size_t)n, sizeof *p->pids);
    p->pfd = calloc((size_t)n + 1, sizeof *p->pfd);
    if (!p->pids || !p->pfd) {
        pool_kill(p);
        return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    }
    p->evfd = fd_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (p->evfd < 0) {
        int e = errno;
        pool_kill(p);
        return pp_fail(ctx, PP_ERR_BACKEND, "fork backend: eventfd: %s", strerror(e));
    }
    p->pfd[0] = (struct pollfd){.fd = p->evfd, .events = POLLIN};
    for (int i = 0; i < n; i++) p->pfd[i + 1] = (struct pollfd){.fd = -1, .events = POLLIN};

    /* Signals stay blocked from fork() until the worker has reset their dispositions, so no
       handler of the caller ever runs in a worker. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t parent = getpid();
    const char *what = NULL;
    int err = 0, started = 0;
    for (int i = 0; i < n; i++) {
        int life[2];
        if (pipe2(life, O_CLOEXEC) != 0) {
            what = "pipe2";
            err = errno;
            break;
        }
        life[0] = fd_high(life[0]);
        life[1] = fd_high(life[1]);
        if (life[0] < 0 || life[1] < 0) {
            what = "fcntl";
            err = errno;
            if (life[0] >= 0) close(life[0]);
            if (life[1] >= 0) close(life[1]);
            break;
        }
        atomic_store(&ctl->slots[i].state, W_STARTING);
        pid_t pid = fork();
        if (pid == 0) worker_main(ctl, i, life[1], p->evfd, parent, p->gen);
        int e = errno;
        close(life[1]); /* only the worker holds the write end: later workers never inherit it */
        if (pid < 0) {
            close(life[0]);
            atomic_store(&ctl->slots[i].state, W_UNUSED);
            what = "fork";
            err = e;
            break;
        }
        p->pids[i] = pid;
        p->pfd[i + 1].fd = life[0];
        atomic_store(&ctl->slots[i].pid, (int32_t)pid);
        started = p->n = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (what) {
        pool_kill(p);
        return pp_fail(ctx, PP_ERR_BACKEND,
                       "fork backend: cannot start worker %d of %d: %s: %s", started, n, what,
                       strerror(err));
    }
    p->fork_tid = gettid();
    pp_status st = pool_wait(p, ctx, &ctl->ready, (uint32_t)n, "during start-up", 0, NULL);
    if (st) {
        char msg[PP_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", ctx->errmsg);
        return pp_fail(ctx, PP_ERR_BACKEND, "fork backend: the pool could not start: %s", msg);
    }
    p->stats.pool_starts++;
    p->stats.workers = n;
    p->stats.last_startup_ms = now_ms() - t0;
    return PP_OK;
}

/* ---- the parent side: executor entry points ------------------------------------------------ */

static pp_status ensure_arena(pp_ctx *ctx)
{
    if (ctx->arena) {
        if (pp_arena_owner(ctx->arena) == getpid()) return PP_OK;
        return pp_fail(ctx, PP_ERR_BACKEND,
                       "fork backend: this context's shared arena belongs to process %d; a "
                       "context cannot be used in a child of fork(): create a new one there",
                       (int)pp_arena_owner(ctx->arena));
    }
    return pp_arena_create(ctx, sizeof(struct fork_ctl), &ctx->arena);
}

/* The thread that forked the pool still exists (its exit sends PDEATHSIG to the workers). */
static bool fork_thread_alive(const struct pp_fork_pool *p)
{
    return syscall(SYS_tgkill, getpid(), p->fork_tid, 0) == 0 || errno != ESRCH;
}

static pp_status ensure_pool(pp_ctx *ctx, struct pp_fork_pool **out)
{
    pp_status st = ensure_arena(ctx);
    if (st) return st;
    struct pp_fork_pool *p = ctx->pool;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
        p->owner = getpid();
        p->evfd = -1;
        p->ctl = pp_arena_reserved(ctx->arena);
        ctx->pool = p;
    }
    int want = pp_workers_setting(ctx);
    if (want > FORK_MAX_WORKERS) want = FORK_MAX_WORKERS;
    if (want < 1) want = 1;
    if (p->n > 0 && p->n != want) pool_stop(p);
    /* Workers forked by a thread that has exited got SIGKILL from PDEATHSIG (or will): that is
       not a crash, start a fresh pool from this thread. */
    if (p->n > 0 && !fork_thread_alive(p)) pool_kill(p);
    if (p->n == 0 && (st = pool_start(p, ctx, want))) return st;
    *out = p;
    return PP_OK;
}

/* The bytes a view spans, or false when it is not entirely inside the arena. */
static bool view_visible(pp_ctx *ctx, const pp_view *v)
{
    if (!v->data) return true; /* an absent view (no aux) */
    if (v->width <= 0 || v->height <= 0 || v->channels <= 0)
        return pp_arena_contains(ctx->arena, v->data, 0);
    size_t row = (size_t)v->width * (size_t)v->channels;
    size_t h1 = (size_t)v->height - 1;
    if (v->stride && h1 > (SIZE_MAX - row) / v->stride) return false;
    return pp_arena_contains(ctx->arena, v->data, h1 * v->stride + row);
}

static pp_status fork_run(pp_ctx *ctx, const pp_stage *st)
{
    if (!ctx || !st || !st->kernel) return pp_fail(ctx, PP_ERR_INVALID, "fork backend: no kernel");
    if (st->rows <= 0) return PP_OK;
    if (st->scratch_bytes > SIZE_MAX / 2)
        return pp_fail(ctx, PP_ERR_BACKEND, "fork backend: %zu bytes of kernel scratch requested",
                       st->scratch_bytes);
    struct pp_fork_pool *p = NULL;
    pp_status status = ensure_pool(ctx, &p);
    if (status) return status;

    const struct {
        const char *name;
        bool ok;
    } checks[] = {
        {"source", view_visible(ctx, &st->src)},
        {"auxiliary", view_visible(ctx, &st->aux)},
        {"destination", view_visible(ctx, &st->dst)},
        {"partial-results", !st->partials || pp_arena_contains(ctx->arena, st->partials, 1)},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (!checks[i].ok)
            return pp_fail(ctx, PP_ERR_BACKEND,
                           "fork backend: the stage's %s buffer is not in the shared arena, so "
                           "the worker processes cannot see it",
                           checks[i].name);

    const int br = pp_stage_band_rows(ctx, st, p->n);
    const int nb = pp_band_count(st->rows, br);

    /* A worker that died since the last stage fails this one (and restarts the pool next). */
    for (int i = 0; i < p->n; i++) p->pfd[i + 1].revents = 0;
    while (poll(p->pfd + 1, (nfds_t)p->n, 0) < 0 && errno == EINTR) {
    }
    if ((status = check_deaths(p, ctx, "while idle"))) return status;

    if ((status = pp_progress_report(ctx, 0, nb))) return status;
    double t0 = now_ms();
    struct fork_ctl *ctl = p->ctl;
    memcpy(&ctl->stage, st, sizeof *st);
    ctl->band_rows = br;
    ctl->nbands = nb;
    atomic_store_explicit(&ctl->done, 0, memory_order_relaxed);
    atomic_store_explicit(&ctl->fail_errno, 0, memory_order_relaxed);
    atomic_store_explicit(&ctl->fail_worker, -1, memory_order_relaxed);
    const uint32_t g = ++p->gen;
    atomic_store_explicit(&ctl->limit, (uint64_t)g << 32 | (uint32_t)nb, memory_order_relaxed);
    for (int i = 0; i < p->n; i++) { /* worker i's share: bands [i nb / n, (i + 1) nb / n) */
        /* claim before end, end with release: a worker still in generation g - 1 that loads
           the new end (acquire) also sees the new tag, so it cannot take a band "of g - 1"
           below the new end */
        const uint32_t first = (uint32_t)((int64_t)i * nb / p->n);
        atomic_store_explicit(&ctl->slots[i].claim, (uint64_t)g << 32 | first,
                              memory_order_relaxed);
        atomic_store_explicit(&ctl->slots[i].end, (uint32_t)((int64_t)(i + 1) * nb / p->n),
                              memory_order_release);
    }
    atomic_store_explicit(&ctl->gen, g, memory_order_release);
    futex(&ctl->gen, FUTEX_WAKE, (uint32_t)(nb < p->n ? nb : p->n), NULL);

    bool cancelled = false;
    if ((status = pool_wait(p, ctx, &ctl->done, (uint32_t)nb, "", g, &cancelled))) return status;
    if (cancelled)
        return pp_fail(ctx, PP_ERR_INTERRUPTED, "interrupted by the progress callback (%d of %d "
                       "bands of a stage done)", (int)atomic_load(&ctl->done), nb);

    int e = atomic_load_explicit(&ctl->fail_errno, memory_order_acquire);
    if (e)
        return pp_fail(ctx, PP_ERR_NOMEM, "fork worker %d: cannot map %zu bytes of kernel "
                       "scratch: %s", (int)atomic_load(&ctl->fail_worker), st->scratch_bytes,
                       strerror(e));
    double ms = now_ms() - t0;
    p->stats.stages++;
    p->stats.last_stage_ms = ms;
    p->stats.total_stage_ms += ms;
    return pp_progress_report(ctx, nb, nb);
}

static void arena_release_block(void *owner, void *ptr, size_t bytes)
{
    pp_arena_release(owner, ptr, bytes);
}

static pp_status fork_alloc(pp_ctx *ctx, size_t bytes, pp_block *out)
{
    *out = (pp_block){0};
    pp_status st = ensure_arena(ctx);
    if (st) return st;
    void *ptr = pp_arena_alloc(ctx->arena, bytes);
    if (!ptr) {
        pp_arena_stats s;
        pp_arena_get_stats(ctx->arena, &s);
        return pp_fail(ctx, PP_ERR_NOMEM,
                       "the fork backend's shared arena is full: %zu bytes requested, %zu of %zu "
                       "bytes in use",
                       bytes, s.in_use, s.size - s.reserved);
    }
    *out = (pp_block){ptr, bytes, arena_release_block, ctx->arena};
    return PP_OK;
}

/* The workers of a pool as the context asks for them (the pool itself stops at
   FORK_MAX_WORKERS). */
static int fork_workers(const pp_ctx *ctx) { return pp_workers_setting(ctx); }

static bool fork_can_see(pp_ctx *ctx, const void *ptr)
{
    return ctx->arena && pp_arena_contains(ctx->arena, ptr, 0);
}

/* Stops and reaps the context's worker processes, closes their fds and drops the context's
   arena reference (pp_ctx_free, through the executor table). */
static void fork_teardown(pp_ctx *ctx)
{
    if (!ctx) return;
    struct pp_fork_pool *p = ctx->pool;
    if (p) {
        if (p->owner == getpid()) {
            pool_stop(p);
        } else {
            /* A copy inherited through the caller's fork(): the workers are not ours to stop;
               only close our copies of the fds. */
            for (int i = 0; p->pfd && i < p->n; i++) close(p->pfd[i + 1].fd);
            if (p->evfd >= 0) close(p->evfd);
            free(p->pids);
            free(p->pfd);
        }
        free(p);
        ctx->pool = NULL;
    }
    if (ctx->arena) {
        pp_arena_unref(ctx->arena);
        ctx->arena = NULL;
    }
}

const pp_executor pp_exec_fork = {"fork", fork_run, fork_workers, fork_alloc, fork_can_see,
                                  fork_teardown};

void pp_fork_get_stats(const pp_ctx *ctx, pp_fork_stats *out)
{
    memset(out, 0, sizeof *out);
    if (ctx && ctx->pool) {
        *out = ctx->pool->stats;
        out->workers = ctx->pool->n;
    }
}

int pp_fork_worker_pids(const pp_ctx *ctx, pid_t *pids, int max)
{
    if (!ctx || !ctx->pool) return 0;
    const struct pp_fork_pool *p = ctx->pool;
    for (int i = 0; i < p->n && i < max; i++) pids[i] = p->pids[i];
    return p->n;
}
