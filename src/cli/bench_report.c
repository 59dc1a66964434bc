/*
 * bench_report.c - the reports of `pixpool bench`: an aligned table for the terminal, CSV (one
 * row per measured thing), JSON (schema "pixpool-bench/1", documented in docs/BENCH.md) and an
 * SVG chart of speedup versus workers, written as plain text (one panel per workload, one line
 * per backend, the ideal line, ticks, legend and title).
 *
 * Values that do not exist (the Karp-Flatt fraction at one worker, a cell that was not timed)
 * are "-" in the table, empty in CSV and null in JSON.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small formatting helpers --------------------------------------------------------------- */

/* "%.*f" of v, or "-" when v is not a finite number >= lo. */
static const char *num(char *buf, size_t n, double v, int decimals, double lo)
{
    if (!isfinite(v) || v < lo) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}

/* A JSON number, or null when v is not finite (or < lo). */
static void json_num(FILE *f, double v, double lo)
{
    if (!isfinite(v) || v < lo) fputs("null", f);
    else fprintf(f, "%.6g", v);
}

/* CSV field: quoted when it holds a comma, quote or newline. */
static void csv_str(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void csv_num(FILE *f, double v, double lo)
{
    if (isfinite(v) && v >= lo) fprintf(f, "%.6g", v);
}

static const char *channel_name(int c)
{
    static const char *names[] = {"?", "gray", "gray+alpha", "RGB", "RGBA"};
    return c >= 1 && c <= 4 ? names[c] : names[0];
}

/* ---- table ------------------------------------------------------------------------------ */

static void facts_lines(FILE *f, const bench_report *r, const char *prefix)
{
    const bench_facts *x = &r->facts;
    fprintf(f, "%spixpool %s bench, %s\n", prefix, x->version, x->date);
    fprintf(f, "%smachine: %s, %d CPU%s available, %s", prefix, x->cpu_model, x->cpus,
            x->cpus == 1 ? "" : "s", x->kernel);
    if (x->load[0] >= 0) fprintf(f, ", load %.2f %.2f %.2f", x->load[0], x->load[1], x->load[2]);
    fputc('\n', f);
    fprintf(f, "%sbuild:   %s, %s", prefix, x->compiler, x->build);
    if (x->openmp) fprintf(f, ", OpenMP %d", x->openmp);
    fputc('\n', f);
}

static void image_line(FILE *f, const bench_report *r, const char *prefix)
{
    fprintf(f, "%simage:   %s %dx%d %s, %d bits (%.2f MP)\n", prefix,
            r->image_path ? r->image_path : "generated photo-like", r->width, r->height,
            channel_name(r->channels), r->depth, (double)r->width * r->height / 1e6);
}

static void table_startup(FILE *f, const bench_report *r)
{
    const bench_startup *s = &r->startup;
    char a[32], b[32];
    fprintf(f, "\nstart-up costs, measured apart (a %dx%d RGB image, band rows 1: one band per "
               "worker; per-run figures are medians of %d runs)\n",
            s->tiny_w, s->tiny_h, s->dispatch_runs);
    fprintf(f, "  %-8s %8s %13s %13s  %s\n", "backend", "workers", "first run ms", "per run us",
            "what the first run pays for");
    fprintf(f, "  %-8s %8d %13s %13s  %s\n", "serial", 1, num(a, sizeof a, s->serial_first, 3, 0),
            num(b, sizeof b, s->serial_dispatch * 1e3, 1, 0), "nothing to start");
    if (s->openmp_measured)
        fprintf(f, "  %-8s %8d %13s %13s  %s\n", "openmp", s->workers,
                num(a, sizeof a, s->omp_first, 3, 0), num(b, sizeof b, s->omp_dispatch * 1e3, 1, 0),
                "starting the OpenMP thread team");
    if (s->fork_measured) {
        char c[32], d[32];
        fprintf(f, "  %-8s %8d %13s %13s  starting the pool (arena creation %s ms apart; "
                   "teardown %s ms)\n",
                "fork", s->workers, num(a, sizeof a, s->fork_first, 3, 0),
                num(b, sizeof b, s->fork_dispatch * 1e3, 1, 0), num(c, sizeof c, s->fork_arena, 3, 0),
                num(d, sizeof d, s->fork_teardown, 3, 0));
    }
    double mb = s->touch_bytes / 1e6;
    fprintf(f, "  first touch of an image-size buffer (%.1f MB): heap %s ms (%.2f GB/s), "
               "rewriting it %s ms",
            mb, num(a, sizeof a, s->heap_first, 2, 0),
            s->heap_first > 0 ? mb / s->heap_first : 0, num(b, sizeof b, s->heap_reuse, 2, 0));
    if (s->fork_measured)
        fprintf(f, "; shared arena %s ms, rewriting it %s ms", num(a, sizeof a, s->arena_first, 2, 0),
                num(b, sizeof b, s->arena_reuse, 2, 0));
    fputc('\n', f);
}

static void table_workload(FILE *f, const bench_report *r, const bench_workload *w)
{
    char a[32], b[32], c[32], d[32], e[32], g[32], h[32], k[32], l[32];
    fprintf(f, "\n%s   %dx%d %s -> %dx%d %s, %d timed run%s per cell, serial hash %016llx\n",
            w->label, r->width, r->height, channel_name(r->channels), w->out_w, w->out_h,
            channel_name(w->out_c), w->ncells ? w->cells[0].t.runs : 0,
            w->ncells && w->cells[0].t.runs == 1 ? "" : "s",
            (unsigned long long)w->hash);
    fprintf(f, "  %-8s %7s %10s %10s %10s %9s %8s %10s %8s %8s  %s\n", "backend", "workers",
            "median ms", "min ms", "max ms", "MP/s", "speedup", "efficiency", "serial f",
            "CPU/wall", "result");
    for (int i = 0; i < w->ncells; i++) {
        const bench_cell *x = &w->cells[i];
        const int t = x->timed;
        fprintf(f, "  %-8s %7d %10s %10s %10s %9s %8s %10s %8s %8s  %s\n",
                bench_backend_name(x->backend), x->workers,
                num(a, sizeof a, t ? x->t.median : -1, 2, 0),
                num(b, sizeof b, t ? x->t.min : -1, 2, 0), num(c, sizeof c, t ? x->t.max : -1, 2, 0),
                num(d, sizeof d, t ? x->mpix_s : -1, 1, 0), num(e, sizeof e, t ? x->speedup : -1, 2, 0),
                num(g, sizeof g, t ? x->efficiency : -1, 2, 0),
                num(h, sizeof h, t ? x->karp_flatt : NAN, 3, -1e9),
                num(l, sizeof l, x->cpu_over_wall, 2, 0), x->identical ? "identical" : (snprintf(k, sizeof k, "DIFFERS %016llx",
                                                       (unsigned long long)x->hash), k));
        if (x->flag) fprintf(f, "           ^ unreliable: %s\n", x->flag);
    }
}

static void table_batch(FILE *f, const bench_report *r)
{
    const bench_batch *bb = &r->batch;
    char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
    fprintf(f, "\nbatch throughput: pixpool batch -j JOBS -t 1 on %s (%d images, %.2f MP), "
               "wall time of the whole command, median of %d runs\n",
            bb->dir, bb->files, bb->megapixels, bb->nrows ? bb->rows[0].t.runs : 0);
    fprintf(f, "  %5s %9s %9s %9s %9s %9s %8s %9s\n", "jobs", "median s", "min s", "max s",
            "files/s", "MP/s", "speedup", "CPU/wall");
    for (int i = 0; i < bb->nrows; i++) {
        const bench_batch_row *x = &bb->rows[i];
        fprintf(f, "  %5d %9s %9s %9s %9s %9s %8s %9s\n", x->jobs, num(a, sizeof a, x->t.median, 3, 0),
                num(b, sizeof b, x->t.min, 3, 0), num(c, sizeof c, x->t.max, 3, 0),
                num(d, sizeof d, x->files_s, 1, 0), num(e, sizeof e, x->mpix_s, 1, 0),
                num(g, sizeof g, x->speedup, 2, 0), num(h, sizeof h, x->cpu_over_wall, 2, 0));
    }
}

void bench_write_table(FILE *f, const bench_report *r)
{
    facts_lines(f, r, "");
    if (r->batch_valid) {
        table_batch(f, r);
        return;
    }
    image_line(f, r, "");
    if (r->io_valid)
        fprintf(f, "file I/O (not in the timings below): decode %.2f ms, encode as %s %.2f ms "
                   "(%zu bytes)\n",
                r->decode_ms, r->encode_format, r->encode_ms, r->encoded_bytes);
    fprintf(f, "timing:  pp_pipeline_run only (CLOCK_MONOTONIC); per cell 1 check run (output "
               "hashed, must equal serial's), %d warm-up, %d timed run%s%s; cells alternated "
               "run for run\n",
            r->warmup, r->repeat, r->repeat == 1 ? "" : "s",
            r->repeat_reduced ? " (at least 3 where a workload would exceed the time budget)"
                              : "");
    fprintf(f, "         MP/s = input megapixels / median; speedup = serial median / median; "
               "efficiency = speedup / workers;\n"
               "         serial f = Karp-Flatt serial fraction (1/speedup - 1/p) / (1 - 1/p)\n");
    if (r->startup_valid) table_startup(f, r);
    for (int i = 0; i < r->nworkloads; i++) table_workload(f, r, &r->workloads[i]);
}

/* ---- CSV -------------------------------------------------------------------------------- */

static void csv_row_start(FILE *f, const char *kind, const char *workload, const char *backend,
                          int workers)
{
    fprintf(f, "%s,", kind);
    csv_str(f, workload);
    fprintf(f, ",%s,%d,", backend, workers);
}

void bench_write_csv(FILE *f, const bench_report *r)
{
    if (!r->csv_no_comments) {
        facts_lines(f, r, "# ");
        if (!r->batch_valid) image_line(f, r, "# ");
    }
    fputs("kind,workload,backend,workers,width,height,channels,runs,median_ms,min_ms,max_ms,"
          "mpix_per_s,speedup,efficiency,serial_fraction,cpu_per_wall,hash,identical,flag\n",
          f);
    if (r->io_valid) {
        csv_row_start(f, "io", "decode", "-", 1);
        fprintf(f, "%d,%d,%d,1,%.6g,,,,,,,,,,\n", r->width, r->height, r->channels, r->decode_ms);
        csv_row_start(f, "io", r->encode_format, "-", 1);
        fprintf(f, "%d,%d,%d,1,%.6g,,,,,,,,,,\n", r->width, r->height, r->channels, r->encode_ms);
    }
    if (r->startup_valid) {
        const bench_startup *s = &r->startup;
        struct {
            const char *what, *backend;
            int workers, ok, runs;
            double v;
        } rows[] = {
            {"first run", "serial", 1, 1, 1, s->serial_first},
            {"per run", "serial", 1, 1, s->dispatch_runs, s->serial_dispatch},
            {"thread team start + first region", "openmp", s->workers, s->openmp_measured, 1, s->omp_first},
            {"per region", "openmp", s->workers, s->openmp_measured, s->dispatch_runs, s->omp_dispatch},
            {"arena creation", "fork", s->workers, s->fork_measured, 1, s->fork_arena},
            {"pool start + first dispatch", "fork", s->workers, s->fork_measured, 1, s->fork_first},
            {"per dispatch", "fork", s->workers, s->fork_measured, s->dispatch_runs, s->fork_dispatch},
            {"pool teardown", "fork", s->workers, s->fork_measured, 1, s->fork_teardown},
            {"first touch (heap)", "serial", 1, 1, 1, s->heap_first},
            {"rewrite (heap)", "serial", 1, 1, 1, s->heap_reuse},
            {"first touch (shared arena)", "fork", s->workers, s->fork_measured, 1, s->arena_first},
            {"rewrite (shared arena)", "fork", s->workers, s->fork_measured, 1, s->arena_reuse},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            if (!rows[i].ok) continue;
            csv_row_start(f, "startup", rows[i].what, rows[i].backend, rows[i].workers);
            int touch = strstr(rows[i].what, "touch") || strstr(rows[i].what, "rewrite");
            fprintf(f, "%d,%d,%d,%d,%.6g,,,,,,,,,,\n", touch ? s->touch_w : s->tiny_w,
                    touch ? s->touch_h : s->tiny_h, touch ? s->touch_c : 3, rows[i].runs, rows[i].v);
        }
    }
    for (int i = 0; i < r->nworkloads; i++) {
        const bench_workload *w = &r->workloads[i];
        for (int k = 0; k < w->ncells; k++) {
            const bench_cell *c = &w->cells[k];
            csv_row_start(f, "filter", w->label, bench_backend_name(c->backend), c->workers);
            fprintf(f, "%d,%d,%d,", r->width, r->height, r->channels);
            if (c->timed) {
                fprintf(f, "%d,%.6g,%.6g,%.6g,", c->t.runs, c->t.median, c->t.min, c->t.max);
                csv_num(f, c->mpix_s, 0);
                fputc(',', f);
                csv_num(f, c->speedup, 0);
                fputc(',', f);
                csv_num(f, c->efficiency, 0);
                fputc(',', f);
                csv_num(f, c->karp_flatt, -1e9);
            } else {
                fputs("0,,,,,,,", f);
            }
            fputc(',', f);
            csv_num(f, c->cpu_over_wall, 0);
            fprintf(f, ",%016llx,%d,", (unsigned long long)c->hash, c->identical);
            if (c->flag) csv_str(f, c->flag);
            fputc('\n', f);
        }
    }
    if (r->batch_valid) {
        for (int i = 0; i < r->batch.nrows; i++) {
            const bench_batch_row *x = &r->batch.rows[i];
            csv_row_start(f, "batch", r->batch.dir, "batch", x->jobs);
            fprintf(f, ",,,%d,%.6g,%.6g,%.6g,", x->t.runs, x->t.median * 1e3, x->t.min * 1e3,
                    x->t.max * 1e3);
            csv_num(f, x->mpix_s, 0);
            fputc(',', f);
            csv_num(f, x->speedup, 0);
            fputc(',', f);
            csv_num(f, x->speedup / x->jobs, 0);
            fputs(",,", f);
            csv_num(f, x->cpu_over_wall, 0);
            fputs(",,,\n", f);
        }
    }
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void json_stats_ms(FILE *f, const bench_stats *s, double scale)
{
    fprintf(f, "\"runs\": %d, \"median_ms\": ", s->runs);
    json_num(f, s->median * scale, 0);
    fputs(", \"min_ms\": ", f);
    json_num(f, s->min * scale, 0);
    fputs(", \"max_ms\": ", f);
    json_num(f, s->max * scale, 0);
}

void bench_write_json(FILE *f, const bench_report *r)
{
    const bench_facts *x = &r->facts;
    fputs("{\n  \"schema\": \"pixpool-bench/1\",\n  \"pixpool_version\": ", f);
    cli_json_string(f, x->version);
    fputs(",\n  \"date\": ", f);
    cli_json_string(f, x->date);
    fputs(",\n  \"machine\": {\"cpu_model\": ", f);
    cli_json_string(f, x->cpu_model);
    fprintf(f, ", \"cpus_available\": %d, \"kernel\": ", x->cpus);
    cli_json_string(f, x->kernel);
    fputs(", \"loadavg\": ", f);
    if (x->load[0] >= 0) fprintf(f, "[%.2f, %.2f, %.2f]", x->load[0], x->load[1], x->load[2]);
    else fputs("null", f);
    fputs("},\n  \"build\": {\"compiler\": ", f);
    cli_json_string(f, x->compiler);
    fputs(", \"flags\": ", f);
    cli_json_string(f, x->build);
    fputs(", \"openmp\": ", f);
    if (x->openmp) fprintf(f, "%d", x->openmp);
    else fputs("null", f);
    fprintf(f, "},\n  \"settings\": {\"repeat\": %d, \"warmup\": %d, \"repeat_reduced\": %s, "
               "\"backends\": [",
            r->repeat, r->warmup, r->repeat_reduced ? "true" : "false");
    for (int i = 0; i < r->nbackends; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", bench_backend_name(r->backends[i]));
    fputs("], \"workers\": [", f);
    for (int i = 0; i < r->nworkers; i++) fprintf(f, "%s%d", i ? ", " : "", r->workers[i]);
    fputs("]},\n  \"image\": ", f);
    if (r->batch_valid) {
        fputs("null", f);
    } else {
        fputs("{\"source\": ", f);
        if (r->image_path) {
            fputs("\"file\", \"path\": ", f);
            cli_json_string(f, r->image_path);
        } else {
            fputs("\"generated\", \"path\": null", f);
        }
        fprintf(f, ", \"width\": %d, \"height\": %d, \"channels\": %d, \"depth\": %d, "
                "\"megapixels\": %.6g}", r->width, r->height, r->channels, r->depth,
                (double)r->width * r->height / 1e6);
    }
    fputs(",\n  \"io\": ", f);
    if (r->io_valid) {
        fprintf(f, "{\"decode_ms\": %.6g, \"encode_ms\": %.6g, \"encode_format\": ", r->decode_ms,
                r->encode_ms);
        cli_json_string(f, r->encode_format);
        fprintf(f, ", \"encoded_bytes\": %zu}", r->encoded_bytes);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"startup\": ", f);
    if (r->startup_valid) {
        const bench_startup *s = &r->startup;
        fprintf(f, "{\n    \"workers\": %d, \"tiny_width\": %d, \"tiny_height\": %d, "
                   "\"dispatch_runs\": %d,\n",
                s->workers, s->tiny_w, s->tiny_h, s->dispatch_runs);
        fputs("    \"serial\": {\"first_run_ms\": ", f);
        json_num(f, s->serial_first, 0);
        fputs(", \"per_run_ms\": ", f);
        json_num(f, s->serial_dispatch, 0);
        fputs("},\n    \"openmp\": ", f);
        if (s->openmp_measured) {
            fputs("{\"first_run_ms\": ", f);
            json_num(f, s->omp_first, 0);
            fputs(", \"per_run_ms\": ", f);
            json_num(f, s->omp_dispatch, 0);
            fputs("}", f);
        } else {
            fputs("null", f);
        }
        fputs(",\n    \"fork\": ", f);
        if (s->fork_measured) {
            fputs("{\"arena_create_ms\": ", f);
            json_num(f, s->fork_arena, 0);
            fputs(", \"first_run_ms\": ", f);
            json_num(f, s->fork_first, 0);
            fputs(", \"per_run_ms\": ", f);
            json_num(f, s->fork_dispatch, 0);
            fputs(", \"teardown_ms\": ", f);
            json_num(f, s->fork_teardown, 0);
            fputs("}", f);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\n    \"first_touch\": {\"bytes\": %zu, \"heap_first_ms\": ", s->touch_bytes);
        json_num(f, s->heap_first, 0);
        fputs(", \"heap_rewrite_ms\": ", f);
        json_num(f, s->heap_reuse, 0);
        fputs(", \"arena_first_ms\": ", f);
        json_num(f, s->arena_first, 0);
        fputs(", \"arena_rewrite_ms\": ", f);
        json_num(f, s->arena_reuse, 0);
        fputs("}\n  }", f);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"workloads\": [", f);
    for (int i = 0; i < r->nworkloads; i++) {
        const bench_workload *w = &r->workloads[i];
        fprintf(f, "%s\n    {\"label\": ", i ? "," : "");
        cli_json_string(f, w->label);
        fputs(", \"pipeline\": [", f);
        for (int k = 0; k < w->nspecs; k++) {
            if (k) fputs(", ", f);
            cli_json_string(f, w->specs[k]);
        }
        fprintf(f, "],\n     \"output\": {\"width\": %d, \"height\": %d, \"channels\": %d}, "
                   "\"hash\": \"%016llx\",\n     \"cells\": [",
                w->out_w, w->out_h, w->out_c, (unsigned long long)w->hash);
        for (int k = 0; k < w->ncells; k++) {
            const bench_cell *c = &w->cells[k];
            fprintf(f, "%s\n       {\"backend\": \"%s\", \"workers\": %d, \"hash\": \"%016llx\", "
                       "\"identical\": %s, ",
                    k ? "," : "", bench_backend_name(c->backend), c->workers,
                    (unsigned long long)c->hash, c->identical ? "true" : "false");
            bench_stats none = {0, NAN, NAN, NAN};
            json_stats_ms(f, c->timed ? &c->t : &none, 1);
            fputs(", \"mpix_per_s\": ", f);
            json_num(f, c->timed ? c->mpix_s : NAN, 0);
            fputs(", \"speedup\": ", f);
            json_num(f, c->timed ? c->speedup : NAN, 0);
            fputs(", \"efficiency\": ", f);
            json_num(f, c->timed ? c->efficiency : NAN, 0);
            fputs(", \"serial_fraction\": ", f);
            json_num(f, c->timed ? c->karp_flatt : NAN, -1e9);
            fputs(", \"cpu_over_wall\": ", f);
            json_num(f, c->cpu_over_wall, 0);
            fputs(", \"flag\": ", f);
            if (c->flag) cli_json_string(f, c->flag);
            else fputs("null", f);
            fputs("}", f);
        }
        fputs("\n     ]}", f);
    }
    fputs(r->nworkloads ? "\n  ],\n  \"batch\": " : "],\n  \"batch\": ", f);
    if (r->batch_valid) {
        const bench_batch *b = &r->batch;
        fputs("{\"dir\": ", f);
        cli_json_string(f, b->dir);
        fprintf(f, ", \"files\": %d, \"megapixels\": %.6g, \"rows\": [", b->files, b->megapixels);
        for (int i = 0; i < b->nrows; i++) {
            const bench_batch_row *x = &b->rows[i];
            fprintf(f, "%s\n    {\"jobs\": %d, ", i ? "," : "", x->jobs);
            json_stats_ms(f, &x->t, 1e3);
            fputs(", \"files_per_s\": ", f);
            json_num(f, x->files_s, 0);
            fputs(", \"mpix_per_s\": ", f);
            json_num(f, x->mpix_s, 0);
            fputs(", \"speedup\": ", f);
            json_num(f, x->speedup, 0);
            fputs(", \"cpu_over_wall\": ", f);
            json_num(f, x->cpu_over_wall, 0);
            fputs("}", f);
        }
        fputs("\n  ]}", f);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n  \"ok\": %s\n}\n", r->ok ? "true" : "false");
}

/* ---- SVG -------------------------------------------------------------------------------- */

#define PANEL_W 400
#define PANEL_H 310
#define PLOT_L 58
#define PLOT_R 18
#define PLOT_T 34
#define PLOT_B 48
#define HEAD_H 96

static const char *backend_colour(int backend)
{
    switch (backend) {
    case PP_BACKEND_OPENMP: return "#1f77b4";
    case PP_BACKEND_FORK: return "#d95f02";
    default: return "#6b6b6b";
    }
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for a span with at most ~max ticks. */
static double nice_step(double span, int max)
{
    double raw = span / max, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* One line of a panel: points (x[i], y[i]) where y[i] > 0. */
typedef struct series {
    const char *name;
    const char *colour;
    const char *dash; /* NULL: solid */
    int n;
    double x[BENCH_MAX_WORKERS + 1], y[BENCH_MAX_WORKERS + 1];
    int markers;
} series;

typedef struct panel {
    char title[600];
    const char *ylabel;
    double xmax, ymax;
    int nticks;
    double xticks[BENCH_MAX_WORKERS];
    int ns;
    series s[BENCH_NBACKENDS + 2];
} panel;

static void draw_panel(FILE *f, const panel *p, double ox, double oy)
{
    const double pw = PANEL_W - PLOT_L - PLOT_R, ph = PANEL_H - PLOT_T - PLOT_B;
    const double x0 = ox + PLOT_L, y0 = oy + PLOT_T;
    const double xmin = 1, xspan = p->xmax - xmin, ymax = p->ymax;
#define PX(v) (x0 + ((v) - xmin) / xspan * pw)
#define PY(v) (y0 + ph - (v) / ymax * ph)
    fprintf(f, "<g class=\"panel\">\n<text x=\"%.1f\" y=\"%.1f\" class=\"ptitle\">", x0 + pw / 2,
            oy + 20.0);
    xml_text(f, p->title);
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", x0,
            y0, pw, ph);
    /* y grid and ticks */
    double step = nice_step(ymax, 6);
    for (double v = 0; v <= ymax + 1e-9; v += step) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", x0,
                PY(v), x0 + pw, PY(v));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>", x0 - 5,
                PY(v), x0, PY(v));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"ylab\">%g</text>\n", x0 - 8, PY(v) + 4, v);
    }
    /* x ticks at the measured worker counts */
    for (int i = 0; i < p->nticks; i++) {
        double v = p->xticks[i];
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", PX(v),
                y0, PX(v), y0 + ph);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>", PX(v),
                y0 + ph, PX(v), y0 + ph + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"xlab\">%g</text>\n", PX(v), y0 + ph + 18, v);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">workers (threads, processes or jobs)"
               "</text>\n",
            x0 + pw / 2, y0 + ph + 38);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" class=\"axis\">%s</text>\n",
            ox + 16, y0 + ph / 2, p->ylabel);
    /* the lines */
    for (int i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        if (s->n == 0) continue;
        fprintf(f, "<polyline data-series=\"%s\" class=\"line\" stroke=\"%s\"%s%s%s points=\"",
                s->name, s->colour, s->dash ? " stroke-dasharray=\"" : "", s->dash ? s->dash : "",
                s->dash ? "\"" : "");
        for (int k = 0; k < s->n; k++)
            fprintf(f, "%s%.1f,%.1f", k ? " " : "", PX(s->x[k]), PY(s->y[k]));
        fputs("\"/>\n", f);
        if (s->markers)
            for (int k = 0; k < s->n; k++) {
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s, %g: "
                           "%.2fx</title></circle>\n",
                        PX(s->x[k]), PY(s->y[k]), s->colour, s->name, s->x[k], s->y[k]);
            }
    }
    fputs("</g>\n", f);
