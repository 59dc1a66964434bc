/*
 * fuzz.h - what the fuzz targets of tests/fuzz share with their drivers.
 *
 * Each target (fuzz_load.c, fuzz_spec.c, fuzz_pipeline.c) is one function taking arbitrary
 * bytes. It is reached three ways:
 *  - libFuzzer (built with -DPIXPOOL_FUZZ=ON and clang): each file also defines
 *    LLVMFuzzerTestOneInput, which calls its target;
 *  - replay.c, a plain main() that feeds files and folders to one target (any compiler; used to
 *    replay the generated corpus in every build and to measure its coverage);
 *  - tests/test_hostile.c, which links all three (with PP_FUZZ_NO_ENTRY) and replays the
 *    regression files of tests/fuzz/regressions/ in every build.
 * A target returns normally when the library behaved (success, or a clean error with a
 * message); a broken contract calls pp_fuzz_fail(), which prints and aborts, so libFuzzer
 * records a crash and a Criterion test fails.
 */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int pp_fuzz_load(const uint8_t *data, size_t size);
int pp_fuzz_spec(const uint8_t *data, size_t size);
int pp_fuzz_pipeline(const uint8_t *data, size_t size);

/* Prints "fuzz: <target>: <message>" on stderr and aborts. */
void pp_fuzz_fail(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Reads a regression or corpus file: raw bytes, or - for a name ending in ".hex" - hex digits
   where whitespace is skipped and '#' starts a comment running to the end of the line.
   Returns a malloc()ed buffer (the caller frees it) and its size, or NULL when unreadable or
   malformed. */
uint8_t *pp_fuzz_read_input(const char *path, size_t *size);

#endif /* PP_FUZZ_H */
