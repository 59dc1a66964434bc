/*
 * pixpool.h - the public API of libpixpool (the only header a program needs).
 *
 * libpixpool loads an image (PNG through libpng; JPEG through libjpeg-turbo; BMP, TGA and GIF
 * through stb_image; PSD, HDR and PNM (P1-P6, any maxval) through its own strict decoders), runs
 * a pipeline of filters on it with one of three executors (serial, OpenMP threads, or a
 * persistent pool of forked worker processes sharing the pixels through shared memory) and
 * saves it (PNG, JPEG, BMP, TGA). All executors give bit-identical results.
 *
 * Building against it: `cc app.c $(pkg-config --cflags --libs pixpool)`, or in CMake
 * `find_package(pixpool REQUIRED)` and `target_link_libraries(app PRIVATE pixpool::pixpool)`.
 * docs/API.md has a tutorial and a reference of every function below.
 *
 * Conventions used throughout:
 * - Every function that can fail returns a pp_status; PP_OK (0) is success. On failure the
 *   context keeps a detailed message, read with pp_ctx_last_error() ("photo.png: IHDR: ...").
 *   A NULL context or a NULL required pointer gives PP_ERR_INVALID (with a NULL context there
 *   is no message). The library never prints, exits or aborts on bad input.
 * - Objects are created by *_new / loaded by pp_load* and released by the matching *_free, by
 *   the caller; every *_free accepts NULL. Output parameters are set only on success (and to
 *   NULL on failure where they are pointers). Strings and descriptors returned as `const`
 *   pointers belong to the library: never free them.
 * - Accessors (pp_image_width(), pp_ctx_backend(), ...) take a valid, non-NULL object and
 *   cannot fail.
 * - Thread safety: distinct contexts may be used from distinct threads at the same time. A
 *   single context, and the images and pipelines used with it, must be used by one thread at a
 *   time. Images and pipelines are not tied to the context that made them: any context may use
 *   them (one thread at a time). Functions marked "Thread-safe" may be called from any thread at
 *   any time. There is no mutable global state except what libpng/stb keep thread-locally.
 * - Pixels are 8 bits (uint8_t) or 16 bits (uint16_t, native byte order) per channel,
 *   interleaved, 1 to 4 channels (gray, gray+alpha, RGB, RGBA), rows top to bottom, each row
 *   `stride` bytes apart (stride >= width * channels * bytes per sample).
 * - Linux only. The fork backend forks the calling process; see pp_backend and docs/FORK.md.
 */
#ifndef PIXPOOL_H
#define PIXPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions exported by libpixpool.so (everything else is hidden). */
#if defined(__GNUC__)
#define PP_API __attribute__((visibility("default")))
#else
#define PP_API
#endif

/* The version of this header: the same as the library's pp_version() when the program runs
   with the library it was built against. The shared library's SONAME changes with MAJOR. */
#define PP_VERSION_MAJOR 0
#define PP_VERSION_MINOR 1
#define PP_VERSION_PATCH 0
#define PP_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------- */

/** Result of every fallible call. 0 is success; every failure has a name and a text
 *  (pp_strerror) and leaves a detailed message in the context (pp_ctx_last_error). */
typedef enum pp_status {
    PP_OK = 0,              /**< success */
    PP_ERR_NOMEM = 1,       /**< out of memory (or the fork backend's shared arena is full) */
    PP_ERR_IO = 2,          /**< a file could not be opened, read or written */
    PP_ERR_FORMAT = 3,      /**< not an image format pixpool reads, or an output extension it
                                 cannot write */
    PP_ERR_DECODE = 4,      /**< the image data is corrupt or truncated */
    PP_ERR_ENCODE = 5,      /**< the encoder failed */
    PP_ERR_LIMIT = 6,       /**< the image exceeds a limit (pixels, dimensions, memory) */
    PP_ERR_INVALID = 7,     /**< an invalid argument was passed (API misuse) */
    PP_ERR_SPEC = 8,        /**< a filter spec or filter parameter is invalid, or a filter does
                                 not fit the image (e.g. a crop rectangle outside it) */
    PP_ERR_WORKER = 9,      /**< a worker process of the fork backend died; the call failed as a
                                 whole and the next call starts a fresh pool */
    PP_ERR_BACKEND = 10,    /**< the executor could not run (e.g. the pool could not start, or a
                                 fork context was used in a child of fork()) */
    PP_ERR_INTERRUPTED = 11 /**< the operation was interrupted */
} pp_status;

/** A static English text for a status code ("unknown status" for a value not listed; never
 *  NULL, never to be freed). Thread-safe. */