#undef PX
#undef PY
}

static void panel_axes(panel *p, const int *xs, int nx, double ymax_data, int batch)
{
    p->ylabel = batch ? "speedup over 1 job" : "speedup over serial";
    p->nticks = 0;
    p->xmax = 2;
    for (int i = 0; i < nx && p->nticks < BENCH_MAX_WORKERS; i++) {
        p->xticks[p->nticks++] = xs[i];
        if (xs[i] > p->xmax) p->xmax = xs[i];
    }
    if (p->nticks > 12) { /* too crowded: keep the powers of two and the last */
        int k = 0;
        for (int i = 0; i < p->nticks; i++) {
            int v = (int)p->xticks[i];
            if ((v & (v - 1)) == 0 || i == p->nticks - 1) p->xticks[k++] = v;
        }
        p->nticks = k;
    }
    double top = p->xmax > ymax_data ? p->xmax : ymax_data;
    double step = nice_step(top, 6);
    p->ymax = ceil(top * 1.05 / step) * step;
    /* the ideal line y = x and the serial baseline y = 1 */
    series *s = &p->s[p->ns++];
    memset(s, 0, sizeof *s);
    s->name = "ideal";
    s->colour = "#000000";
    s->dash = "6 4";
    s->n = 2;
    s->x[0] = 1, s->y[0] = 1, s->x[1] = p->xmax, s->y[1] = p->xmax;
    s = &p->s[p->ns++];
    memset(s, 0, sizeof *s);
    s->name = batch ? "1 job" : "serial";
    s->colour = backend_colour(PP_BACKEND_SERIAL);
    s->dash = "2 3";
    s->n = 2;
    s->x[0] = 1, s->y[0] = 1, s->x[1] = p->xmax, s->y[1] = 1;
}

