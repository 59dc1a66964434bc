/*
 * cli.h - shared pieces of the pixpool command-line tool (src/cli/): the helpers of cli_util.c
 * and the commands main.c dispatches to.
 * The CLI uses the public API (pixpool.h) only.
 */
#ifndef PP_CLI_H
#define PP_CLI_H

#include "pixpool.h"

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses a backend name; returns -1 if unknown. */
int cli_parse_backend(const char *s);
/* Parses an integer in [lo, hi] into *out; prints a usage error and returns -1 on failure. */
int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out);
/* Parses a --jpeg-subsample value (auto, 444, 422, 420) into a pp_jpeg_subsample; prints a
   usage error and returns -1 on failure. */
int cli_parse_subsample(const char *s, int *out);
/* --tiff-compression none|lzw|deflate|packbits: 0 with *out a pp_tiff_compression, else -1
   (message printed). */
int cli_parse_tiff_compression(const char *s, int *out);
/* An output format by name, case-insensitively: png, jpg, jpeg, bmp, tga, tif, tiff (the
   names CLI_FORMAT_NAMES lists); PP_FORMAT_UNKNOWN for any other. */
pp_format cli_format_from_name(const char *s);
/* --depth: "8" or "16" into *out; 0 on success, -1 with the error printed. */
int cli_parse_depth(const char *s, int *out);
/* What --depth D does to a loaded image: with 16, an 8-bit image is widened (v * 257) so the
   filters run at 16 bits; with 8 or 0 nothing (pp_ctx_set_save_depth narrows at save). Replaces
   *img; PP_OK or the library's status (message on ctx). */
pp_status cli_depth_for_filters(pp_ctx *ctx, int depth, pp_image **img);
#define CLI_FORMAT_NAMES "png, jpg (or jpeg), bmp, tga, tif (or tiff), pnm (ppm, pgm), psd"
/* Reads all of f into a new malloc()ed buffer; 0, or -1 with errno set. */
int cli_read_all(FILE *f, void **data, size_t *size);
/* Parses a byte count: digits with an optional binary suffix K, M, G or T (KiB ... TiB; "KiB",
   "k", "kb" and the like are accepted too), at least 1; prints a usage error and returns -1 on
   failure. */
int cli_parse_size(const char *opt, const char *s, uint64_t *out);
/* Parses a --strip value (cli_meta.c): NULL (a bare --strip) is everything, else a comma-
   separated list of exif, xmp, icc, density, other, all, into pp_meta_kind flags; prints a
   usage error and returns -1 on failure. */
int cli_parse_strip(const char *s, unsigned *out);
/* Flushes f and checks it for a write error; on one prints "pixpool: error: NAME: write error:
   REASON" and returns -1, else 0. Every stream a command writes is checked so (stdout in main). */
int cli_check_stream(FILE *f, const char *name);
/* cli_check_stream, then fclose (whose failure is a write error too); -1 on any error. */
int cli_close_stream(FILE *f, const char *name);
/* Writes size bytes to fd (all of them, through EINTR); on failure prints "pixpool: error:
   NAME: write error: REASON" and returns -1. */
int cli_write_fd(int fd, const void *data, size_t size, const char *name);
/* The one-line usage error for what getopt_long returned as c ('?' unknown option, ':' missing
   value; the option strings begin with ':' and opterr is 0); returns EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv);
/* Exit code for a library status: usage errors (bad spec/argument) 2, others 1. */
int cli_exit_code(pp_status st);
/* Writes s as a JSON string (with quotes) to f: the bench and batch reports' one writer.
   Invalid UTF-8 bytes become U+FFFD. */
void cli_json_string(FILE *f, const char *s);

int cmd_apply(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_filters(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