PP_API const char *pp_strerror(pp_status status);

/** The library's version, "MAJOR.MINOR.PATCH" (PP_VERSION_STRING of the library's own build;
 *  compare it with the header's to detect a mismatch). A static string. Thread-safe. */
PP_API const char *pp_version(void);

/* ---------------------------------------------------------------------------------------------
 * Context: configuration, executor, limits, last error
 * ------------------------------------------------------------------------------------------- */

/** How filter stages are executed. All three give bit-identical output.
 *
 *  Fork backend caveats (docs/FORK.md has the details): the worker processes are forked from
 *  the calling process on the first pipeline run (not per call) and live until the context is
 *  freed or the worker count changes; they share only the context's shared-memory arena with
 *  the caller, run no caller code (signal handlers reset, fds closed) and die with the caller.
 *  They are child processes of the caller: a caller that reaps any child (waitpid(-1, ...))
 *  must not reap them. A worker that dies fails the running call with PP_ERR_WORKER; the next
 *  call forks a fresh pool. A context cannot be used in a child of the caller's fork()
 *  (PP_ERR_BACKEND: create a new context there). */
typedef enum pp_backend {
    PP_BACKEND_SERIAL = 0, /**< bands run in order on the calling thread (the baseline) */
    PP_BACKEND_OPENMP = 1, /**< an OpenMP parallel-for over bands */
    PP_BACKEND_FORK = 2    /**< a persistent pool of forked worker processes; pixels live in a
                                shared-memory arena and are never copied between processes */
} pp_backend;

/** An opaque context. Owns the executor state (thread count, worker pool), limits, settings and
 *  the last error message. Create with pp_ctx_new(), release with pp_ctx_free(). Used by one
 *  thread at a time; use one context per thread for parallel callers. */
typedef struct pp_ctx pp_ctx;

/** Creates a context with defaults: backend OpenMP, workers = the CPU budget (pp_cpu_budget,
 *  read once here), max pixels 2^30,
 *  max memory min(half the machine's memory, 16 GiB) (see pp_ctx_set_max_memory), PNG
 *  compression level 5, JPEG quality 90. Nothing is started (no thread, no process) until
 *  it is needed. The caller owns the context and frees it with pp_ctx_free(). Returns NULL only
 *  when out of memory. Thread-safe. */
PP_API pp_ctx *pp_ctx_new(void);

/** Releases a context: stops and reaps its worker processes (if any) and frees its memory.
 *  Images still alive that live in the context's shared arena stay valid until freed.
 *  NULL is allowed. */
PP_API void pp_ctx_free(pp_ctx *ctx);

/** Selects the backend for the following calls on this context. Errors: PP_ERR_INVALID for an
 *  unknown value (or a NULL ctx). Switching is cheap; a fork pool already started is kept. */
PP_API pp_status pp_ctx_set_backend(pp_ctx *ctx, pp_backend backend);

/** The context's current backend (PP_BACKEND_OPENMP unless changed). */
PP_API pp_backend pp_ctx_backend(const pp_ctx *ctx);

/** Number of workers (threads or processes) used by the parallel backends; 0 (the default)
 *  means the CPU budget (pp_cpu_budget) read when the context was made. 1..1024, else PP_ERR_INVALID. Changing it for the fork backend
 *  restarts the pool on next use. The serial backend ignores it. */
PP_API pp_status pp_ctx_set_workers(pp_ctx *ctx, int workers);

/** The number of CPUs this process may run on (its CPU affinity mask; at least 1). Thread-safe.
 *  The default worker count is pp_cpu_budget(), which may be smaller. */
PP_API int pp_cpu_count(void);

/** The CPU budget: how many CPUs this process may really use, the smallest of its affinity mask
 *  (pp_cpu_count), the cgroup CPU quota of its cgroup and their ancestors (v2 cpu.max, v1
 *  cpu.cfs_quota_us / cpu.cfs_period_us, rounded up: a container limited to 1.5 CPUs gets 2)
 *  and the environment variables OMP_NUM_THREADS and SLURM_CPUS_PER_TASK when they hold a
 *  positive number. At least 1. Every new context's default worker count. When `why` is not
 *  NULL, up to whylen bytes of "affinity 16, cgroup quota 4, OMP_NUM_THREADS 8" (the limits
 *  found) are written there. Reads /proc and /sys each call; thread-safe. */
PP_API int pp_cpu_budget(char *why, size_t whylen);

