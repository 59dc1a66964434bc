/*
 * batch_run.c - runs the files of `pixpool batch`: the work on one file, the thread runner
 * (jobs are pthreads, each with its own pp_ctx, serial or OpenMP inside), the process runner
 * (a pool of pre-forked workers that each take whole files), signals, progress, the report.
 *
 * Interruption (SIGINT, SIGTERM): no new file is started. Threads finish the file they are on
 * (pp_save removes its own temporary file if it fails). Worker processes are killed at once;
 * the parent then removes the temporary files pp_save may have left next to the output each
 * worker was writing (".NAME.pp-tmp-XXXXXX"), so only complete outputs remain.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t batch_interrupted = 0;

/* ---- signals ----------------------------------------------------------------------------- */

static int g_sigpipe[2] = {-1, -1}; /* the handler writes a byte here to wake poll() */
static struct sigaction g_old_int, g_old_term;
static int g_installed;

static void on_signal(int sig)
{
    int saved = errno;
    batch_interrupted = sig;
    if (g_sigpipe[1] >= 0) {
        ssize_t r = write(g_sigpipe[1], "x", 1);
        (void)r;
    }
    errno = saved;
}

void batch_signals_install(void)
{
    if (g_installed) return;
    if (pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) g_sigpipe[0] = g_sigpipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
    g_installed = 1;
}

void batch_signals_restore(void)
{
    if (!g_installed) return;
    sigaction(SIGINT, &g_old_int, NULL);
    sigaction(SIGTERM, &g_old_term, NULL);
    for (int i = 0; i < 2; i++)
        if (g_sigpipe[i] >= 0) {
            close(g_sigpipe[i]);
            g_sigpipe[i] = -1;
        }
    g_installed = 0;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *run_join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s/%s", a, b) < 0) return NULL;
    return s;
}

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s ? s : strdup("out of memory");
}

/* a's modification time >= b's */
static int mtime_ge(const struct stat *a, const struct stat *b)
{
    if (a->st_mtim.tv_sec != b->st_mtim.tv_sec) return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
    return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

/* Creates the folders of out_rel below out_dir. A component that is a symbolic link is refused,
   so an output never lands outside OUTPUT_DIR. NULL on success, else a message. */
static char *make_dirs(const char *out_dir, const char *out_rel)
{
    char *p = run_join(out_dir, out_rel);
    if (!p) return strdup("out of memory");
    char *err = NULL;
    size_t len = strlen(p);
    for (size_t i = strlen(out_dir) + 1; i < len && !err; i++) {
        if (p[i] != '/') continue;
        p[i] = '\0';
        struct stat st;
        if (lstat(p, &st) != 0) {
            if (errno != ENOENT)
                err = msg("%s: %s", p, strerror(errno));
            else if (mkdir(p, 0777) != 0 && errno != EEXIST)
                err = msg("%s: cannot create the folder: %s", p, strerror(errno));
            else if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode))
                err = msg("%s: cannot create the folder", p);
        } else if (S_ISLNK(st.st_mode)) {
            err = msg("%s: is a symbolic link; refusing to write outside OUTPUT_DIR", p);
        } else if (!S_ISDIR(st.st_mode)) {
            err = msg("%s: exists and is not a folder", p);
        }
        p[i] = '/';
    }
    free(p);
    return err;
}

/* Removes what pp_save leaves when killed while writing out_path: "DIR/.BASE.pp-tmp-XXXXXX". */
static void sweep_temps(const char *out_path)
{
    const char *slash = strrchr(out_path, '/');
    char *dir = slash ? strndup(out_path, (size_t)(slash - out_path)) : strdup(".");
    const char *base = slash ? slash + 1 : out_path;
    char *prefix = msg(".%s.pp-tmp-", base);
    DIR *d = dir ? opendir(*dir ? dir : "/") : NULL;
    if (d) {
        size_t plen = strlen(prefix);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, prefix, plen) == 0 && strlen(e->d_name) == plen + 6)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    free(prefix);
    free(dir);
}

/* ---- one file ---------------------------------------------------------------------------- */

/* The progress callback of a job's context: SIGINT/SIGTERM stop the file in flight between
   bands (the library returns PP_ERR_INTERRUPTED and pp_save leaves no file); process_file
   then leaves it not done. (Worker processes ignore the signals and are killed instead.) */
