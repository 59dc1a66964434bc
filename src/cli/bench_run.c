/*
 * bench_run.c - the measurements of `pixpool bench`: start-up costs of each backend, the timed
 * cells of one workload (check first, then warm-up, then timed runs alternated between cells),
 * and the throughput of `pixpool batch` run as a child process.
 *
 * Timing rules: CLOCK_MONOTONIC around pp_pipeline_run only (the output image is freed outside
 * the timed span); every cell's first run is an untimed check whose output is hashed and
 * compared with serial's; the timed runs go round the cells in turn (A B C A B C ..., starting
 * one cell later each round) so that a change of machine load hits every cell alike. Before
 * each run the process waits until its own threads are idle (see settle()), so that one cell's
 * leftovers (an OpenMP team spinning for milliseconds after its region) do not slow the next.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define DISPATCH_RUNS 301

/* The progress callback of every context bench makes: SIGINT/SIGTERM (cmd_bench.c sets
   bench_interrupted) stop a run between bands, so a long cell does not delay Ctrl-C; the
   library then returns PP_ERR_INTERRUPTED, reported by nobody (bench exits 130). */
static int bench_progress(void *user, int done, int total)
{
    (void)user;
    (void)done;
    (void)total;
    return bench_interrupted != 0;
}

/* ---- start-up costs ------------------------------------------------------------------------ */