/** A progress and cancel callback: called on the calling thread (the calling process for the
 *  fork backend) between bands of each stage a call runs - the stages of every filter of a
 *  pipeline, and of the PNG/JPEG encoders - with the bands done and the bands of that stage
 *  (done = 0 before the first band, done = total after the last). With the serial backend it is
 *  called before and after each band, with OpenMP when the calling thread finishes a band, with
 *  fork as bands complete (the parent polls at least every 10 ms). Return 0 to go on; non-zero
 *  to stop: no further band is started, the bands in flight are finished, and the call fails
 *  with PP_ERR_INTERRUPTED (no output image; a file being saved is not created). The callback
 *  must not call pixpool on the same context. */
typedef int (*pp_progress_fn)(void *user, int bands_done, int bands_total);

/** Sets (or, with NULL, removes) the context's progress callback; `user` is passed to it.
 *  Errors: PP_ERR_INVALID for a NULL ctx. */
PP_API pp_status pp_ctx_set_progress(pp_ctx *ctx, pp_progress_fn fn, void *user);

/** The effective worker count (0 resolved to the CPU count). */
PP_API int pp_ctx_workers(const pp_ctx *ctx);

/** Rows per band handed to one worker at a time; 0 (default) lets the executor choose. The
 *  output never depends on it. Errors: PP_ERR_INVALID when negative. */
PP_API pp_status pp_ctx_set_band_rows(pp_ctx *ctx, int rows);

/** Largest image (width x height) that is decoded or allocated; checked from the file's header
 *  before any allocation. Default 2^30 (about one gigapixel). 0 is PP_ERR_INVALID. */
PP_API pp_status pp_ctx_set_max_pixels(pp_ctx *ctx, uint64_t max_pixels);

/** The context's pixel limit (see pp_ctx_set_max_pixels). */
PP_API uint64_t pp_ctx_max_pixels(const pp_ctx *ctx);

/** Largest amount of memory, in bytes, that the pixel buffers of one operation may hold:
 *  - a load (pp_load, pp_load_mem): the decoded image plus the decoder's own buffers of the
 *    image's size (libpng's row table, the PSD and HDR decoders' sample buffers, libjpeg's
 *    row buffers and, for a progressive JPEG, its whole-image coefficient buffer of about 2
 *    bytes per sample, stb_image's output and working buffers as estimated from the header),
 *    checked from the header before any of them is allocated;
 *  - pp_image_new: the image;
 *  - a pipeline run (pp_pipeline_run, pp_apply): the sum of the buffers the run holds at any
 *    moment - the copy of the input (the fork backend copies a heap image into shared memory),
 *    each filter's output, temporary images and partial-result blocks, and the kernels' scratch
 *    (per worker) - checked before each allocation; a filter whose output would exceed it
 *    (e.g. resize enlarging) fails before allocating it.
 *  Exceeding it gives PP_ERR_LIMIT with a message naming the limit; nothing is left allocated.
 *  The caller's own images (the input of a run, a wrapped buffer) do not count. Default:
 *  min(M / 2, 16 GiB), at least 256 MiB, where M is the physical memory or, when smaller, the
 *  memory limit of the process's cgroup (a container's); 4 GiB when neither can be read.
 *  Each context has its own limit: N contexts used at once may hold N times it. Errors:
 *  PP_ERR_INVALID for 0. UINT64_MAX means no limit. */
PP_API pp_status pp_ctx_set_max_memory(pp_ctx *ctx, uint64_t bytes);

/** The context's memory limit in bytes (see pp_ctx_set_max_memory). */
PP_API uint64_t pp_ctx_max_memory(const pp_ctx *ctx);

/** PNG compression level 0..9 (default 5) used by pp_save / pp_save_mem; PP_ERR_INVALID
 *  outside that range. 0 stores; 1..5 deflate each strip of rows with zlib's run-length
 *  strategy unless a sample of the strip shows zlib's level compresses it clearly better
 *  (photographs: the size of level 6 at several times its speed; drawings and text: LZ77);
 *  6..9 use zlib's level for everything, as libpng does. The encode runs on the context's
 *  backend and workers; the bytes written never depend on them. */
PP_API pp_status pp_ctx_set_png_level(pp_ctx *ctx, int level);

/** JPEG quality 1..100 (default 90) used by pp_save / pp_save_mem; PP_ERR_INVALID outside that
 *  range. libjpeg's scale (the IJG tables scaled by quality; baseline tables at every
 *  quality), as cjpeg, libvips and ImageMagick use it. */
PP_API pp_status pp_ctx_set_jpeg_quality(pp_ctx *ctx, int quality);

/** Chroma subsampling of colour JPEGs: the resolution of the two colour components against the
 *  luma's. */
