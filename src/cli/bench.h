/*
 * bench.h - internal pieces of `pixpool bench` (src/cli/cmd_bench.c and src/cli/bench_*.c):
 * the measured results, the synthetic image, result hashing, machine facts, the measurements
 * themselves and the four report writers (table, CSV, JSON, SVG plot).
 *
 * The benchmark is a module of its own, like zstd's: it times pp_pipeline_run only, with
 * CLOCK_MONOTONIC, reports medians, and checks every backend's output against serial's (a hash
 * of the bytes) before it times anything.
 */
#ifndef PP_CLI_BENCH_H
#define PP_CLI_BENCH_H

#include "cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_WORKERS 64 /* worker counts in one list */
#define BENCH_MAX_SPECS 64   /* -f specs */
#define BENCH_NBACKENDS 3

/* ---- results ------------------------------------------------------------------------------ */

/* Summary of repeated timings (milliseconds). */
typedef struct bench_stats {
    int runs;
    double median, min, max;
} bench_stats;

/* One cell: a backend at a worker count, for one workload. */
typedef struct bench_cell {
    int backend; /* PP_BACKEND_* */
    int workers;
    uint64_t hash;
    int identical;  /* hash equals serial's */
    int timed;      /* stats are valid */
    bench_stats t;  /* ms per pp_pipeline_run */
    double mpix_s;  /* input megapixels per second, from the median */
    double speedup; /* serial median / this median (0 when unknown) */
    double efficiency;
    double karp_flatt; /* NAN for p = 1 or unknown */
    double cpu_over_wall; /* CPU time (this process's threads + reaped fork workers) over the
                             wall time of all the cell's runs; ~1 on one core, ~p on p */
    const char *flag;     /* why the cell's figures mean little (a static string), or NULL */
} bench_cell;

/* One workload: a pipeline measured on every cell. */
typedef struct bench_workload {
    char label[512];      /* the specs joined by " | " */
    const char **specs;   /* the pipeline, in order */
    int nspecs;
    int out_w, out_h, out_c;
    uint64_t hash;        /* serial's */
    int ncells;
    bench_cell *cells;    /* cells[0] is serial, then backends in order, workers ascending */
} bench_workload;

/* Start-up costs, measured apart from the workloads. Times in ms; < 0 when not measured. */
typedef struct bench_startup {
    int workers;             /* P used for the parallel measurements */
    int tiny_w, tiny_h;      /* the tiny image (one band per worker) */
    int dispatch_runs;       /* runs behind each per-dispatch median */
    /* serial: the pipeline's own overhead */
    double serial_first, serial_dispatch;
    /* openmp: team start + first parallel region, then one region */
    int openmp_measured;
    double omp_first, omp_dispatch;
    /* fork: arena creation, pool start + first dispatch, one dispatch, pool teardown */
    int fork_measured;
    double fork_arena, fork_first, fork_dispatch, fork_teardown;
    /* first touch of an image-size buffer vs reusing it */
    int touch_w, touch_h, touch_c;
    size_t touch_bytes;
    double heap_first, heap_reuse;
    double arena_first, arena_reuse;
} bench_startup;

/* `pixpool batch` throughput for one job count. */
typedef struct bench_batch_row {
    int jobs;
    bench_stats t; /* seconds, not ms */
    double files_s, mpix_s, speedup, cpu_over_wall;
} bench_batch_row;

typedef struct bench_batch {
    const char *dir;
    int files;
    double megapixels;
    int nrows;
    bench_batch_row rows[BENCH_MAX_WORKERS];
} bench_batch;

/* Machine and build facts printed in every report. */
typedef struct bench_facts {
    char cpu_model[256];
    int cpus;
    char kernel[160];
    double load[3];
    char compiler[128];
    char build[128];
    int openmp; /* _OPENMP, 0 if none */
    char date[64];
    const char *version;
} bench_facts;