static int job_progress(void *user, int done, int total)
{
    (void)user;
    (void)done;
    (void)total;
    return batch_interrupted != 0;
}

/* A context and pipeline for one job: serial, or OpenMP with `threads` threads. */
static pp_ctx *job_ctx(const batch_opts *o, int threads, pp_pipeline **pl, char **err)
{
    *pl = NULL;
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx || pp_pipeline_new(ctx, pl) != PP_OK) {
        pp_ctx_free(ctx);
        *err = strdup("out of memory");
        return NULL;
    }
    pp_ctx_set_backend(ctx, threads > 1 ? PP_BACKEND_OPENMP : PP_BACKEND_SERIAL);
    pp_ctx_set_workers(ctx, threads);
    pp_ctx_set_png_level(ctx, o->png_level);
    pp_ctx_set_jpeg_quality(ctx, o->quality);
    pp_ctx_set_jpeg_subsample(ctx, (pp_jpeg_subsample)o->jpeg_subsample);
    pp_ctx_set_jpeg_progressive(ctx, o->jpeg_progressive);
    pp_ctx_set_jpeg_optimize(ctx, o->jpeg_optimize);
    pp_ctx_set_tiff_compression(ctx, (pp_tiff_compression)o->tiff_compression);
    pp_ctx_set_strip(ctx, o->strip);
    pp_ctx_set_auto_orient(ctx, o->auto_orient);
    pp_ctx_set_save_depth(ctx, o->depth);
    pp_ctx_set_max_pixels(ctx, o->max_pixels);
    if (o->max_memory) pp_ctx_set_max_memory(ctx, o->max_memory);
    pp_ctx_set_progress(ctx, job_progress, NULL);
    for (int i = 0; i < o->nspecs; i++)
        if (pp_pipeline_add_spec(ctx, *pl, o->specs[i]) != PP_OK) {
            *err = msg("%s", pp_ctx_last_error(ctx));
            pp_pipeline_free(*pl);
            pp_ctx_free(ctx);
            *pl = NULL;
            return NULL;
        }
    return ctx;
}

/* Test hook of the process runner (tests/cli_batch.sh): a worker whose input path contains the
   value of PIXPOOL_TEST_CRASH leaves a temporary file as a killed pp_save would, then dies of
   SIGSEGV. */
static void crash_for_test(const batch_opts *o, const batch_item *it, const char *out_path)
{
    char *e = make_dirs(o->out_dir, it->out_rel);
    free(e);
    const char *slash = strrchr(out_path, '/');
    char *tmp = msg("%.*s.%s.pp-tmp-TEST00", (int)(slash - out_path + 1), out_path, slash + 1);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd >= 0) {
        ssize_t r = write(fd, "partial", 7);
        (void)r;
        close(fd);
    }
    free(tmp);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
}