typedef enum pp_jpeg_subsample {
    PP_SUBSAMPLE_AUTO = 0, /**< 4:4:4 at quality 90 and above, 4:2:0 below (the default; the
                                choice of libvips' subsample-mode=auto and ImageMagick) */
    PP_SUBSAMPLE_444 = 1,  /**< full colour resolution */
    PP_SUBSAMPLE_422 = 2,  /**< half the colour columns */
    PP_SUBSAMPLE_420 = 3   /**< half the colour columns and rows */
} pp_jpeg_subsample;

/** Chroma subsampling for JPEG output (default PP_SUBSAMPLE_AUTO). Gray JPEGs have no chroma.
 *  Errors: PP_ERR_INVALID for another value. */
PP_API pp_status pp_ctx_set_jpeg_subsample(pp_ctx *ctx, pp_jpeg_subsample mode);

/** Progressive JPEG output (libjpeg's standard progression of 10 scans, 6 for gray, with
 *  optimised Huffman tables) when on is non-zero; baseline when 0 (the default). The same
 *  pixels decode either way; progressive files are usually a few percent smaller and slower
 *  to write: a baseline file is encoded in strips on the context's executor (restart markers
 *  between them, the same bytes on every backend), a progressive one on the calling thread.
 *  Errors: PP_ERR_INVALID (NULL ctx) only. */
PP_API pp_status pp_ctx_set_jpeg_progressive(pp_ctx *ctx, int on);

/** Optimised Huffman tables for JPEG output (a second pass over the image's coefficients)
 *  when on is non-zero; the standard tables when 0 (the default). Lossless: the same pixels
 *  decode, from a file usually a few percent smaller, encoded on the calling thread (the
 *  tables need the whole image). Errors: PP_ERR_INVALID (NULL ctx) only. */
PP_API pp_status pp_ctx_set_jpeg_optimize(pp_ctx *ctx, int on);

/** Compression of TIFF output. */
typedef enum pp_tiff_compression {
    PP_TIFF_NONE = 0,     /**< uncompressed (the default, as libvips and ImageMagick write) */
    PP_TIFF_LZW = 1,      /**< LZW with the horizontal predictor */
    PP_TIFF_DEFLATE = 2,  /**< deflate (zlib) with the horizontal predictor */
    PP_TIFF_PACKBITS = 3  /**< PackBits run-length coding */
} pp_tiff_compression;

/** Compression of TIFF output (default PP_TIFF_NONE). Errors: PP_ERR_INVALID for another
 *  value. */
PP_API pp_status pp_ctx_set_tiff_compression(pp_ctx *ctx, pp_tiff_compression mode);

/** Bits per channel pp_save and pp_save_mem write: 0 (default) the image's own depth, 8 or 16
 *  (converted as pp_image_convert_depth does). Formats that hold 8 bits only (JPEG, BMP, TGA)
 *  always get 8. Errors: PP_ERR_INVALID for another value. */
PP_API pp_status pp_ctx_set_save_depth(pp_ctx *ctx, int depth);

/** The detailed message of the last failed call on this context ("" if none, or for a NULL
 *  ctx). Owned by the context: the pointer stays valid until the next call on the context. */
PP_API const char *pp_ctx_last_error(const pp_ctx *ctx);

/* ---------------------------------------------------------------------------------------------
 * Images
 * ------------------------------------------------------------------------------------------- */

/** An opaque image: width x height pixels of `channels` 8-bit channels. Owned by the caller
 *  (free with pp_image_free()); it may outlive the context that made it and be used with any
 *  context. An image may be freed from any thread once no call is using it. */
typedef struct pp_image pp_image;

/** Allocates an image (pixels zeroed) of 1..4 channels; with the fork backend selected, in the
 *  context's shared arena (so pipelines run on it without a copy). The caller frees it with
 *  pp_image_free(). Errors: PP_ERR_INVALID (size <= 0, channels outside 1..4), PP_ERR_LIMIT
 *  (larger than the context's pixel limit), PP_ERR_NOMEM. */
PP_API pp_status pp_image_new(pp_ctx *ctx, int width, int height, int channels, pp_image **out);

/** Wraps a caller's buffer without copying. The buffer must stay valid, and must not be freed by
 *  the caller, until pp_image_free() of the wrapper; pixpool never frees it. stride is the byte
 *  distance between rows (0 means width * channels). Filters never write into an input image,
 *  so a wrapped buffer used as input is left as it was. Errors: PP_ERR_INVALID (NULL data,
 *  size <= 0, channels outside 1..4, stride < width * channels), PP_ERR_LIMIT, PP_ERR_NOMEM.
 *  With the fork backend a wrapped image is copied into the shared arena once per run. */
