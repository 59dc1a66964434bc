/*
 * cmd_report.c - `pixpool report FILE...`: one summary of the --report files of many
 * `pixpool batch` runs (the shards of one job): files ok / failed / skipped / not done,
 * bytes, wall and CPU time, the slowest files, the failures, each run's shard and CPU budget,
 * and what is wrong with the whole (a run that never ended or was interrupted, a shard missing,
 * an input written by more than one run). The report format is in docs/BATCH.md.
 */
#include "batch.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct run_info {
    char *report;            /* the report file it came from */
    char *host, *budget_from, *backend;
    int shard_k, shard_n;    /* 0: unknown */
    double files, jobs, threads, budget;
    size_t lines, ok, failed, skipped; /* its file lines */
    int ended;
    double seconds, cpu, exit_code;
    char *interrupted;
} run_info;

typedef struct file_ms {
    char *input;
    char *status;
    double ms;
} file_ms;

typedef struct failure {
    char *input, *error;
} failure;

typedef struct summary {
    run_info *runs;
    size_t nruns, capruns;
    size_t ok, failed, skipped, lines;
    double bytes_in, bytes_out, file_ms;
    file_ms *slow;           /* the slowest, sorted by decreasing ms */
    size_t nslow, maxslow;
    failure *fails;
    size_t nfails, capfails;
    char **oks;              /* every input that was ok, to find the ones written twice */
    size_t noks, capoks;
    char **problems;
    size_t nprob, capprob;
    int bad_input;           /* a report unreadable or a line malformed */
} summary;

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * size);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void problem(summary *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(summary *S, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (grow((void **)&S->problems, &S->capprob, S->nprob, sizeof *S->problems) == 0) {
        char *c = strdup(buf);
        if (c) S->problems[S->nprob++] = c;
    }
}

static void add_slow(summary *S, const char *input, const char *status, double ms)
{
    if (S->maxslow == 0) return;
    int full = S->nslow == S->maxslow;
    if (full && ms <= S->slow[S->nslow - 1].ms) return;
    char *in = strdup(input), *st = strdup(status);
    if (!in || !st) {
        free(in);
        free(st);
        return;
    }
    size_t i;
    if (full) { /* the fastest of the list makes room */
        i = S->nslow - 1;
        free(S->slow[i].input);
        free(S->slow[i].status);
    } else {
        i = S->nslow++;
    }
    /* insertion: ties keep the order they were read in */
    while (i > 0 && S->slow[i - 1].ms < ms) {
        S->slow[i] = S->slow[i - 1];
        i--;
    }
    S->slow[i].input = in;
    S->slow[i].status = st;
    S->slow[i].ms = ms;
}

static int parse_shard_text(const char *s, int *k, int *n)
{
    int a, b, used = 0;
    if (!s || sscanf(s, "%d/%d%n", &a, &b, &used) != 2 || s[used] || a < 1 || a > b) return -1;
    *k = a;
    *n = b;
    return 0;
}

/* A run record; `cur` is the run of this report still open (a start without an end), or NULL. */
static run_info *on_run(summary *S, const char *file, size_t lineno, const report_obj *o,
                        run_info *cur)
{
    const char *kind = report_str(o, "run");
    if (!strcmp(kind, "start")) {
        if (grow((void **)&S->runs, &S->capruns, S->nruns, sizeof *S->runs)) return NULL;
        run_info *r = &S->runs[S->nruns++];
        memset(r, 0, sizeof *r);
        r->report = strdup(file);
        r->host = dup_or_null(report_str(o, "host"));
        r->budget_from = dup_or_null(report_str(o, "budget_from"));
        r->backend = dup_or_null(report_str(o, "backend"));
        if (parse_shard_text(report_str(o, "shard"), &r->shard_k, &r->shard_n))
            problem(S, "%s:%zu: the start record has no shard K/N", file, lineno);
        report_num(o, "files", &r->files);
        report_num(o, "jobs", &r->jobs);
        report_num(o, "threads", &r->threads);
        report_num(o, "cpu_budget", &r->budget);
        return r;
    }
    if (!strcmp(kind, "end")) {
        if (!cur) {
            problem(S, "%s:%zu: an end record without its start record", file, lineno);
            S->bad_input = 1;
            return NULL;
        }
        cur->ended = 1;
        report_num(o, "seconds", &cur->seconds);
        report_num(o, "cpu_seconds", &cur->cpu);
        cur->exit_code = -1;
        report_num(o, "exit", &cur->exit_code);
        cur->interrupted = dup_or_null(report_str(o, "interrupted"));
        return NULL;
    }
    problem(S, "%s:%zu: unknown run record '%s'", file, lineno, kind);
    S->bad_input = 1;
    return cur;
}

static void on_file(summary *S, const report_obj *o, run_info *cur)
{
    const char *in = report_str(o, "input");
    const char *st = report_str(o, "status");
    double ms = 0, b = 0;
    report_num(o, "ms", &ms);
    S->lines++;
    S->file_ms += ms;
    if (cur) cur->lines++;
    if (!strcmp(st, "ok")) {
        S->ok++;
        if (cur) cur->ok++;
        if (report_num(o, "bytes_in", &b)) S->bytes_in += b;
        if (report_num(o, "bytes_out", &b)) S->bytes_out += b;
        if (grow((void **)&S->oks, &S->capoks, S->noks, sizeof *S->oks) == 0) {
            char *c = strdup(in);
            if (c) S->oks[S->noks++] = c;
        }
    } else if (!strcmp(st, "skipped")) {
        S->skipped++;
        if (cur) cur->skipped++;
    } else {
        S->failed++;
        if (cur) cur->failed++;
        const char *e = report_str(o, "error");
        if (grow((void **)&S->fails, &S->capfails, S->nfails, sizeof *S->fails) == 0) {
            S->fails[S->nfails].input = strdup(in);
            S->fails[S->nfails].error = dup_or_null(e ? e : st);
            S->nfails++;
        }
    }
    add_slow(S, in, st, ms);
}

static void read_report(summary *S, const char *file)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f) {
        cli_error("%s: %s", file, strerror(errno));
        S->bad_input = 1;
        return;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    size_t run_index = (size_t)-1; /* the open run (index: S->runs may move) */
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') len--;
        if (len == 0) continue;
        report_obj o = {0};
        const char *why = NULL;
        run_info *cur = run_index != (size_t)-1 ? &S->runs[run_index] : NULL;
        if (report_parse_line(line, (size_t)len, &o, &why) != 0) {
            cli_error("%s:%zu: %s", file, lineno, why);
            S->bad_input = 1;
        } else if (report_str(&o, "run")) {
            run_info *r = on_run(S, file, lineno, &o, cur);
            run_index = r ? (size_t)(r - S->runs) : (size_t)-1;
        } else if (report_str(&o, "input") && report_str(&o, "status")) {
            on_file(S, &o, cur);
        } else {
            cli_error("%s:%zu: neither a file record (input, status) nor a run record", file,
                      lineno);
            S->bad_input = 1;
        }
        report_obj_clear(&o);
    }
    if (ferror(f)) {
        cli_error("%s: %s", file, strerror(errno));
        S->bad_input = 1;
    }
    free(line);
    if (f != stdin) fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when the run ended cleanly: exit 0, not interrupted. */
