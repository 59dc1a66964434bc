/*
 * batch_report.c - the run records of a `pixpool batch --report` file: one line before the
 * files ("run":"start": where, which shard, the workers and the CPU budget with its sources)
 * and one after them ("run":"end": the counts, wall and CPU time, the exit code). The per-file
 * lines are written by batch_run.c as the files finish. `pixpool report` (cmd_report.c)
 * combines the files of many shards. The format is in docs/BATCH.md.
 */
#include "batch.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

static const char *backend_word(int b)
{
    return b == BB_FORK ? "fork" : b == BB_OPENMP ? "openmp" : "serial";
}

void batch_report_start(FILE *f, const batch_opts *o, size_t files, int jobs, int threads,
                        int budget, const char *why)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0) host[0] = '\0';
    host[sizeof host - 1] = '\0';
    fprintf(f, "{\"run\":\"start\",\"version\":");
    cli_json_string(f, pp_version());
    fputs(",\"host\":", f);
    cli_json_string(f, host);
    fprintf(f, ",\"pid\":%ld,\"shard\":\"%d/%d\",\"files\":%zu,\"backend\":\"%s\",\"jobs\":%d,"
               "\"threads\":%d,\"cpu_budget\":%d,\"budget_from\":",
            (long)getpid(), o->shard_n ? o->shard_k : 1, o->shard_n ? o->shard_n : 1, files,
            backend_word(o->backend), jobs, threads, budget);
    cli_json_string(f, why);
    fputs(",\"input_dir\":", f);
    cli_json_string(f, o->in_dir);
    fputs(",\"output_dir\":", f);
    cli_json_string(f, o->out_dir);
    fputs("}\n", f);
    fflush(f);
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6; }

void batch_report_end(FILE *f, const batch_totals *t, size_t failed, size_t files, int exit_code)
{
    /* user + system time of this process (its threads, OpenMP's included) and of its reaped
       children (the -b fork workers, all waited for by now) */
    struct rusage self, kids;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &self) == 0) cpu += tv_s(self.ru_utime) + tv_s(self.ru_stime);
    if (getrusage(RUSAGE_CHILDREN, &kids) == 0) cpu += tv_s(kids.ru_utime) + tv_s(kids.ru_stime);
    fprintf(f, "{\"run\":\"end\",\"files\":%zu,\"ok\":%zu,\"failed\":%zu,\"skipped\":%zu,"
               "\"not_done\":%zu,\"megapixels\":%.3f,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
               "\"interrupted\":",
            files, t->ok, failed, t->skipped, t->not_done, t->megapixels, t->seconds, cpu);
    if (batch_interrupted == SIGINT)
        fputs("\"SIGINT\"", f);
    else if (batch_interrupted == SIGTERM)
        fputs("\"SIGTERM\"", f);
    else
        fputs("null", f);
    fprintf(f, ",\"exit\":%d}\n", exit_code);
    fflush(f);
}