/* Everything a report needs. */
typedef struct bench_report {
    bench_facts facts;
    /* settings */
    int repeat, warmup;
    int repeat_auto;   /* --repeat not given: may be lowered to fit budget_ms per workload */
    double budget_ms;  /* time allowed for one workload's warm-up and timed runs */
    int repeat_reduced; /* some workload ran fewer than `repeat` timed runs */
    int backends[BENCH_NBACKENDS];
    int nbackends;
    int workers[BENCH_MAX_WORKERS];
    int nworkers;
    /* image */
    const char *image_path; /* NULL: generated */
    int width, height, channels;
    int depth; /* bits per channel of the input: 8 or 16 (--depth) */
    /* decode/encode of IMAGE (io_valid) */
    int io_valid;
    double decode_ms, encode_ms;
    size_t encoded_bytes;
    const char *encode_format;
    /* start-up costs (startup_valid) */
    int startup_valid;
    bench_startup startup;
    /* workloads */
    int nworkloads;
    bench_workload *workloads;
    /* batch (batch_valid) */
    int batch_valid;
    int csv_no_comments; /* --csv-header none: the CSV begins with its header row */
    bench_batch batch;
    int ok; /* 0 when a result differed from serial's */
} bench_report;

/* Short cells get more runs when --repeat is not given: at least this long timed in all ... */
#define BENCH_MIN_CELL_MS 200.0
/* ... within this many runs */
#define BENCH_MAX_AUTO_REPEAT 1000

/* ---- bench_util.c ------------------------------------------------------------------------- */

/* Sets c->flag when the cell's figures mean little: fewer than 3 runs, a median over 1.5 times
   the fastest run (noise; the slowest run is not used: one preempted run says little), a sub-millisecond median from fewer than 30 runs timed under BENCH_MIN_CELL_MS in all,
   an efficiency above 1.1 or a serial fraction outside -0.1..1.1 (noise, not scaling); the
   serial cell's own flag spreads to the speedups computed from it. */
void bench_flag_cell(bench_cell *c, const bench_cell *serial);

/* Set by the SIGINT/SIGTERM handler while a benchmark runs. */
extern volatile sig_atomic_t bench_interrupted;

double bench_now_ms(void);
/* Sorts a copy of v and fills s (n >= 1). */
void bench_summarise(const double *v, int n, bench_stats *s);
/* FNV-1a 64 over the image's pixel bytes (row by row, padding skipped) and its geometry. */
uint64_t bench_hash_image(pp_image *im);
/* Fills a photo-like synthetic image (sky, sun, hills, textured ground, grain); deterministic. */
void bench_fill_image(pp_image *im, uint32_t seed);
/* The image at 16 bits (--depth 16): each value v widened to 257 v plus a deterministic dither
   of -128..127 (clamped), so all 16 bits vary as in a real 16-bit photo. Replaces *im; 0, or -1
   with the error printed. */
int bench_widen_image(pp_ctx *ctx, pp_image **im);
void bench_collect_facts(bench_facts *f);
const char *bench_backend_name(int backend);

/* ---- bench_run.c -------------------------------------------------------------------------- */

/* Measures start-up costs with `workers` workers and an image of `bytes` bytes. Returns 0, or
   -1 with the error reported. */
int bench_measure_startup(int workers, int want_openmp, int want_fork, int width, int height,
                          int channels, bench_startup *s);

/* Measures one workload on every cell. `src` is the input (heap). Returns 0, 1 when a result
   differs from serial's (reported, that cell untimed), -1 on error (reported), 130 when
   interrupted. */
int bench_measure_workload(bench_report *r, const pp_image *src, bench_workload *w);

/* Measures `pixpool batch` on the folder for each job count of r->workers. Same returns. */
int bench_measure_batch(const bench_report *r, const char *dir, const char *const *specs,
                        int nspecs, int repeat, int warmup, bench_batch *b);

/* ---- bench_report.c ----------------------------------------------------------------------- */

void bench_write_table(FILE *f, const bench_report *r);
void bench_write_csv(FILE *f, const bench_report *r);
void bench_write_json(FILE *f, const bench_report *r);
/* Returns 0, or -1 when the file cannot be written (reported). */
int bench_write_svg(const char *path, const bench_report *r);

#endif