PP_API pp_status pp_image_wrap(pp_ctx *ctx, void *data, int width, int height, int channels,
                               size_t stride, pp_image **out);

/** Frees an image (and its pixels, unless wrapped). NULL is allowed. */
PP_API void pp_image_free(pp_image *image);

/** Width in pixels (>= 1). */
PP_API int pp_image_width(const pp_image *image);

/** Height in pixels (>= 1). */
PP_API int pp_image_height(const pp_image *image);

/** Channels per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
PP_API int pp_image_channels(const pp_image *image);

/** Bits per channel: 8 (uint8_t samples) or 16 (uint16_t samples in the machine's byte order,
 *  0..65535). pp_load keeps the depth of the file (16 for 16-bit PNG, PNM with maxval > 255,
 *  16-bit PSD and TIFF; 8 otherwise); filters keep the depth of their input. */
PP_API int pp_image_depth(const pp_image *image);

/** pp_image_new with a depth of 8 or 16 bits per channel (pp_image_new is depth 8). */
PP_API pp_status pp_image_new_depth(pp_ctx *ctx, int width, int height, int channels, int depth,
                                    pp_image **out);

/** pp_image_wrap with a depth of 8 or 16 (16: uint16_t samples, even address and stride; the
 *  stride is in bytes, 0 meaning width * channels * 2). */
PP_API pp_status pp_image_wrap_depth(pp_ctx *ctx, void *data, int width, int height,
                                     int channels, int depth, size_t stride, pp_image **out);

/** A new image of `depth` (8 or 16) bits per channel holding `in`'s pixels and metadata:
 *  8 -> 16 is v * 257 (exact: 255 maps to 65535), 16 -> 8 is round(v * 255 / 65535); the same
 *  depth is a copy. Errors: PP_ERR_INVALID, PP_ERR_LIMIT, PP_ERR_NOMEM. */
PP_API pp_status pp_image_convert_depth(pp_ctx *ctx, const pp_image *in, int depth,
                                        pp_image **out);

/** Bytes from the start of one row to the start of the next (>= width * channels). */
PP_API size_t pp_image_stride(const pp_image *image);

/** The first byte of the first row; row y starts at data + y * stride. Owned by the image (or,
 *  when wrapped, by the caller). Writable unless the image is an input being processed. */
PP_API uint8_t *pp_image_data(pp_image *image);

/* ---------------------------------------------------------------------------------------------
 * Metadata
 * ------------------------------------------------------------------------------------------- */

/** An image carries its metadata as named, opaque blobs of bytes. pp_load fills them from the
 *  file (PNG, JPEG, PSD), pp_pipeline_run gives the output a copy of the input's, pp_save
 *  writes those its format can hold (see docs/API.md, "Metadata", for what each format keeps
 *  and converts). Names and their bytes:
 *   - "icc": an ICC profile (PNG iCCP, JPEG APP2 ICC_PROFILE chunks);
 *   - "exif": EXIF as a TIFF stream starting "II*\0" or "MM\0*" (PNG eXIf, JPEG APP1 without
 *     its "Exif\0\0" prefix);
 *   - "xmp": an XMP packet (PNG iTXt XML:com.adobe.xmp, JPEG APP1 of the XMP namespace);
 *   - "png:gAMA", "png:cHRM", "png:sRGB", "png:pHYs": the data of those PNG chunks;
 *   - "jfif:density": 5 bytes, JFIF's density unit (0 none, 1 per inch, 2 per cm), then its X
 *     and Y density, 16 bits each, big-endian.
 *  Other names may be set and read back; no encoder writes them. */

/** Kinds of metadata, for pp_image_strip_meta and pp_ctx_set_strip (or'ed together). */
typedef enum pp_meta_kind {
    PP_META_EXIF = 1,    /**< "exif" */
    PP_META_XMP = 2,     /**< "xmp" */
    PP_META_ICC = 4,     /**< the colour profile: "icc", "png:sRGB", "png:gAMA", "png:cHRM" */
    PP_META_DENSITY = 8, /**< "png:pHYs", "jfif:density" */
    PP_META_OTHER = 16,  /**< any other name */
    PP_META_ALL = 31     /**< everything */
} pp_meta_kind;

