/*
 * jpeg_meta.c - JPEG metadata markers: APP1 "Exif\0\0" (EXIF), APP1 of the XMP namespace, APP2
 * "ICC_PROFILE\0" chunks (an ICC profile of any size up to 255 chunks of 65519 bytes, in
 * sequence), and the JFIF APP0 density. The assembly of ICC chunks is pixpool's own rather than
 * libjpeg-turbo's jpeg_read_icc_profile, whose warnings on a bad sequence would fail the decode
 * (jpeg.c turns every libjpeg warning into an error): a bad sequence here drops the profile.
 */
#include "jpeg_meta.h"

#include <stdlib.h>
#include <string.h>

#define ICC_SIG "ICC_PROFILE" /* and its NUL: 12 bytes */
#define ICC_HEAD 14           /* signature, sequence number, chunk count */
#define ICC_CHUNK_MAX (65533 - ICC_HEAD)
#define EXIF_SIG "Exif\0" /* and the NUL: 6 bytes, "Exif\0\0" */
#define XMP_SIG "http://ns.adobe.com/xap/1.0/" /* and its NUL: 29 bytes */
#define MARKER_MAX 65533 /* data bytes of a marker (its length field counts itself too) */

void pp_jpeg_meta_save_markers(j_decompress_ptr ci)
{
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
    jpeg_save_markers(ci, JPEG_APP0 + 2, 0xffff);
}

static bool has_sig(const jpeg_saved_marker_ptr mk, const char *sig, size_t n)
{
    return mk->data_length >= n && memcmp(mk->data, sig, n) == 0;
}

/* Joins the APP2 ICC_PROFILE chunks into m's "icc"; nothing when there are none, when the
   sequence is broken (a chunk missing, repeated, truncated, or of another count) or when the
   profile's size field is not its length. Fails only for PP_ERR_NOMEM. */
static pp_status read_icc(j_decompress_ptr ci, pp_meta *m)
{
    const JOCTET *part[256] = {0};
    size_t len[256] = {0};
    int count = 0;
    for (jpeg_saved_marker_ptr mk = ci->marker_list; mk; mk = mk->next) {
        if (mk->marker != JPEG_APP0 + 2 || !has_sig(mk, ICC_SIG, 12)) continue;
        if (mk->data_length < ICC_HEAD || mk->data_length != mk->original_length) return PP_OK;
        int seq = mk->data[12], n = mk->data[13];
        if (n == 0 || seq == 0 || seq > n || (count && n != count) || part[seq]) return PP_OK;
        count = n;
        part[seq] = mk->data + ICC_HEAD;
        len[seq] = mk->data_length - ICC_HEAD;
    }
    if (!count) return PP_OK;
    size_t total = 0;
    for (int i = 1; i <= count; i++) {
        if (!part[i]) return PP_OK; /* a chunk is missing */
        total += len[i];
    }
    if (total < 132) return PP_OK;
    uint8_t *icc = malloc(total);
    if (!icc) return PP_ERR_NOMEM;
    size_t off = 0;
    for (int i = 1; i <= count; i++) {
        memcpy(icc + off, part[i], len[i]);
        off += len[i];
    }
    uint32_t declared = (uint32_t)icc[0] << 24 | (uint32_t)icc[1] << 16 | (uint32_t)icc[2] << 8 | icc[3];
    if (declared != total || memcmp(icc + 36, "acsp", 4) != 0) {
        free(icc);
        return PP_OK;
    }
    pp_status st = pp_meta_set_owned(m, "icc", icc, total);
    return st == PP_ERR_LIMIT ? PP_OK : st;
}

pp_status pp_jpeg_read_meta(j_decompress_ptr ci, pp_meta *m)
{
    pp_status st = read_icc(ci, m);
    for (jpeg_saved_marker_ptr mk = ci->marker_list; mk && !st; mk = mk->next) {
        if (mk->marker != JPEG_APP0 + 1 || mk->data_length != mk->original_length) continue;
        if (has_sig(mk, EXIF_SIG, 6) && !pp_meta_find(m, "exif") &&
            pp_exif_valid(mk->data + 6, mk->data_length - 6))
            st = pp_meta_set(m, "exif", mk->data + 6, mk->data_length - 6);
        else if (has_sig(mk, XMP_SIG, 29) && !pp_meta_find(m, "xmp"))
            st = pp_meta_set(m, "xmp", mk->data + 29, mk->data_length - 29);
    }
    /* JFIF's density, unless it is the square "no information" of 1:1 without unit */
    if (!st && ci->saw_JFIF_marker && ci->X_density && ci->Y_density && ci->density_unit <= 2 &&
        !(ci->density_unit == 0 && ci->X_density == ci->Y_density)) {
        uint8_t d[5] = {ci->density_unit, (uint8_t)(ci->X_density >> 8), (uint8_t)ci->X_density,
                        (uint8_t)(ci->Y_density >> 8), (uint8_t)ci->Y_density};
        st = pp_meta_set(m, "jfif:density", d, 5);
    }
    if (st == PP_ERR_LIMIT) st = PP_OK; /* cannot happen with markers of 64 KiB; drop */
    if (st) pp_meta_clear(m);
    return st;
}

bool pp_jpeg_meta_density(const pp_meta *m, uint8_t d[5])
{
    const pp_meta_item *it = pp_meta_find(m, "jfif:density");
    if (it && it->size == 5 && it->data[0] <= 2 && (it->data[1] | it->data[2]) &&
        (it->data[3] | it->data[4])) {
        memcpy(d, it->data, 5);
        return true;
    }
    return (it = pp_meta_find(m, "png:pHYs")) && it->size == 9 &&
           pp_density_phys_to_jfif(it->data, d);
}

/* One marker: a signature of sn bytes, then n bytes of data. */
static void write_marker(j_compress_ptr ci, int code, const void *sig, size_t sn, const uint8_t *d,
                         size_t n)
{
    jpeg_write_m_header(ci, code, (unsigned)(sn + n));
    const uint8_t *s = sig;
    for (size_t i = 0; i < sn; i++) jpeg_write_m_byte(ci, s[i]);
    for (size_t i = 0; i < n; i++) jpeg_write_m_byte(ci, d[i]);
}

void pp_jpeg_write_meta(j_compress_ptr ci, const pp_meta *m)
{
    const pp_meta_item *it;
    if ((it = pp_meta_find(m, "exif")) && it->size + 6 <= MARKER_MAX &&
        pp_exif_valid(it->data, it->size))
        write_marker(ci, JPEG_APP0 + 1, EXIF_SIG, 6, it->data, it->size);
    if ((it = pp_meta_find(m, "xmp")) && it->size > 0 && it->size + 29 <= MARKER_MAX)
        write_marker(ci, JPEG_APP0 + 1, XMP_SIG, 29, it->data, it->size);
    if ((it = pp_meta_find(m, "icc")) && it->size > 0) {
        size_t n = (it->size + ICC_CHUNK_MAX - 1) / ICC_CHUNK_MAX;
        if (n > 255) return; /* more than a JPEG can number */
        for (size_t i = 0; i < n; i++) {
            size_t off = i * ICC_CHUNK_MAX;
            size_t len = it->size - off < ICC_CHUNK_MAX ? it->size - off : ICC_CHUNK_MAX;
            uint8_t head[ICC_HEAD];
            memcpy(head, ICC_SIG, 12);
            head[12] = (uint8_t)(i + 1);
            head[13] = (uint8_t)n;
            write_marker(ci, JPEG_APP0 + 2, head, ICC_HEAD, it->data + off, len);
        }
    }
}