/* A context for `backend` with `workers` workers and one band per row. */
static pp_ctx *tiny_ctx(int backend, int workers)
{
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) return NULL;
    pp_ctx_set_progress(ctx, bench_progress, NULL);
    if (pp_ctx_set_backend(ctx, (pp_backend)backend) || pp_ctx_set_workers(ctx, workers) ||
        pp_ctx_set_band_rows(ctx, 1)) {
        pp_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Runs the pipeline once and returns its time in ms, or -1 (reported). */
static double timed_run(pp_ctx *ctx, const pp_pipeline *pl, const pp_image *in, const char *what)
{
    pp_image *out = NULL;
    double t0 = bench_now_ms();
    pp_status st = pp_pipeline_run(ctx, pl, in, &out);
    double t = bench_now_ms() - t0;
    if (st) {
        if (st != PP_ERR_INTERRUPTED) cli_error("%s: %s", what, pp_ctx_last_error(ctx));
        return -1;
    }
    pp_image_free(out);
    return t;
}

/* Median of `n` runs in ms, or -1 (reported). */
static double median_runs(pp_ctx *ctx, const pp_pipeline *pl, const pp_image *in, int n,
                          const char *what)
{
    double *v = malloc((size_t)n * sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < n; i++) {
        if ((v[i] = timed_run(ctx, pl, in, what)) < 0) {
            free(v);
            return -1;
        }
    }
    bench_stats s;
    bench_summarise(v, n, &s);
    free(v);
    return s.median;
}

/* First run and per-run median of the tiny pipeline on a fresh context of `backend`. For fork,
   also the arena creation (the first allocation) and the pool's teardown. */
static int startup_backend(int backend, const pp_pipeline *pl, bench_startup *s, double *first,
                           double *per, double *arena, double *teardown)
{
    char what[64];
    snprintf(what, sizeof what, "start-up of the %s backend", bench_backend_name(backend));
    pp_ctx *ctx = tiny_ctx(backend, s->workers);
    pp_image *in = NULL;
    if (!ctx) {
        cli_error("%s: out of memory", what);
        return -1;
    }
    double t0 = bench_now_ms();
    pp_status st = pp_image_new(ctx, s->tiny_w, s->tiny_h, 3, &in);
    if (arena) *arena = bench_now_ms() - t0;
    if (st) {
        cli_error("%s: %s", what, pp_ctx_last_error(ctx));
        pp_ctx_free(ctx);
        return -1;
    }
    bench_fill_image(in, 3);
    int rc = -1;
    if ((*first = timed_run(ctx, pl, in, what)) < 0) goto done;
    if ((*per = median_runs(ctx, pl, in, s->dispatch_runs, what)) < 0) goto done;
    if (backend == PP_BACKEND_FORK) { /* first touch of shared-arena pages vs reuse */
        pp_image *big = NULL;
        t0 = bench_now_ms();
        st = pp_image_new(ctx, s->touch_w, s->touch_h, s->touch_c, &big);
        s->arena_first = bench_now_ms() - t0;
        if (st) {
            cli_error("%s: %s", what, pp_ctx_last_error(ctx));
            goto done;
        }
        t0 = bench_now_ms();
        memset(pp_image_data(big), 1, s->touch_bytes);
        s->arena_reuse = bench_now_ms() - t0;
        pp_image_free(big);
    }
    rc = 0;
done:
    pp_image_free(in);
    t0 = bench_now_ms();
    pp_ctx_free(ctx);
    if (teardown) *teardown = bench_now_ms() - t0;
    return rc;
}

int bench_measure_startup(int workers, int want_openmp, int want_fork, int width, int height,
                          int channels, bench_startup *s)
{
    memset(s, 0, sizeof *s);
    s->workers = workers;
    s->tiny_w = 16;
    s->tiny_h = workers; /* band rows 1: one band per worker */
    s->dispatch_runs = DISPATCH_RUNS;
    s->touch_w = width;
    s->touch_h = height;
    s->touch_c = channels;
    s->touch_bytes = (size_t)width * (size_t)height * (size_t)channels;
    s->omp_first = s->omp_dispatch = -1;
    s->fork_arena = s->fork_first = s->fork_dispatch = s->fork_teardown = -1;
    s->arena_first = s->arena_reuse = -1;

    pp_ctx *pctx = pp_ctx_new();
    pp_pipeline *pl = NULL;
    if (!pctx || pp_pipeline_new(pctx, &pl) || pp_pipeline_add_spec(pctx, pl, "invert")) {
        cli_error("start-up costs: %s", pctx ? pp_ctx_last_error(pctx) : "out of memory");
        pp_pipeline_free(pl);
        pp_ctx_free(pctx);
        return -1;
    }
    int rc = -1;
    /* The fork pool first: before this process has started any OpenMP thread (the workers are
       forks of it), and so that it pays its own start-up only. Then OpenMP, whose thread team
       is process-wide: only the first parallel region of the process starts it. */
    if (want_fork) {
        if (startup_backend(PP_BACKEND_FORK, pl, s, &s->fork_first, &s->fork_dispatch,
                            &s->fork_arena, &s->fork_teardown))
            goto done;
        s->fork_measured = 1;
    }
    if (want_openmp) {
        if (startup_backend(PP_BACKEND_OPENMP, pl, s, &s->omp_first, &s->omp_dispatch, NULL, NULL))
            goto done;
        s->openmp_measured = 1;
    }
    if (startup_backend(PP_BACKEND_SERIAL, pl, s, &s->serial_first, &s->serial_dispatch, NULL,
                        NULL))
        goto done;
    /* first touch of heap pages (a fresh image: allocate and zero it) vs writing it again */
    pp_image *big = NULL;
    double t0 = bench_now_ms();
    if (pp_image_new(pctx, width, height, channels, &big)) {
        cli_error("start-up costs: %s", pp_ctx_last_error(pctx));
        goto done;
    }
    s->heap_first = bench_now_ms() - t0;
    t0 = bench_now_ms();
    memset(pp_image_data(big), 1, s->touch_bytes);
    s->heap_reuse = bench_now_ms() - t0;
    pp_image_free(big);
    rc = 0;
done:
    pp_pipeline_free(pl);
    pp_ctx_free(pctx);
    return rc;
}

/* ---- one workload ---------------------------------------------------------------------------- */

typedef struct cell_state {
    pp_ctx *ctx;
    pp_image *own_in; /* the fork backend's copy of the input, in its shared arena */
    const pp_image *in;
    double first_ms; /* the check run */
    double *times;
    double cpu_ms, wall_ms; /* over every run of the cell, check and warm-up included */
} cell_state;

static double cpu_ms(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru)) return 0;
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* 1 when a thread of this process other than the caller is running or runnable ('R' in
   /proc/self/task/TID/stat), 0 when none is, -1 when that cannot be read. */
