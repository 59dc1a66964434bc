/*
 * jpeg_meta.h - JPEG metadata markers (jpeg_meta.c) for jpeg.c: APP1 EXIF and XMP, APP2
 * ICC_PROFILE chunks, and the JFIF density of APP0 (which libjpeg itself reads and writes).
 */
#ifndef PP_JPEG_META_H
#define PP_JPEG_META_H

#include "codec.h"

#include <stdio.h>
#include <jpeglib.h>

/* Decoding, before jpeg_read_header: keep the APP1 and APP2 markers (up to 64 KiB each, so at
   most the file's size in all). */
void pp_jpeg_meta_save_markers(j_decompress_ptr ci);
/* Decoding, after jpeg_read_header: the saved markers and the JFIF density into m (which must
   be empty). A malformed marker, an ICC sequence with a chunk missing, repeated or of another
   count, is dropped. Fails only for PP_ERR_NOMEM (m left empty). */
pp_status pp_jpeg_read_meta(j_decompress_ptr ci, pp_meta *m);

/* Encoding: the JFIF density (unit, then X and Y, 16 bits each, big-endian) of "jfif:density",
   else of "png:pHYs" converted; false when m has none (libjpeg's default, 1:1 without a unit,
   stays). The encoder sets it before jpeg_start_compress writes the JFIF APP0 marker. */
bool pp_jpeg_meta_density(const pp_meta *m, uint8_t d[5]);
/* Encoding, right after jpeg_start_compress: APP1 EXIF, APP1 XMP and the APP2 ICC_PROFILE
   chunks of m. An EXIF or XMP blob that does not fit in one marker (64 KiB) is left out. */
void pp_jpeg_write_meta(j_compress_ptr ci, const pp_meta *m);

#endif /* PP_JPEG_META_H */