int bench_write_svg(const char *path, const bench_report *r)
{
    int npanels = r->batch_valid ? 1 : r->nworkloads;
    panel *panels = calloc((size_t)(npanels ? npanels : 1), sizeof *panels);
    if (!panels) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < npanels; i++) {
        panel *p = &panels[i];
        if (r->batch_valid) {
            int xs[BENCH_MAX_WORKERS];
            double ymax = 0;
            for (int k = 0; k < r->batch.nrows; k++) {
                xs[k] = r->batch.rows[k].jobs;
                if (r->batch.rows[k].speedup > ymax) ymax = r->batch.rows[k].speedup;
            }
            snprintf(p->title, sizeof p->title, "pixpool batch on %s (%d images)", r->batch.dir,
                     r->batch.files);
            panel_axes(p, xs, r->batch.nrows, ymax, 1);
            series *s = &p->s[p->ns++];
            memset(s, 0, sizeof *s);
            s->name = "batch";
            s->colour = "#2ca02c";
            s->markers = 1;
            for (int k = 0; k < r->batch.nrows; k++) {
                s->x[s->n] = r->batch.rows[k].jobs;
                s->y[s->n++] = r->batch.rows[k].speedup;
            }
            continue;
        }
        const bench_workload *w = &r->workloads[i];
        snprintf(p->title, sizeof p->title, "%s", w->label);
        double ymax = 0;
        for (int k = 0; k < w->ncells; k++)
            if (w->cells[k].timed && w->cells[k].speedup > ymax) ymax = w->cells[k].speedup;
        panel_axes(p, r->workers, r->nworkers, ymax, 0);
        for (int b = 0; b < r->nbackends; b++) {
            int be = r->backends[b];
            if (be == PP_BACKEND_SERIAL) continue;
            series *s = &p->s[p->ns++];
            memset(s, 0, sizeof *s);
            s->name = bench_backend_name(be);
            s->colour = backend_colour(be);
            s->markers = 1;
            for (int k = 0; k < w->ncells; k++) {
                const bench_cell *c = &w->cells[k];
                if (c->backend != be || !c->timed || c->speedup <= 0) continue;
                s->x[s->n] = c->workers;
                s->y[s->n++] = c->speedup;
            }
        }
    }
    int cols = npanels < 3 ? (npanels ? npanels : 1) : npanels == 4 ? 2 : 3;
    int rows = npanels ? (npanels + cols - 1) / cols : 1;
    int width = cols * PANEL_W + 20, height = HEAD_H + rows * PANEL_H + 10;
    if (width < 640) width = 640;
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("%s: cannot write: %s", path, strerror(errno));
        free(panels);
        return -1;
    }
    const bench_facts *x = &r->facts;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
            width, height, width, height);
    fputs("<style>\n"
          ".title{font-size:18px;font-weight:bold;text-anchor:middle}\n"
          ".sub{font-size:12px;fill:#444;text-anchor:middle}\n"
          ".ptitle{font-size:13px;font-weight:bold;text-anchor:middle}\n"
          ".axis{font-size:12px;text-anchor:middle;fill:#222}\n"
          ".xlab{font-size:11px;text-anchor:middle;fill:#222}\n"
          ".ylab{font-size:11px;text-anchor:end;fill:#222}\n"
          ".legend{font-size:12px;fill:#222}\n"
          ".frame{fill:none;stroke:#888;stroke-width:1}\n"
          ".grid{stroke:#e3e3e3;stroke-width:1}\n"
          ".tick{stroke:#888;stroke-width:1}\n"
          ".line{fill:none;stroke-width:2.2;stroke-linejoin:round}\n"
          "</style>\n",
          f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
    fprintf(f, "<text x=\"%d\" y=\"26\" class=\"title\">pixpool: speedup versus workers</text>\n",
            width / 2);
    fprintf(f, "<text x=\"%d\" y=\"46\" class=\"sub\">", width / 2);
    if (r->batch_valid) {
        fprintf(f, "wall time of pixpool batch -j JOBS -t 1, median of %d runs",
                r->batch.nrows ? r->batch.rows[0].t.runs : 0);
    } else {
        fprintf(f, "%dx%d %s ", r->width, r->height, channel_name(r->channels));
        xml_text(f, r->image_path ? r->image_path : "generated image");
        fprintf(f, ", pp_pipeline_run median of %d runs", r->repeat);
    }
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%d\" y=\"62\" class=\"sub\">", width / 2);
    xml_text(f, x->cpu_model);
    fprintf(f, ", %d CPU%s; pixpool %s, ", x->cpus, x->cpus == 1 ? "" : "s", x->version);
    xml_text(f, x->compiler);
    fprintf(f, "; %s</text>\n", x->date);
    /* legend: the series of the first panel */
    if (npanels > 0) {
        const panel *p = &panels[0];
        double lx = width / 2.0 - p->ns * 130 / 2.0;
        for (int i = 0; i < p->ns; i++) {
            const series *s = &p->s[i];
            double bx = lx + i * 130;
            fprintf(f, "<line x1=\"%.1f\" y1=\"80\" x2=\"%.1f\" y2=\"80\" stroke=\"%s\" "
                       "stroke-width=\"2.5\"%s%s%s/>",
                    bx, bx + 28, s->colour, s->dash ? " stroke-dasharray=\"" : "",
                    s->dash ? s->dash : "", s->dash ? "\"" : "");
            if (s->markers) fprintf(f, "<circle cx=\"%.1f\" cy=\"80\" r=\"3.5\" fill=\"%s\"/>", bx + 14, s->colour);
            fprintf(f, "<text x=\"%.1f\" y=\"84\" class=\"legend\">%s</text>\n", bx + 34,
                    !strcmp(s->name, "serial") ? "serial (= 1)"
                    : !strcmp(s->name, "1 job") ? "1 job (= 1)" : s->name);
        }
    }
    for (int i = 0; i < npanels; i++)
        draw_panel(f, &panels[i], 10 + (i % cols) * PANEL_W, HEAD_H + (i / cols) * PANEL_H);
    fputs("</svg>\n", f);
    free(panels);
    if (ferror(f) | fclose(f)) {
        cli_error("%s: write failed", path);
        return -1;
    }
    return 0;
}