static int other_thread_running(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    const long self = (long)gettid();
    int busy = 0;
    struct dirent *e;
    while (!busy && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atol(e->d_name) == self) continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue; /* the thread has just exited */
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        const char *st = strrchr(buf, ')'); /* the state follows the command name */
        if (st && st[1] == ' ' && st[2] == 'R') busy = 1;
    }
    closedir(d);
    return busy;
}

/* Waits until the other threads of this process are idle: an OpenMP team keeps spinning for
   several milliseconds after a parallel region (libgomp: about 10 ms here), and a fork or
   serial run timed in that window shares the cores with it. Gives up after 100 ms (a busy
   thread of the caller). Fork workers are other processes: they sleep on their futex as soon
   as a stage is done. */
static void settle(void)
{
    for (int i = 0; i < 200 && other_thread_running() == 1; i++) usleep(500);
}

/* One run of a cell: its time in ms (-1 on error, reported); CPU and wall time accumulated. */
static double cell_run(cell_state *cs, const bench_cell *c, const pp_pipeline *pl,
                       const char *label, pp_image **keep)
{
    pp_image *out = NULL;
    settle();
    double c0 = cpu_ms(RUSAGE_SELF);
    double t0 = bench_now_ms();
    pp_status st = pp_pipeline_run(cs->ctx, pl, cs->in, &out);
    double t = bench_now_ms() - t0;
    cs->cpu_ms += cpu_ms(RUSAGE_SELF) - c0;
    cs->wall_ms += t;
    if (st) {
        if (st != PP_ERR_INTERRUPTED)
            cli_error("%s: %s with %d worker%s: %s", label, bench_backend_name(c->backend),
                      c->workers, c->workers == 1 ? "" : "s", pp_ctx_last_error(cs->ctx));
        return -1;
    }
    if (keep) *keep = out;
    else pp_image_free(out);
    return t;
}

static void cell_name(const bench_cell *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s with %d worker%s", bench_backend_name(c->backend), c->workers,
             c->workers == 1 ? "" : "s");
}