static int run_clean(const run_info *r) { return r->ended && !r->interrupted && r->exit_code == 0; }

/* 1 when another run of the same shard K/N ended cleanly: a resubmission finished the work
   this run left (its not-done files and its problems no longer count). */
static int superseded(const summary *S, size_t i)
{
    const run_info *r = &S->runs[i];
    if (run_clean(r) || !r->shard_n) return 0;
    for (size_t j = 0; j < S->nruns; j++)
        if (j != i && S->runs[j].shard_k == r->shard_k && S->runs[j].shard_n == r->shard_n &&
            run_clean(&S->runs[j]))
            return 1;
    return 0;
}

/* Checks the whole: runs unfinished, interrupted or failed (unless another run of their shard
   ended cleanly), shards missing, inputs written twice. Returns the number of inputs that were
   ok in more than one line. */
static size_t check_whole(summary *S)
{
    int n = 0, mixed = 0;
    for (size_t i = 0; i < S->nruns; i++) {
        run_info *r = &S->runs[i];
        if (!superseded(S, i)) {
            if (!r->ended)
                problem(S, "%s: the run of shard %d/%d has no end record: it was killed or is "
                           "still running", r->report, r->shard_k, r->shard_n);
            else if (r->interrupted)
                problem(S, "%s: the run of shard %d/%d was interrupted (%s)", r->report,
                        r->shard_k, r->shard_n, r->interrupted);
            else if (r->exit_code != 0)
                problem(S, "%s: the run of shard %d/%d exited with %g", r->report, r->shard_k,
                        r->shard_n, r->exit_code);
        }
        if (r->shard_n) {
            if (n && n != r->shard_n) mixed = 1;
            n = r->shard_n;
        }
    }
    if (mixed) {
        problem(S, "the runs split the files into different numbers of shards");
    } else if (n > 0) {
        /* every shard K of N should have a run; resubmitted shards have several */
        unsigned char *seen = calloc((size_t)n + 1, 1);
        if (seen) {
            for (size_t i = 0; i < S->nruns; i++)
                if (S->runs[i].shard_n == n) seen[S->runs[i].shard_k] = 1;
            for (int k = 1; k <= n; k++)
                if (!seen[k]) problem(S, "shard %d/%d: no report", k, n);
            free(seen);
        }
    }
    size_t twice = 0;
    if (S->noks > 1) qsort(S->oks, S->noks, sizeof *S->oks, cmp_str);
    for (size_t i = 1; i < S->noks; i++)
        if (!strcmp(S->oks[i], S->oks[i - 1]) && (i < 2 || strcmp(S->oks[i], S->oks[i - 2]))) {
            if (twice < 10) problem(S, "%s: written by more than one run", S->oks[i]);
            twice++;
        }
    if (twice > 10) problem(S, "... %zu inputs written by more than one run in all", twice);
    return twice;
}