static void process_file(const batch_opts *o, pp_ctx *ctx, const pp_pipeline *pl,
                         const batch_item *it, batch_result *r, const char *crash_hook)
{
    double t0 = now_s();
    pp_status st = PP_OK;
    memset(r, 0, sizeof *r);
    r->status = BR_FAILED;
    if (it->refused) {
        r->error = strdup(it->refused);
        r->ms = (now_s() - t0) * 1e3;
        return;
    }
    char *in = run_join(o->in_dir, it->rel), *out = run_join(o->out_dir, it->out_rel);
    pp_image *img = NULL, *res = NULL;
    struct stat ist, ost;
    if (!in || !out) {
        r->error = strdup("out of memory");
        goto done;
    }
    if (lstat(out, &ost) == 0) {
        if (S_ISDIR(ost.st_mode)) {
            r->error = msg("%s: exists and is a folder", out);
            goto done;
        }
        if (o->skip_existing) {
            if (stat(in, &ist) == 0 && stat(out, &ost) == 0 && mtime_ge(&ost, &ist)) {
                r->status = BR_SKIPPED;
                goto done;
            }
        } else if (!o->overwrite) {
            r->error = msg("%s: exists (use --overwrite or --skip-existing)", out);
            goto done;
        }
    }
    if (stat(in, &ist) != 0) {
        r->error = msg("%s: %s", in, strerror(errno));
        goto done;
    }
    if (!S_ISREG(ist.st_mode)) {
        r->error = msg("%s: not a regular file", in);
        goto done;
    }
    if (crash_hook && *crash_hook && strstr(it->rel, crash_hook)) crash_for_test(o, it, out);
    if ((st = pp_load(ctx, in, &img)) != PP_OK) {
        if (st != PP_ERR_INTERRUPTED) r->error = msg("%s", pp_ctx_last_error(ctx));
        goto done;
    }
    if (cli_depth_for_filters(ctx, o->depth, &img) != PP_OK) {
        r->error = msg("%s: %s", in, pp_ctx_last_error(ctx));
        goto done;
    }
    r->width = pp_image_width(img);
    r->height = pp_image_height(img);
    if ((st = pp_pipeline_run(ctx, pl, img, &res)) != PP_OK) {
        if (st != PP_ERR_INTERRUPTED) r->error = msg("%s: %s", in, pp_ctx_last_error(ctx));
        goto done;
    }
    pp_image_free(img); /* only the result is held while encoding */
    img = NULL;
    if ((r->error = make_dirs(o->out_dir, it->out_rel)) != NULL) goto done;
    if ((st = pp_save(ctx, res, out)) != PP_OK) {
        if (st != PP_ERR_INTERRUPTED) r->error = msg("%s", pp_ctx_last_error(ctx));
        goto done;
    }
    r->status = BR_OK;
done:
    if (st == PP_ERR_INTERRUPTED) r->status = BR_PENDING; /* stopped by a signal: not done */
    pp_image_free(img);
    pp_image_free(res);
    free(in);
    free(out);
    r->ms = (now_s() - t0) * 1e3;
}

/* ---- shared bookkeeping: counters, errors, progress, report ------------------------------ */

typedef struct runner {
    const batch_opts *o;
    batch_list *list;
    batch_result *res;
    FILE *report;
    int progress, jobs, threads;
    size_t next;   /* position in `order` of the next item to hand out */
    size_t *order; /* items by decreasing size: the largest start first */
    size_t done, ok, failed, skipped;
    uint64_t bytes_done, bytes_total;
    double mp, t0, last_draw;
    int line_len; /* length of the progress line on screen (0: none) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int running;
    char *setup_error;
} runner;

static void progress_clear(runner *R)
{
    if (R->line_len > 0) {
        fprintf(stderr, "\r%*s\r", R->line_len, "");
        R->line_len = 0;
    }
}

static void fmt_eta(char *buf, size_t n, double s)
{
    if (s < 0 || s > 360000 * 99) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress_draw(runner *R, int force)
{
    if (!R->progress) return;
    double now = now_s();
    if (!force && now - R->last_draw < 0.25) return;
    R->last_draw = now;
    double el = now - R->t0;
    double left = -1;
    if (R->bytes_done > 0 && R->bytes_total >= R->bytes_done)
        left = el * (double)(R->bytes_total - R->bytes_done) / (double)R->bytes_done;
    else if (R->done > 0)
        left = el * (double)(R->list->count - R->done) / (double)R->done;
    char eta[32], line[256];
    fmt_eta(eta, sizeof eta, left);
    int n = snprintf(line, sizeof line, "pixpool: %zu/%zu files, %zu failed, %.1f MP/s, ETA %s",
                     R->done, R->list->count, R->failed, el > 0 ? R->mp / el : 0.0, eta);
    if (n < 0) return;
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    fprintf(stderr, "\r%s%*s", line, R->line_len > n ? R->line_len - n : 0, "");
    R->line_len = n;
}

static void report_line(runner *R, size_t i)
{
    const batch_item *it = &R->list->items[i];
    const batch_result *r = &R->res[i];
    FILE *f = R->report;
    static const char *const names[] = {"pending", "ok", "failed", "skipped"};
    char *in = it->out_rel ? run_join(R->o->in_dir, it->rel) : NULL;
    char *out = it->out_rel ? run_join(R->o->out_dir, it->out_rel) : NULL;
    fputs("{\"input\":", f);
    cli_json_string(f, in ? in : it->rel);
    fputs(",\"output\":", f);
    if (out)
        cli_json_string(f, out);
    else
        fputs("null", f);
    fprintf(f, ",\"status\":\"%s\",\"error\":", names[r->status]);
    if (r->error)
        cli_json_string(f, r->error);
    else
        fputs("null", f);
    if (r->width > 0)
        fprintf(f, ",\"width\":%d,\"height\":%d", r->width, r->height);
    else
        fputs(",\"width\":null,\"height\":null", f);
    /* bytes: the input's size from the listing, the output's as written (ok files only) */
    struct stat st;
    if (it->size > 0)
        fprintf(f, ",\"bytes_in\":%llu", (unsigned long long)it->size);
    else
        fputs(",\"bytes_in\":null", f);
    if (r->status == BR_OK && out && stat(out, &st) == 0)
        fprintf(f, ",\"bytes_out\":%llu", (unsigned long long)st.st_size);
    else
        fputs(",\"bytes_out\":null", f);
    fprintf(f, ",\"ms\":%.3f}\n", r->ms);
    fflush(f);
    free(in);
    free(out);
}