/** Stores a copy of `size` bytes under `name` (1..31 characters of A-Z a-z 0-9 : . _ -),
 *  replacing a blob of that name. Errors: PP_ERR_INVALID (bad name, NULL data with size > 0,
 *  NULL image), PP_ERR_LIMIT (a blob over 32 MiB, more than 32 blobs or 64 MiB in all),
 *  PP_ERR_NOMEM; the image is then unchanged. */
PP_API pp_status pp_image_set_meta(pp_ctx *ctx, pp_image *image, const char *name,
                                   const void *data, size_t size);

/** The blob called `name` and its size in *size (may be NULL), or NULL when the image has none.
 *  Owned by the image: valid until the blob is replaced or removed or the image freed. */
PP_API const void *pp_image_meta(const pp_image *image, const char *name, size_t *size);

/** Removes the blob called `name`; returns 1 when there was one, else 0. */
PP_API int pp_image_remove_meta(pp_image *image, const char *name);

/** Number of blobs of the image (0..32). */
PP_API int pp_image_meta_count(const pp_image *image);

/** The name of the index-th blob (0-based, in the order they were first set), NULL when out of
 *  range. Owned by the image: valid until a blob is removed or the image freed. */
PP_API const char *pp_image_meta_name(const pp_image *image, int index);

/** Removes every blob of the given kinds (pp_meta_kind flags). */
PP_API void pp_image_strip_meta(pp_image *image, unsigned kinds);

/** The EXIF orientation of the image, 1..8 (1 also when it has no EXIF or no valid
 *  Orientation): 1 upright, 2 mirrored left-right, 3 upside down, 4 mirrored top-bottom,
 *  5 transposed, 6 to be turned 90 degrees clockwise, 7 transversed, 8 to be turned 90 degrees
 *  counter-clockwise. */
PP_API int pp_image_orientation(const pp_image *image);

/** Applies the image's EXIF orientation to the pixels on the context's executor and returns a
 *  new image in *out (the caller frees it) whose EXIF orientation is 1 and whose EXIF pixel
 *  dimensions are its own; an image of orientation 1 gives a copy. `in` is not modified.
 *  Errors as pp_pipeline_run(). */
PP_API pp_status pp_auto_orient(pp_ctx *ctx, const pp_image *in, pp_image **out);

/** What pp_save and pp_save_mem leave out of the files they write: pp_meta_kind flags (0, the
 *  default, writes everything the format can hold; PP_META_ALL nothing). The images keep their
 *  blobs. Errors: PP_ERR_INVALID for other bits. */
PP_API pp_status pp_ctx_set_strip(pp_ctx *ctx, unsigned kinds);

/** When on is non-zero, pp_load and pp_load_mem apply the EXIF orientation to the pixels as
 *  they load (as pp_auto_orient does; the memory limit then counts a second image) and give an
 *  image of orientation 1. Default off: pixels as stored, orientation kept. Errors:
 *  PP_ERR_INVALID (NULL ctx) only. */
PP_API pp_status pp_ctx_set_auto_orient(pp_ctx *ctx, int on);

/* ---------------------------------------------------------------------------------------------
 * Loading and saving
 * ------------------------------------------------------------------------------------------- */

/** Image file formats. Every one is read; PNG, JPEG, BMP and TGA are also written. */
typedef enum pp_format {
    PP_FORMAT_UNKNOWN = 0, /**< not recognised / not writable */
    PP_FORMAT_PNG,         /**< PNG (libpng), lossless, keeps alpha */
    PP_FORMAT_JPEG,        /**< JPEG (baseline and progressive); written without alpha */
    PP_FORMAT_BMP,         /**< Windows bitmap */
    PP_FORMAT_TGA,         /**< Truevision TGA */
    PP_FORMAT_GIF,         /**< GIF, read only (first frame) */
    PP_FORMAT_PSD,         /**< Photoshop (composited image; written as RGB/RGBA, raw) */
    PP_FORMAT_HDR,         /**< Radiance HDR, read only (tone-mapped to 8 bits) */
    PP_FORMAT_PNM,         /**< PBM/PGM/PPM, P1-P6 (any maxval); written as P5/P6 */
    PP_FORMAT_TIFF         /**< TIFF (libtiff): the first page is read */
} pp_format;

/** Lower-case name of a format ("png", "jpeg", ...); "unknown" for PP_FORMAT_UNKNOWN or any
 *  other value. A static string. Thread-safe. */
PP_API const char *pp_format_name(pp_format format);

/** The format an output file name asks for, from its extension, case-insensitively: .png,
 *  .jpg/.jpeg, .bmp, .tga, .tif/.tiff. PP_FORMAT_UNKNOWN for anything else (pixpool cannot write it) or a
 *  NULL path. Looks at the name only. Thread-safe. */
