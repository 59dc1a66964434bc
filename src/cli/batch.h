/*
 * batch.h - internal pieces of `pixpool batch` (src/cli/cmd_batch.c and src/cli/batch_*.c):
 * options, the file list, the CPU budget, the per-file work and the two runners (threads and
 * pre-forked worker processes).
 */
#ifndef PP_CLI_BATCH_H
#define PP_CLI_BATCH_H

#include "cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Output format choice of --format. */
enum { BF_SAME = 0, BF_PNG, BF_JPG, BF_BMP, BF_TGA, BF_TIF, BF_PNM, BF_PSD };

/* How files are run: threads (each with its own context, serial or OpenMP inside) or a pool of
   pre-forked worker processes. */
enum { BB_SERIAL = PP_BACKEND_SERIAL, BB_OPENMP = PP_BACKEND_OPENMP, BB_FORK = PP_BACKEND_FORK };

typedef struct batch_opts {
    const char *in_dir, *out_dir;
    const char **specs; /* the -f specs, in order (validated up front) */
    int nspecs;
    int png_level, quality;
    int jpeg_subsample;       /* a pp_jpeg_subsample */
    int jpeg_progressive, jpeg_optimize;
    int tiff_compression;     /* pp_tiff_compression */
    unsigned strip;           /* pp_meta_kind flags left out of the outputs (--strip) */
    int auto_orient;          /* --auto-orient */
    int depth;                /* --depth: 0 (each input's), 8 or 16 */
    uint64_t max_pixels;
    uint64_t max_memory;      /* per file in flight; 0: the library's default */
    int recursive;
    int format;               /* BF_* */
    int backend;              /* BB_* */
    int jobs, threads;        /* as asked (0 = automatic) */
    const char *files_from;   /* NULL: walk the folder */
    int null_sep;             /* -0 */
    int skip_existing, overwrite;
    int shard_k, shard_n;     /* 1-based; n == 0: no sharding */
    const char *report;       /* NULL: none; "-": stdout */
    int progress;             /* -1 automatic (isatty), 0 off, 1 on */
    int verbose;
} batch_opts;

/* One input file. */
typedef struct batch_item {
    char *rel;       /* path relative to INPUT_DIR, normalised ("a/b.png") */
    char *out_rel;   /* path relative to OUTPUT_DIR */
    uint64_t size;   /* bytes (from the listing; 0 when unknown): for the ETA */
    char *refused;   /* non-NULL: the file fails with this message ("PATH: reason") unread */
} batch_item;

typedef struct batch_list {
    batch_item *items;
    size_t count, cap;
    int errors; /* folders or list entries that could not be read (already reported) */
    /* what the walk passed over, by reason (-v names each): */
    size_t not_image;   /* files whose name has no image extension */
    size_t not_entered; /* sub-folders without -r */
    size_t not_regular; /* devices, sockets, FIFOs */
} batch_list;

/* Result of one file. */
enum { BR_PENDING = 0, BR_OK, BR_FAILED, BR_SKIPPED };

typedef struct batch_result {
    int status;        /* BR_* */
    int width, height; /* of the input image; 0 when unknown */
    double ms;         /* wall time spent on the file */
    char *error;       /* malloc()ed message "PATH: reason" when failed */
} batch_result;

/* ---- batch_budget.c ---------------------------------------------------------------------- */

/* Chooses jobs (files in flight) and threads (workers inside one file) from what was asked
   (0 = automatic), the budget and the number of files, so that jobs x threads <= budget.
   Returns 1 when what was asked had to be reduced (the caller warns once). */
int batch_plan_workers(int ask_jobs, int ask_threads, int budget, size_t nfiles, int serial,
                       int *jobs, int *threads);

/* ---- batch_list.c ------------------------------------------------------------------------ */

/* 1 when the name ends with an image extension pixpool reads (case-insensitive). */
int batch_is_image_name(const char *name);

/* Normalises a relative path lexically: drops "." and empty components, resolves ".." against
   earlier components. Returns a new string, or NULL with *why set when the path is absolute,
   empty, or climbs above its root. */
char *batch_normalise_rel(const char *path, const char **why);

/* The output path (relative) for an input path (relative), for a BF_* format. New string. */
char *batch_output_name(const char *rel, int format);

/* FNV-1a, 64 bits. */
uint64_t batch_fnv1a64(const char *s);

/* Lists the image files under in_dir (recursively with `recursive`), never entering the folder
   with identity (skip_dev, skip_ino) when skip_valid, nor any folder twice, nor symbolic links
   to folders. Errors are reported on stderr and counted in list->errors. Returns -1 only when
   in_dir itself cannot be read (reported). */
int batch_walk(const char *in_dir, int recursive, int skip_valid, dev_t skip_dev, ino_t skip_ino,
               int verbose, batch_list *list);

/* Reads paths (newline- or NUL-separated) from `file` ("-" for stdin), relative to in_dir.
   Paths that are absolute or climb out of INPUT_DIR are added with a reason to refuse them.
   Returns -1 when the file cannot be read (reported). */
int batch_read_list(const char *file, const char *in_dir, int null_sep, batch_list *list);

/* Sorts by relative path, removes duplicates, computes output names and refuses items whose
   output collides with an earlier item's. -1 when out of memory. */
int batch_finish_list(batch_list *list, const char *in_dir, int format);

/* Keeps only shard k of n (1-based). */
void batch_shard(batch_list *list, int k, int n);

void batch_list_free(batch_list *list);

/* ---- batch_run.c ------------------------------------------------------------------------- */

/* Set (to the signal number) by the SIGINT/SIGTERM handler. */
extern volatile sig_atomic_t batch_interrupted;

/* Installs the SIGINT/SIGTERM handler (which only records the signal) and restores the old. */
void batch_signals_install(void);
void batch_signals_restore(void);

typedef struct batch_totals {
    size_t ok, failed, skipped, not_done;
    double megapixels;
    double seconds;
} batch_totals;

/* Runs every item with `jobs` jobs of `threads` threads each; reports, prints errors and
   progress; fills totals. Returns 0, or -1 when the run could not start (reported). */
int batch_run(const batch_opts *o, batch_list *list, int jobs, int threads, FILE *report,
              int progress, batch_totals *totals);

/* ---- batch_report.c ---------------------------------------------------------------------- */

/* The report's first line ("run":"start"): version, host, pid, shard, number of files,
   backend, jobs, threads, the CPU budget and where it came from (`why`), the folders. */
void batch_report_start(FILE *f, const batch_opts *o, size_t files, int jobs, int threads,
                        int budget, const char *why);
/* The report's last line ("run":"end"): the counts, the wall time, the CPU time (user + system
   of the process and its reaped workers), the signal that interrupted the run, the exit code. */
void batch_report_end(FILE *f, const batch_totals *t, size_t failed, size_t files, int exit_code);

#endif