/* Accounts for a finished file (under the lock in the thread runner). */
static void record(runner *R, size_t i)
{
    const batch_result *r = &R->res[i];
    if (r->status == BR_PENDING) return; /* interrupted: counted as not done, no report line */
    R->done++;
    R->bytes_done += R->list->items[i].size;
    switch (r->status) {
    case BR_OK:
        R->ok++;
        R->mp += (double)r->width * (double)r->height * 1e-6;
        break;
    case BR_SKIPPED: R->skipped++; break;
    default:
        R->failed++;
        progress_clear(R);
        fprintf(stderr, "pixpool: error: %s\n", r->error ? r->error : "failed");
        break;
    }
    if (R->report) report_line(R, i);
    progress_draw(R, 0);
}

static void announce_interrupt(runner *R, const char *what)
{
    progress_clear(R);
    fprintf(stderr, "pixpool: interrupted (%s): %s\n",
            batch_interrupted == SIGTERM ? "SIGTERM" : "SIGINT", what);
}

/* ---- thread runner ----------------------------------------------------------------------- */

static void *job_thread(void *arg)
{
    runner *R = arg;
    char *err = NULL;
    pp_pipeline *pl = NULL;
    pp_ctx *ctx = job_ctx(R->o, R->threads, &pl, &err);
    pthread_mutex_lock(&R->lock);
    if (!ctx) {
        if (!R->setup_error)
            R->setup_error = err;
        else
            free(err);
    }
    while (ctx && !batch_interrupted && R->next < R->list->count) {
        size_t i = R->order[R->next++];
        pthread_mutex_unlock(&R->lock);
        batch_result r;
        process_file(R->o, ctx, pl, &R->list->items[i], &r, NULL);
        pthread_mutex_lock(&R->lock);
        R->res[i] = r;
        record(R, i);
        pthread_cond_signal(&R->cond);
    }
    R->running--;
    pthread_cond_signal(&R->cond);
    pthread_mutex_unlock(&R->lock);
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
    return NULL;
}

static int run_threads(runner *R)
{
    pthread_t *tids = calloc((size_t)R->jobs, sizeof *tids);
    if (!tids) {
        cli_error("out of memory");
        return -1;
    }
    /* the jobs never take SIGINT/SIGTERM: the main thread does */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    pthread_mutex_lock(&R->lock);
    int started = 0, err = 0;
    for (int k = 0; k < R->jobs; k++) {
        err = pthread_create(&tids[k], NULL, job_thread, R);
        if (err) break;
        started++;
        R->running++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started == 0) {
        pthread_mutex_unlock(&R->lock);
        cli_error("cannot start a thread: %s", strerror(err));
        free(tids);
        return -1;
    }
    int announced = 0;
    while (R->running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&R->cond, &R->lock, &ts);
        if (batch_interrupted && !announced) {
            announced = 1;
            announce_interrupt(R, "stopping the files in flight");
        }
        progress_draw(R, 0);
    }
    pthread_mutex_unlock(&R->lock);
    for (int k = 0; k < started; k++) pthread_join(tids[k], NULL);
    free(tids);
    if (R->setup_error) {
        cli_error("%s", R->setup_error);
        return -1;
    }
    return 0;
}