/* Files listed by the runs but in none of their lines, except in runs whose shard another run
   finished. */
static double not_done(const summary *S)
{
    double nd = 0;
    for (size_t i = 0; i < S->nruns; i++) {
        double left = S->runs[i].files - (double)S->runs[i].lines;
        if (left > 0 && !superseded(S, i)) nd += left;
    }
    return nd;
}

static void print_text(const summary *S, size_t nreports, size_t twice)
{
    double cpu = 0, wall = 0;
    for (size_t i = 0; i < S->nruns; i++) {
        cpu += S->runs[i].cpu;
        if (S->runs[i].seconds > wall) wall = S->runs[i].seconds;
    }
    printf("pixpool report: %zu report%s, %zu run%s\n", nreports, nreports == 1 ? "" : "s",
           S->nruns, S->nruns == 1 ? "" : "s");
    printf("files: %zu ok, %zu failed, %zu skipped, %.0f not done\n", S->ok, S->failed,
           S->skipped, not_done(S));
    printf("bytes (ok files): %.0f in, %.0f out\n", S->bytes_in, S->bytes_out);
    printf("time: %.3f s CPU (user + system, all runs), %.3f s wall (the longest run), "
           "%.3f s summed over files\n", cpu, wall, S->file_ms / 1000.0);
    if (twice) printf("written by more than one run: %zu input%s\n", twice, twice == 1 ? "" : "s");
    if (S->nruns) printf("runs:\n");
    for (size_t i = 0; i < S->nruns; i++) {
        const run_info *r = &S->runs[i];
        printf("  %s: shard %d/%d on %s, %s %.0f job%s x %.0f thread%s, CPU budget %.0f (%s): "
               "%zu ok, %zu failed, %zu skipped", r->report, r->shard_k, r->shard_n,
               r->host ? r->host : "?", r->backend ? r->backend : "?", r->jobs,
               r->jobs == 1 ? "" : "s", r->threads, r->threads == 1 ? "" : "s", r->budget,
               r->budget_from ? r->budget_from : "?", r->ok, r->failed, r->skipped);
        if (r->ended)
            printf(" in %.3f s, %.3f s CPU, exit %.0f", r->seconds, r->cpu, r->exit_code);
        else
            printf(", no end record");
        if (r->ended && r->interrupted) printf(" (%s)", r->interrupted);
        printf("%s\n", superseded(S, i) ? "; finished by another run" : "");
    }
    if (S->nslow) printf("slowest files:\n");
    for (size_t i = 0; i < S->nslow; i++)
        if (strcmp(S->slow[i].status, "ok"))
            printf("  %10.3f ms  %s (%s)\n", S->slow[i].ms, S->slow[i].input, S->slow[i].status);
        else
            printf("  %10.3f ms  %s\n", S->slow[i].ms, S->slow[i].input);
    if (S->nfails) printf("failed files:\n");
    for (size_t i = 0; i < S->nfails; i++)
        printf("  %s\n", S->fails[i].error ? S->fails[i].error : S->fails[i].input);
    if (S->nprob) printf("problems:\n");
    for (size_t i = 0; i < S->nprob; i++) printf("  %s\n", S->problems[i]);
}