int bench_measure_workload(bench_report *r, const pp_image *src, bench_workload *w)
{
    /* the cells: serial first (the baseline), then each parallel backend at each worker count */
    int n = 1;
    for (int b = 0; b < r->nbackends; b++)
        if (r->backends[b] != PP_BACKEND_SERIAL) n += r->nworkers;
    w->cells = calloc((size_t)n, sizeof *w->cells);
    cell_state *cs = calloc((size_t)n, sizeof *cs);
    pp_ctx *pctx = pp_ctx_new();
    pp_pipeline *pl = NULL;
    int rc = -1, mismatch = 0;
    if (!w->cells || !cs || !pctx || pp_pipeline_new(pctx, &pl)) {
        cli_error("out of memory");
        goto done;
    }
    for (int i = 0; i < w->nspecs; i++)
        if (pp_pipeline_add_spec(pctx, pl, w->specs[i])) {
            cli_error("%s", pp_ctx_last_error(pctx));
            goto done;
        }
    w->ncells = n;
    w->cells[0].backend = PP_BACKEND_SERIAL;
    w->cells[0].workers = 1;
    for (int b = 0, k = 1; b < r->nbackends; b++) {
        if (r->backends[b] == PP_BACKEND_SERIAL) continue;
        for (int j = 0; j < r->nworkers; j++, k++) {
            w->cells[k].backend = r->backends[b];
            w->cells[k].workers = r->workers[j];
        }
    }
    const int iw = pp_image_width(src), ih = pp_image_height(src), ic = pp_image_channels(src);
    const double mpix = (double)iw * ih / 1e6;
    char name[64];
    for (int k = 0; k < n; k++) {
        bench_cell *c = &w->cells[k];
        c->karp_flatt = NAN;
        cs[k].ctx = pp_ctx_new();
        if (!cs[k].ctx || pp_ctx_set_backend(cs[k].ctx, (pp_backend)c->backend) ||
            pp_ctx_set_workers(cs[k].ctx, c->workers)) {
            cli_error("out of memory");
            goto done;
        }
        pp_ctx_set_max_pixels(cs[k].ctx, (uint64_t)1 << 40);
        pp_ctx_set_progress(cs[k].ctx, bench_progress, NULL);
        cs[k].in = src;
        if (c->backend == PP_BACKEND_FORK) { /* the input lives in the arena, as pp_load puts it */
            if (pp_image_new_depth(cs[k].ctx, iw, ih, ic, pp_image_depth(src), &cs[k].own_in)) {
                cli_error("%s: %s", w->label, pp_ctx_last_error(cs[k].ctx));
                goto done;
            }
            const uint8_t *s = pp_image_data((pp_image *)src);
            uint8_t *d = pp_image_data(cs[k].own_in);
            for (int y = 0; y < ih; y++)
                memcpy(d + (size_t)y * pp_image_stride(cs[k].own_in),
                       s + (size_t)y * pp_image_stride((pp_image *)src),
                       (size_t)iw * ic * (size_t)(pp_image_depth(src) / 8));
            cs[k].in = cs[k].own_in;
        }
    }

    /* check: every cell's output must be byte-identical to serial's */
    for (int k = 0; k < n; k++) {
        bench_cell *c = &w->cells[k];
        pp_image *out = NULL;
        if ((cs[k].first_ms = cell_run(&cs[k], c, pl, w->label, &out)) < 0) {
            if (bench_interrupted) rc = EXIT_INTERRUPTED;
            goto done;
        }
        c->hash = bench_hash_image(out);
        if (k == 0) {
            w->hash = c->hash;
            w->out_w = pp_image_width(out);
            w->out_h = pp_image_height(out);
            w->out_c = pp_image_channels(out);
        }
        pp_image_free(out);
        c->identical = c->hash == w->hash;
        if (!c->identical) {
            cell_name(c, name, sizeof name);
            cli_error("%s: %s gives hash %016llx, serial gives %016llx: the results differ "
                      "(not timed)",
                      w->label, name, (unsigned long long)c->hash, (unsigned long long)w->hash);
            mismatch = 1;
        }
        if (bench_interrupted) {
            rc = EXIT_INTERRUPTED;
            goto done;
        }
    }

    /* how many timed runs: --repeat, or, when it was not given, as many as fit the budget */
    int repeat = r->repeat;
    if (r->repeat_auto && r->budget_ms > 0) {
        double round = 0;
        for (int k = 0; k < n; k++)
            if (w->cells[k].identical) round += cs[k].first_ms;
        double fit = round > 0 ? r->budget_ms / round - r->warmup : repeat;
        if (fit < repeat) {
            repeat = fit < 3 ? 3 : (int)fit;
            if (repeat < r->repeat) r->repeat_reduced = 1;
        }
        /* short cells get more runs (as hyperfine does): each timed for at least
           BENCH_MIN_CELL_MS in all, within the budget and BENCH_MAX_AUTO_REPEAT runs */
        double shortest = 0;
        int ks = -1;
        for (int k = 0; k < n; k++)
            if (w->cells[k].identical && cs[k].first_ms > 0 &&
                (shortest == 0 || cs[k].first_ms < shortest)) {
                shortest = cs[k].first_ms;
                ks = k;
            }
        /* a first run pays first touches: the fastest of a few more (untimed) runs is the
           estimate */
        for (int i = 0; ks >= 0 && i < 5 && shortest * repeat < BENCH_MIN_CELL_MS; i++) {
            double t = cell_run(&cs[ks], &w->cells[ks], pl, w->label, NULL);
            if (t < 0) {
                if (bench_interrupted) rc = EXIT_INTERRUPTED;
                goto done;
            }
            if (t > 0 && t < shortest) shortest = t;
        }
        if (shortest > 0 && shortest * repeat < BENCH_MIN_CELL_MS) {
            double want = ceil(BENCH_MIN_CELL_MS / shortest);
            double cap = round > 0 ? r->budget_ms / round - r->warmup : want;
            if (want > cap) want = cap;
            if (want > BENCH_MAX_AUTO_REPEAT) want = BENCH_MAX_AUTO_REPEAT;
            if (want > repeat) repeat = (int)want;
        }
    }
    for (int k = 0; k < n; k++)
        if (!(cs[k].times = malloc((size_t)repeat * sizeof(double)))) {
            cli_error("out of memory");
            goto done;
        }
    for (int i = 0; i < r->warmup + repeat; i++) {
        for (int j = 0; j < n; j++) {
            int k = (i + j) % n; /* a different cell leads each round */
            bench_cell *c = &w->cells[k];
            if (!c->identical) continue;
            double t = cell_run(&cs[k], c, pl, w->label, NULL);
            if (t < 0) {
                if (bench_interrupted) rc = EXIT_INTERRUPTED;
                goto done;
            }
            if (i >= r->warmup) cs[k].times[i - r->warmup] = t;
            if (bench_interrupted) {
                rc = EXIT_INTERRUPTED;
                goto done;
            }
        }
    }
    /* Free the contexts now: a fork pool's workers are reaped, so their CPU time shows in
       RUSAGE_CHILDREN. */
    for (int k = 0; k < n; k++) {
        double c0 = cpu_ms(RUSAGE_CHILDREN);
        pp_ctx_free(cs[k].ctx);
        cs[k].ctx = NULL;
        cs[k].cpu_ms += cpu_ms(RUSAGE_CHILDREN) - c0;
        pp_image_free(cs[k].own_in);
        cs[k].own_in = NULL;
        w->cells[k].cpu_over_wall = cs[k].wall_ms > 0 ? cs[k].cpu_ms / cs[k].wall_ms : NAN;
    }
    for (int k = 0; k < n; k++) {
        bench_cell *c = &w->cells[k];
        if (!c->identical) continue;
        bench_summarise(cs[k].times, repeat, &c->t);
        c->timed = 1;
        c->mpix_s = c->t.median > 0 ? mpix / (c->t.median / 1e3) : 0;
    }
    const double base = w->cells[0].t.median;
    for (int k = 0; k < n; k++) {
        bench_cell *c = &w->cells[k];
        if (!c->timed || base <= 0 || c->t.median <= 0) continue;
        c->speedup = base / c->t.median;
        c->efficiency = c->speedup / c->workers;
        if (c->workers > 1) {
            double p = c->workers;
            c->karp_flatt = (1.0 / c->speedup - 1.0 / p) / (1.0 - 1.0 / p);
        }
    }
    for (int k = 0; k < n; k++) bench_flag_cell(&w->cells[k], &w->cells[0]);
    rc = mismatch ? 1 : 0;
done:
    for (int k = 0; cs && k < n; k++) {
        free(cs[k].times);
        pp_image_free(cs[k].own_in);
        pp_ctx_free(cs[k].ctx);
    }
    free(cs);
    pp_pipeline_free(pl);
    pp_ctx_free(pctx);
    return rc;
}