/* ---- process runner ---------------------------------------------------------------------- */

/* What a worker sends back for each file, followed by `len` bytes of message. */
typedef struct wire {
    uint32_t idx;
    int32_t status, width, height;
    double ms;
    uint32_t len;
} wire;

#define WIRE_MAX PIPE_BUF /* one write() of at most PIPE_BUF bytes arrives whole */

typedef struct worker {
    pid_t pid;         /* 0: no worker in this slot */
    int task_fd;       /* parent writes item indices */
    int res_fd;        /* parent reads results */
    long cur;          /* item being worked on, -1 when idle */
    int killed;        /* the parent killed it (interrupt) */
} worker;

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return (int)got == 0 && r == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, (const char *)buf + put, n - put);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        put += (size_t)r;
    }
    return 0;
}

static void worker_main(runner *R, int task_fd, int res_fd)
{
    char *err = NULL;
    pp_pipeline *pl = NULL;
    pp_ctx *ctx = job_ctx(R->o, R->threads, &pl, &err);
    const char *hook = getenv("PIXPOOL_TEST_CRASH");
    for (;;) {
        uint32_t idx;
        if (read_full(task_fd, &idx, sizeof idx) != 1 || idx >= R->list->count) break;
        batch_result r;
        if (ctx) {
            process_file(R->o, ctx, pl, &R->list->items[idx], &r, hook);
        } else {
            memset(&r, 0, sizeof r);
            r.status = BR_FAILED;
            r.error = strdup(err ? err : "worker setup failed");
        }
        char buf[WIRE_MAX];
        wire w = {idx, r.status, r.width, r.height, r.ms, 0};
        if (r.error) {
            size_t len = strlen(r.error), room = sizeof buf - sizeof w;
            w.len = (uint32_t)(len < room ? len : room);
            memcpy(buf + sizeof w, r.error, w.len);
        }
        memcpy(buf, &w, sizeof w);
        free(r.error);
        if (write_full(res_fd, buf, sizeof w + w.len) != 0) break;
    }
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
    free(err);
}