static void json_str_or_null(const char *s)
{
    if (s)
        cli_json_string(stdout, s);
    else
        fputs("null", stdout);
}

static void print_json(const summary *S, size_t nreports, size_t twice)
{
    double cpu = 0, wall = 0;
    for (size_t i = 0; i < S->nruns; i++) {
        cpu += S->runs[i].cpu;
        if (S->runs[i].seconds > wall) wall = S->runs[i].seconds;
    }
    printf("{\"reports\":%zu,\"runs\":%zu,\"ok\":%zu,\"failed\":%zu,\"skipped\":%zu,"
           "\"not_done\":%.0f,\"bytes_in\":%.0f,\"bytes_out\":%.0f,\"cpu_seconds\":%.3f,"
           "\"wall_seconds\":%.3f,\"file_seconds\":%.3f,\"written_twice\":%zu,\"shards\":[",
           nreports, S->nruns, S->ok, S->failed, S->skipped, not_done(S), S->bytes_in,
           S->bytes_out, cpu, wall, S->file_ms / 1000.0, twice);
    for (size_t i = 0; i < S->nruns; i++) {
        const run_info *r = &S->runs[i];
        printf("%s{\"report\":", i ? "," : "");
        json_str_or_null(r->report);
        printf(",\"shard\":\"%d/%d\",\"host\":", r->shard_k, r->shard_n);
        json_str_or_null(r->host);
        printf(",\"jobs\":%.0f,\"threads\":%.0f,\"cpu_budget\":%.0f,\"budget_from\":", r->jobs,
               r->threads, r->budget);
        json_str_or_null(r->budget_from);
        printf(",\"ok\":%zu,\"failed\":%zu,\"skipped\":%zu,\"ended\":%s", r->ok, r->failed,
               r->skipped, r->ended ? "true" : "false");
        if (r->ended)
            printf(",\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"exit\":%.0f}", r->seconds, r->cpu,
                   r->exit_code);
        else
            printf(",\"seconds\":null,\"cpu_seconds\":null,\"exit\":null}");
    }
    printf("],\"slowest\":[");
    for (size_t i = 0; i < S->nslow; i++) {
        printf("%s{\"input\":", i ? "," : "");
        json_str_or_null(S->slow[i].input);
        printf(",\"status\":");
        json_str_or_null(S->slow[i].status);
        printf(",\"ms\":%.3f}", S->slow[i].ms);
    }
    printf("],\"failures\":[");
    for (size_t i = 0; i < S->nfails; i++) {
        printf("%s{\"input\":", i ? "," : "");
        json_str_or_null(S->fails[i].input);
        printf(",\"error\":");
        json_str_or_null(S->fails[i].error);
        printf("}");
    }
    printf("],\"problems\":[");
    for (size_t i = 0; i < S->nprob; i++) {
        if (i) putchar(',');
        json_str_or_null(S->problems[i]);
    }
    printf("]}\n");
}