/* ---- pixpool batch ------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Counts the images in `dir` (its own files, as batch without -r sees them) and their
   megapixels, reading headers only. */
static int count_images(const char *dir, int *files, double *mpix)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("%s: %s", dir, strerror(errno));
        return -1;
    }
    pp_ctx *ctx = pp_ctx_new();
    struct dirent *e;
    char path[4096];
    *files = 0;
    *mpix = 0;
    while (ctx && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) || !S_ISREG(sb.st_mode)) continue;
        pp_image_info info;
        if (pp_info(ctx, path, &info)) continue;
        (*files)++;
        *mpix += (double)info.width * info.height / 1e6;
    }
    closedir(d);
    pp_ctx_free(ctx);
    return 0;
}

/* Runs argv with stdout on /dev/null and stderr into errpath; returns the exit status (or
   128 + signal, or -1) and the wall time, CPU time (user + system, children included). */
static int run_child(char *const *argv, const char *errpath, double *wall_s, double *cpu_s)
{
    double t0 = bench_now_ms();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        if (err >= 0) dup2(err, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    pid_t got;
    while ((got = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR) {
    }
    *wall_s = (bench_now_ms() - t0) / 1e3;
    if (got < 0) return -1;
    *cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
             ru.ru_stime.tv_usec / 1e6;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

static void first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(buf, (int)n, f)) buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

int bench_measure_batch(const bench_report *r, const char *dir, const char *const *specs,
                        int nspecs, int repeat, int warmup, bench_batch *b)
{
    memset(b, 0, sizeof *b);
    b->dir = dir;
    if (count_images(dir, &b->files, &b->megapixels)) return -1;
    if (b->files == 0) {
        cli_error("%s: no image pixpool can read in this folder", dir);
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    char base[4096], out[4200], errpath[4200], exe[4096];
    snprintf(base, sizeof base, "%s/pixpool-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) {
        cli_error("%s: cannot create a temporary folder: %s", base, strerror(errno));
        return -1;
    }
    snprintf(out, sizeof out, "%s/out", base);
    snprintf(errpath, sizeof errpath, "%s/stderr", base);
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        cli_error("cannot find this program's own path (/proc/self/exe): %s", strerror(errno));
        rm_tree(base);
        return -1;
    }
    exe[len] = 0;
    int rc = -1;
    double *times = malloc((size_t)repeat * sizeof *times);
    char **argv = calloc((size_t)(2 * nspecs + 12), sizeof *argv);
    char jobs[16];
    if (!times || !argv) {
        cli_error("out of memory");
        goto done;
    }
    int a = 0;
    argv[a++] = exe;
    argv[a++] = "batch";
    argv[a++] = "-j";
    argv[a++] = jobs;
    argv[a++] = "-t";
    argv[a++] = "1";
    for (int i = 0; i < nspecs; i++) {
        argv[a++] = "-f";
        argv[a++] = (char *)specs[i];
    }
    argv[a++] = (char *)dir;
    argv[a++] = out;
    argv[a++] = "--overwrite";
    argv[a] = NULL;
    for (int j = 0; j < r->nworkers; j++) {
        bench_batch_row *row = &b->rows[b->nrows];
        row->jobs = r->workers[j];
        snprintf(jobs, sizeof jobs, "%d", row->jobs);
        double cpu_sum = 0, wall_sum = 0;
        for (int i = 0; i < warmup + repeat; i++) {
            double wall = 0, cpu = 0;
            int st = run_child(argv, errpath, &wall, &cpu);
            if (bench_interrupted) {
                rc = EXIT_INTERRUPTED;
                goto done;
            }
            if (st != 0) {
                char msg[512];
                first_line(errpath, msg, sizeof msg);
                if (st == 2 && strstr(msg, "unknown command"))
                    cli_error("--batch: this pixpool has no 'batch' command (%s)", msg);
                else
                    cli_error("--batch: pixpool batch -j %d on %s failed (exit %d): %s", row->jobs,
                              dir, st, msg[0] ? msg : "no message");
                goto done;
            }
            if (i >= warmup) {
                times[i - warmup] = wall;
                cpu_sum += cpu;
                wall_sum += wall;
            }
            if (bench_interrupted) {
                rc = EXIT_INTERRUPTED;
                goto done;
            }
        }
        bench_summarise(times, repeat, &row->t);
        row->files_s = b->files / row->t.median;
        row->mpix_s = b->megapixels / row->t.median;
        row->cpu_over_wall = wall_sum > 0 ? cpu_sum / wall_sum : 0;
        row->speedup = b->rows[0].t.median / row->t.median;
        b->nrows++;
    }
    rc = 0;
done:
    free(times);
    free(argv);
    rm_tree(base);
    return rc;
}