static int spawn_worker(runner *R, worker *ws, int nws, int k)
{
    int tp[2], rp[2];
    if (pipe2(tp, O_CLOEXEC) != 0) return -1;
    if (pipe2(rp, O_CLOEXEC) != 0) {
        close(tp[0]);
        close(tp[1]);
        return -1;
    }
    if (R->report) fflush(R->report);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(tp[0]);
        close(tp[1]);
        close(rp[0]);
        close(rp[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* the parent decides what an interrupt means for the files in flight */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        for (int j = 0; j < nws; j++)
            if (j != k && ws[j].pid > 0) {
                close(ws[j].task_fd);
                close(ws[j].res_fd);
            }
        for (int i = 0; i < 2; i++)
            if (g_sigpipe[i] >= 0) close(g_sigpipe[i]);
        close(tp[1]);
        close(rp[0]);
        worker_main(R, tp[0], rp[1]);
        _exit(0); /* never exit(): that would flush the parent's buffered report again */
    }
    close(tp[0]);
    close(rp[1]);
    ws[k].pid = pid;
    ws[k].task_fd = tp[1];
    ws[k].res_fd = rp[0];
    ws[k].cur = -1;
    ws[k].killed = 0;
    return 0;
}

/* A worker's result pipe closed: reap it, fail (or abandon) its file, clean up after it. */
static void worker_died(runner *R, worker *w)
{
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(w->task_fd);
    close(w->res_fd);
    long i = w->cur;
    if (i >= 0) {
        batch_item *it = &R->list->items[i];
        char *out = it->out_rel ? run_join(R->o->out_dir, it->out_rel) : NULL;
        if (out) sweep_temps(out);
        free(out);
        if (!w->killed) {
            batch_result *r = &R->res[i];
            char *in = run_join(R->o->in_dir, it->rel);
            memset(r, 0, sizeof *r);
            r->status = BR_FAILED;
            if (WIFSIGNALED(status))
                r->error = msg("%s: worker killed by signal %d (%s)", in, WTERMSIG(status),
                               strsignal(WTERMSIG(status)));
            else
                r->error = msg("%s: worker exited with status %d", in,
                               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            free(in);
            record(R, (size_t)i);
        }
    }
    w->pid = 0;
    w->cur = -1;
}

static int run_fork(runner *R)
{
    int n = R->jobs;
    worker *ws = calloc((size_t)n, sizeof *ws);
    size_t *requeue = calloc((size_t)n, sizeof *requeue); /* items whose hand-out failed */
    struct pollfd *pfd = calloc((size_t)n + 1, sizeof *pfd);
    int *pw = calloc((size_t)n + 1, sizeof *pw);
    if (!ws || !requeue || !pfd || !pw) {
        free(ws);
        free(requeue);
        free(pfd);
        free(pw);
        cli_error("out of memory");
        return -1;
    }
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    int alive = 0, rc = 0, spawn_errno = 0;
    for (int k = 0; k < n; k++) {
        if (spawn_worker(R, ws, n, k) == 0)
            alive++;
        else
            spawn_errno = errno;
    }
    if (alive == 0) {
        cli_error("cannot start a worker process: %s", strerror(spawn_errno));
        rc = -1;
    }
    size_t nrequeue = 0;
    int announced = 0, spawn_failed = alive == 0, idle_deaths = 0;
    while (rc == 0) {
        if (batch_interrupted && !announced) {
            announced = 1;
            announce_interrupt(R, "abandoning the files in flight");
            for (int k = 0; k < n; k++)
                if (ws[k].pid > 0 && ws[k].cur >= 0) {
                    kill(ws[k].pid, SIGKILL);
                    ws[k].killed = 1;
                }
        }
        /* hand out files to idle workers */
        for (int k = 0; k < n && !batch_interrupted; k++) {
            if (ws[k].pid <= 0 || ws[k].cur >= 0 || ws[k].killed) continue;
            size_t i;
            if (nrequeue > 0)
                i = requeue[--nrequeue];
            else if (R->next < R->list->count)
                i = R->order[R->next++];
            else
                break;
            uint32_t idx = (uint32_t)i;
            if (write_full(ws[k].task_fd, &idx, sizeof idx) != 0) {
                requeue[nrequeue++] = i; /* it never got the file: another worker will */
                kill(ws[k].pid, SIGKILL);
                ws[k].killed = 1;
            } else {
                ws[k].cur = (long)i;
            }
        }
        int busy = 0, live = 0;
        for (int k = 0; k < n; k++)
            if (ws[k].pid > 0) {
                live++;
                if (ws[k].cur >= 0 || ws[k].killed) busy++;
            }
        int work_left = nrequeue > 0 || R->next < R->list->count;
        if (busy == 0 && (batch_interrupted || !work_left)) break;
        if (live == 0) { /* and no worker could be started again */
            cli_error("cannot start a worker process: %s; %zu files not processed",
                      strerror(spawn_errno), R->list->count - R->done);
            rc = -1;
            break;
        }
        int np = 0;
        if (g_sigpipe[0] >= 0) {
            pfd[np].fd = g_sigpipe[0];
            pfd[np].events = POLLIN;
            pw[np++] = -1;
        }
        for (int k = 0; k < n; k++)
            if (ws[k].pid > 0) {
                pfd[np].fd = ws[k].res_fd;
                pfd[np].events = POLLIN;
                pw[np++] = k;
            }
        int pr = poll(pfd, (nfds_t)np, R->progress ? 250 : 1000);
        if (pr < 0 && errno != EINTR) {
            cli_error("poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        for (int p = 0; pr > 0 && p < np; p++) {
            if (!pfd[p].revents) continue;
            if (pw[p] < 0) {
                char drain[64];
                while (read(g_sigpipe[0], drain, sizeof drain) > 0) {
                }
                continue;
            }
            worker *w = &ws[pw[p]];
            wire hdr;
            char text[WIRE_MAX];
            int got = read_full(w->res_fd, &hdr, sizeof hdr);
            if (got == 1 && hdr.len <= sizeof text - 1 &&
                (hdr.len == 0 || read_full(w->res_fd, text, hdr.len) == 1) &&
                (long)hdr.idx == w->cur) {
                batch_result *r = &R->res[hdr.idx];
                r->status = hdr.status;
                r->width = hdr.width;
                r->height = hdr.height;
                r->ms = hdr.ms;
                text[hdr.len] = '\0';
                r->error = hdr.len ? strdup(text) : NULL;
                w->cur = -1;
                record(R, hdr.idx);
                continue;
            }
            /* end of file or garbage: the worker is gone (or must go) */
            if (got == 1) kill(w->pid, SIGKILL);
            if (w->cur < 0) idle_deaths++;
            worker_died(R, w);
            int k = pw[p];
            int more = nrequeue > 0 || R->next < R->list->count;
            if (!batch_interrupted && more && !spawn_failed && idle_deaths <= 2 * n + 8) {
                if (spawn_worker(R, ws, n, k) != 0) {
                    spawn_errno = errno;
                    spawn_failed = 1;
                }
            }
        }
        progress_draw(R, 0);
    }
    /* shut down: idle workers see the end of their task pipe and exit */
    for (int k = 0; k < n; k++)
        if (ws[k].pid > 0) {
            close(ws[k].task_fd);
            ws[k].task_fd = -1;
        }
    for (int k = 0; k < n; k++)
        if (ws[k].pid > 0) {
            int status;
            if (ws[k].cur >= 0) kill(ws[k].pid, SIGKILL);
            while (waitpid(ws[k].pid, &status, 0) < 0 && errno == EINTR) {
            }
            close(ws[k].res_fd);
            if (ws[k].cur >= 0) {
                batch_item *it = &R->list->items[ws[k].cur];
                char *out = it->out_rel ? run_join(R->o->out_dir, it->out_rel) : NULL;
                if (out) sweep_temps(out);
                free(out);
            }
        }
    sigaction(SIGPIPE, &old_pipe, NULL);
    free(ws);
    free(requeue);
    free(pfd);
    free(pw);
    return rc;
}

/* ---- entry ------------------------------------------------------------------------------- */

static const batch_item *g_order_items; /* qsort has no context argument */

static int cmp_size_desc(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    uint64_t si = g_order_items[i].size, sj = g_order_items[j].size;
    if (si != sj) return si > sj ? -1 : 1;
    return i < j ? -1 : i > j;
}

int batch_run(const batch_opts *o, batch_list *list, int jobs, int threads, FILE *report,
              int progress, batch_totals *t)
{
    runner R;
    memset(&R, 0, sizeof R);
    R.o = o;
    R.list = list;
    R.report = report;
    R.progress = progress;
    R.jobs = jobs;
    R.threads = threads;
    R.t0 = now_s();
    R.last_draw = R.t0;
    pthread_mutex_init(&R.lock, NULL);
    pthread_cond_init(&R.cond, NULL);
    int rc = 0;
    if (list->count > 0) {
        R.res = calloc(list->count, sizeof *R.res);
        if (!R.res) {
            cli_error("out of memory");
            rc = -1;
        } else {
            for (size_t i = 0; i < list->count; i++) R.bytes_total += list->items[i].size;
            /* Files start largest first (by bytes, a proxy for pixels): the last files to
               finish are then small ones, so jobs do not wait on one big straggler. The order
               of the work never changes any output. */
            R.order = malloc(list->count * sizeof *R.order);
            if (!R.order) {
                cli_error("out of memory");
                rc = -1;
            } else {
                for (size_t i = 0; i < list->count; i++) R.order[i] = i;
                g_order_items = list->items;
                qsort(R.order, list->count, sizeof *R.order, cmp_size_desc);
                /* The line is drawn at once (then at most every 0.25 s): asked for, it shows
                   even when the whole job is quicker than that. */
                progress_draw(&R, 1);
                rc = o->backend == BB_FORK ? run_fork(&R) : run_threads(&R);
            }
        }
    }
    progress_clear(&R);
    t->ok = R.ok;
    t->failed = R.failed;
    t->skipped = R.skipped;
    t->not_done = list->count - R.done;
    t->megapixels = R.mp;
    t->seconds = now_s() - R.t0;
    if (R.res)
        for (size_t i = 0; i < list->count; i++) free(R.res[i].error);
    free(R.res);
    free(R.order);
    free(R.setup_error);
    pthread_mutex_destroy(&R.lock);
    pthread_cond_destroy(&R.cond);
    return rc;
}