static void summary_free(summary *S)
{
    for (size_t i = 0; i < S->nruns; i++) {
        run_info *r = &S->runs[i];
        free(r->report);
        free(r->host);
        free(r->budget_from);
        free(r->backend);
        free(r->interrupted);
    }
    free(S->runs);
    for (size_t i = 0; i < S->nslow; i++) {
        free(S->slow[i].input);
        free(S->slow[i].status);
    }
    free(S->slow);
    for (size_t i = 0; i < S->nfails; i++) {
        free(S->fails[i].input);
        free(S->fails[i].error);
    }
    free(S->fails);
    for (size_t i = 0; i < S->noks; i++) free(S->oks[i]);
    free(S->oks);
    for (size_t i = 0; i < S->nprob; i++) free(S->problems[i]);
    free(S->problems);
}

static void report_usage(FILE *f)
{
    fprintf(f,
            "usage: pixpool report [options] REPORT...\n"
            "\n"
            "Combines the --report files of `pixpool batch` runs (the shards of one job, '-' for\n"
            "standard input) into one summary on standard output: files ok, failed, skipped and\n"
            "not done; bytes read and written by the ok files; CPU time (user + system) of all\n"
            "runs, the wall time of the longest; each run's shard, host, jobs x threads and CPU\n"
            "budget with where it came from; the slowest files; the failed files with their\n"
            "errors; and the problems of the whole: a run with no end record (killed, or still\n"
            "running), a run interrupted or failed, a shard K/N with no report, an input written\n"
            "by more than one run. A run of shard K/N that another run of K/N finished (exit 0,\n"
            "as a resubmission with --skip-existing does) is no problem. Counts are of report\n"
            "lines: a file skipped by a resubmission counts once ok and once skipped.\n"
            "\n"
            "options:\n"
            "      --slowest N   list the N slowest files (default 5; 0: none)\n"
            "      --json        the summary as one JSON object instead of text\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit codes: 0 every file ok or skipped and no problem, 1 a file failed or not done,\n"
            "a problem, or a report unreadable or malformed (named with its line), 2 usage error.\n");
}

int cmd_report(int argc, char **argv)
{
    enum { O_SLOWEST = 256, O_JSON };
    static const struct option opts[] = {{"slowest", required_argument, 0, O_SLOWEST},
                                         {"json", no_argument, 0, O_JSON},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long slowest = 5;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_SLOWEST:
            if (cli_parse_int("--slowest", optarg, 0, 1000000, &slowest)) return EXIT_USAGE;
            break;
        case O_JSON: json = 1; break;
        case 'h': report_usage(stdout); return EXIT_OK;
        default: return cli_getopt_error("report", c, argv);
        }
    }
    if (optind >= argc) {
        cli_error("report needs at least one REPORT file (see pixpool report --help)");
        return EXIT_USAGE;
    }
    summary S;
    memset(&S, 0, sizeof S);
    S.maxslow = (size_t)slowest;
    if (S.maxslow && !(S.slow = calloc(S.maxslow, sizeof *S.slow))) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    for (int i = optind; i < argc; i++) read_report(&S, argv[i]);
    size_t twice = check_whole(&S);
    if (json)
        print_json(&S, (size_t)(argc - optind), twice);
    else
        print_text(&S, (size_t)(argc - optind), twice);
    int rc = S.failed || not_done(&S) > 0 || S.nprob || S.bad_input ? EXIT_FAIL : EXIT_OK;
    summary_free(&S);
    return rc;
}