PP_API pp_format pp_format_from_path(const char *path);

/** What a file's header says, read without decoding the pixels. */
typedef struct pp_image_info {
    pp_format format; /**< detected from the bytes */
    int width, height; /**< in pixels */
    int channels;  /**< channels pixpool decodes it to (1..4) */
    int depth;     /**< bits per channel stored in the file (1..32) */
    int decoded_depth; /**< bits per channel pixpool decodes it to: 8 or 16 (pp_image_depth) */
} pp_image_info;

/** Reads the header of a file into *info. The format is detected from its bytes, never its
 *  name. Errors: PP_ERR_IO (cannot open/read), PP_ERR_FORMAT (not a format pixpool reads),
 *  PP_ERR_DECODE (corrupt header), PP_ERR_INVALID (NULL argument). */
PP_API pp_status pp_info(pp_ctx *ctx, const char *path, pp_image_info *info);

/** Loads an image file. The format is detected from the bytes. PNG of any colour type and bit
 *  depth (palette, tRNS, gray 1/2/4/8/16, interlaced) becomes 1-4 channels of 8 bits, or of 16
 *  bits for a 16-bit file (so do 16-bit TIFF, PSD and PNM with maxval > 255); JPEG gives 1 channel (gray) or 3 (YCbCr, RGB, CMYK, YCCK),
 *  and a damaged JPEG (even one libjpeg would only warn about) or a progressive one of more
 *  than 100 scans fails; GIF gives its first frame, RGB, or RGBA when the frame declares a transparent colour; PSD
 *  gives RGB, or RGBA when it has an alpha channel; HDR is tone-mapped to 8 bits.
 *  The pixel limit is checked from the header before anything is allocated. With the fork
 *  backend selected the pixels are decoded into the context's shared arena. The caller frees
 *  *out with pp_image_free(). Errors: PP_ERR_IO, PP_ERR_FORMAT, PP_ERR_DECODE, PP_ERR_LIMIT,
 *  PP_ERR_NOMEM, PP_ERR_INVALID. */
PP_API pp_status pp_load(pp_ctx *ctx, const char *path, pp_image **out);

/** Loads an image from memory (`size` bytes at `data`, not kept after the call); `name` (may be
 *  NULL) is used in error messages. Otherwise as pp_load(). */
PP_API pp_status pp_load_mem(pp_ctx *ctx, const void *data, size_t size, const char *name,
                             pp_image **out);

/** Saves an image; the format follows the path's extension (see pp_format_from_path; any other
 *  extension is PP_ERR_FORMAT). The file is written under a temporary name in the same folder
 *  and renamed into place, so it appears complete or not at all. A symbolic link is written
 *  through: its target is replaced (in the target's folder) and the link stays; a link whose
 *  target cannot be reached is PP_ERR_IO. JPEG drops an alpha channel
 *  (gray and gray+alpha are written as a 1-component grayscale JPEG).
 *  Uses the context's PNG level / JPEG settings. Errors: PP_ERR_FORMAT, PP_ERR_IO (cannot
 *  create, write or rename), PP_ERR_ENCODE, PP_ERR_NOMEM, PP_ERR_INVALID. */
PP_API pp_status pp_save(pp_ctx *ctx, const pp_image *image, const char *path);

/** Encodes an image into a new malloc()ed buffer of *size bytes, returned in *data; the caller
 *  owns it and releases it with free(). format must be PNG, JPEG, BMP or TGA (else
 *  PP_ERR_FORMAT). Errors as pp_save() except PP_ERR_IO. */
PP_API pp_status pp_save_mem(pp_ctx *ctx, const pp_image *image, pp_format format,
                             void **data, size_t *size);

/* ---------------------------------------------------------------------------------------------
 * Filters and pipelines
 * ------------------------------------------------------------------------------------------- */

/** Parameter types of a filter's schema. */
typedef enum pp_param_type {
    PP_PARAM_INT = 0,   /**< an integer */
    PP_PARAM_FLOAT = 1, /**< a real number */
    PP_PARAM_ENUM = 2,  /**< one of a list of names; its value is the index in `choices` */
    PP_PARAM_LIST = 3   /**< a list of real numbers separated by spaces or '/' */
} pp_param_type;

/** Whether a parameter must be given. */
typedef enum pp_param_need {
    PP_PARAM_OPTIONAL = 0, /**< has a default */
    PP_PARAM_REQUIRED = 1, /**< must be given (no default) */
    PP_PARAM_GROUP = 2     /**< one of a group: at least one of the filter's PP_PARAM_GROUP
                                parameters must be given */
} pp_param_need;

/** One parameter of a filter's schema (static data of the library: never free or modify). */
typedef struct pp_param_info {
    const char *name;           /**< the key used in specs ("sigma") */
    pp_param_type type;         /**< how its value is written and parsed */
    double def;                 /**< default value (ignored if `required` or a list) */
    double min, max;            /**< allowed range, inclusive */
    const char *const *choices; /**< for PP_PARAM_ENUM: NULL-terminated names */
    pp_param_need required;     /**< whether it must be given (PP_PARAM_OPTIONAL: it has a
                                     default) */
    const char *help;           /**< one line of help */
} pp_param_info;

/** A filter of the registry (static data of the library: never free or modify). */
typedef struct pp_filter_info {
    const char *name;        /**< the name used in specs ("gaussian") */
    const char *family;      /**< "colour", "spatial", "geometry", "histogram" */
    const char *summary;     /**< one line */
    const char *definition;  /**< the exact definition: formula, rounding, borders, alpha */
    const pp_param_info *params; /**< its parameters, `nparams` of them */
    int nparams;             /**< 0..8 */
} pp_filter_info;

/** Number of filters in the registry. Thread-safe. */
PP_API int pp_filter_count(void);

/** The i-th filter of the registry (0-based, in the order `pixpool filters` lists them); NULL
 *  when out of range. Static data. Thread-safe. */
PP_API const pp_filter_info *pp_filter_at(int index);

/** The filter called `name` (exact, case-sensitive), or NULL. Static data. Thread-safe. */
PP_API const pp_filter_info *pp_filter_find(const char *name);

/** An ordered list of filters with their parameters, validated when added. A pipeline holds no
 *  image and no executor state, so it may be reused for any number of runs and contexts. */
typedef struct pp_pipeline pp_pipeline;

/** Creates an empty pipeline in *out; the caller frees it with pp_pipeline_free(). ctx only
 *  receives the error message and may be NULL. Errors: PP_ERR_INVALID (NULL out),
 *  PP_ERR_NOMEM. */
PP_API pp_status pp_pipeline_new(pp_ctx *ctx, pp_pipeline **out);

/** Frees a pipeline. NULL is allowed. */
PP_API void pp_pipeline_free(pp_pipeline *pipeline);

/** Appends a filter given as a spec string: "name" or "name:key=value,key=value", e.g.
 *  "gaussian:sigma=2.5". Unknown filter, unknown key, a key given twice, bad number,
 *  out-of-range value, or a missing required parameter (or none of a group given) give
 *  PP_ERR_SPEC with a message that lists what is allowed; the pipeline is then unchanged. The
 *  spec string is not kept. Errors: PP_ERR_SPEC, PP_ERR_NOMEM, PP_ERR_INVALID. */
PP_API pp_status pp_pipeline_add_spec(pp_ctx *ctx, pp_pipeline *pipeline, const char *spec);

/** Appends a filter by name with typed parameters: `nparams` keys and their values (enum
 *  parameters take the index of the choice; parameters not given keep their defaults). List
 *  parameters cannot be given this way. Validated exactly as pp_pipeline_add_spec() (one
 *  validator). Errors as pp_pipeline_add_spec(). */
PP_API pp_status pp_pipeline_add(pp_ctx *ctx, pp_pipeline *pipeline, const char *filter,
                                 int nparams, const char *const *keys, const double *values);

/** Number of filters in the pipeline (0 for NULL). */
PP_API int pp_pipeline_length(const pp_pipeline *pipeline);

/** Runs the pipeline on `in` with the context's backend and workers and returns a new image in
 *  *out (the caller frees it). `in` is never modified. With the fork backend, a heap image is
 *  copied once into the shared arena; an image loaded by a fork context already lives there.
 *  An empty pipeline returns a copy. Errors: PP_ERR_SPEC (a filter does not fit the image),
 *  PP_ERR_LIMIT, PP_ERR_NOMEM, PP_ERR_WORKER, PP_ERR_BACKEND, PP_ERR_INVALID. */
PP_API pp_status pp_pipeline_run(pp_ctx *ctx, const pp_pipeline *pipeline, const pp_image *in,
                                 pp_image **out);

/** Convenience: parses one spec and runs it on `in`, returning a new image in *out (the caller
 *  frees it). Errors as pp_pipeline_add_spec() and pp_pipeline_run(). */
PP_API pp_status pp_apply(pp_ctx *ctx, const char *spec, const pp_image *in, pp_image **out);

#ifdef __cplusplus
}
#endif
#endif /* PIXPOOL_H */
