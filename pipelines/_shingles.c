/* The hash of every shingle of a text at C speed (pipelines.dedupe.signature).
 *
 * datasketch's default hash of a shingle is the first 4 bytes of its SHA-1,
 * read little-endian; stored MinHash signatures are built from it, so it cannot
 * change.  Python spends ~0.6 µs per shingle on hashlib's call alone (a page has
 * ~600 distinct shingles, ~2,000 in all); here a shingle costs one SHA-1 block:
 * ~370 ns portably, ~50 ns with the CPU's SHA extensions.
 * dedupe.py keeps the hashlib version, used where this was not compiled; tests
 * compare the two.
 *
 * shingle_hashes(text, width, portable=False) -> bytes: for every i, the first four bytes of the
 * SHA-1 of the UTF-8 of text[i:i+width] (the whole text when it is shorter).
 * Repeated shingles repeat their hash: a MinHash keeps minima, so they count once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* One SHA-1 block holding a message of up to 55 bytes, padded (FIPS 180-4, 5.1.1). */
static void pad(unsigned char block[64], const unsigned char *message, size_t length) {
    memset(block, 0, 64);
    memcpy(block, message, length);
    block[length] = 0x80;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++)
        block[63 - i] = (unsigned char)(bits >> (8 * i));
}

/* FIPS 180-4 SHA-1 of one padded block: the first word of the digest (h0). */
static uint32_t sha1_first_word(const unsigned char block[64]) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = ROTL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = 0x67452301, b = 0xEFCDAB89, c = 0x98BADCFE, d = 0x10325476, e = 0xC3D2E1F0;
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6; }
        uint32_t t = ROTL(a, 5) + f + e + k + w[i];
        e = d; d = c; c = ROTL(b, 30); b = a; a = t;
    }
    return 0x67452301 + a;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with the CPU's SHA extensions (most x86-64 processors since 2017):
 * ~5x faster, which is most of a page's deduplication cost.  Chosen at run time,
 * so one build runs on processors with and without them. */
#include <cpuid.h>
#include <immintrin.h>
#define SHA_EXTENSIONS 1

static int cpu_has_sha_extensions(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
        return 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)); /* SSSE3, SSE4.1 */
}

/* Four rounds (group g of 20) of the message schedule and compression: the
 * sequence of Intel's SHA extensions reference, with E and the four message
 * registers rotating.  Schedule steps a late group does not need are harmless. */
#define GROUP(f, e_next, e_this, m0, m1, m2, m3)   \
    e_this = _mm_sha1nexte_epu32(e_this, m0);      \
    e_next = abcd;                                 \
    m1 = _mm_sha1msg2_epu32(m1, m0);               \
    abcd = _mm_sha1rnds4_epu32(abcd, e_this, f);   \
    m3 = _mm_sha1msg1_epu32(m3, m0);               \
    m2 = _mm_xor_si128(m2, m0);

__attribute__((target("sha,sse4.1,ssse3")))
static uint32_t sha1_first_word_sha_extensions(const unsigned char block[64]) {
    const __m128i big_endian = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    const __m128i abcd_start = _mm_set_epi32(0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476);
    __m128i abcd = abcd_start, e0 = _mm_set_epi32(0xC3D2E1F0, 0, 0, 0), e1;
    __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)block), big_endian);
    __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16)), big_endian);
    __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 32)), big_endian);
    __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 48)), big_endian);
    /* Groups 0-2 start the schedule; from group 3 on, every group is GROUP. */
    e0 = _mm_add_epi32(e0, m0);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
    e1 = _mm_sha1nexte_epu32(e1, m1);
    e0 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e1, 0);
    m0 = _mm_sha1msg1_epu32(m0, m1);
    e0 = _mm_sha1nexte_epu32(e0, m2);
    e1 = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, e0, 0);
    m1 = _mm_sha1msg1_epu32(m1, m2);
    m0 = _mm_xor_si128(m0, m2);
    GROUP(0, e0, e1, m3, m0, m1, m2)
    GROUP(0, e1, e0, m0, m1, m2, m3)
    GROUP(1, e0, e1, m1, m2, m3, m0)
    GROUP(1, e1, e0, m2, m3, m0, m1)
    GROUP(1, e0, e1, m3, m0, m1, m2)
    GROUP(1, e1, e0, m0, m1, m2, m3)
    GROUP(1, e0, e1, m1, m2, m3, m0)
    GROUP(2, e1, e0, m2, m3, m0, m1)
    GROUP(2, e0, e1, m3, m0, m1, m2)
    GROUP(2, e1, e0, m0, m1, m2, m3)
    GROUP(2, e0, e1, m1, m2, m3, m0)
    GROUP(2, e1, e0, m2, m3, m0, m1)
    GROUP(3, e0, e1, m3, m0, m1, m2)
    GROUP(3, e1, e0, m0, m1, m2, m3)
    GROUP(3, e0, e1, m1, m2, m3, m0)
    GROUP(3, e1, e0, m2, m3, m0, m1)
    GROUP(3, e0, e1, m3, m0, m1, m2)
    abcd = _mm_add_epi32(abcd, abcd_start);
    return (uint32_t)_mm_extract_epi32(abcd, 3);
}
#endif

static int sha_extensions; /* set at import: the CPU has them (and this build can use them) */

static PyObject *shingle_hashes(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t width;
    int portable = 0;
    if (!PyArg_ParseTuple(args, "Un|p", &text, &width, &portable))
        return NULL;
    if (width < 1 || width > 13) { /* 13 characters of up to 4 bytes fit one block */
        PyErr_SetString(PyExc_ValueError, "shingle width must be 1 to 13");
        return NULL;
    }
    Py_ssize_t utf8_length;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &utf8_length);
    if (utf8 == NULL)
        return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    Py_ssize_t count = length > width ? length - width + 1 : 1;
    /* Where each character starts in the UTF-8, and where the text ends. */
    Py_ssize_t *starts = PyMem_Malloc((length + 1) * sizeof(Py_ssize_t));
    if (starts == NULL)
        return PyErr_NoMemory();
    Py_ssize_t character = 0;
    for (Py_ssize_t i = 0; i < utf8_length; i++)
        if (((unsigned char)utf8[i] & 0xC0) != 0x80)
            starts[character++] = i;
    starts[length] = utf8_length;
    PyObject *result = PyBytes_FromStringAndSize(NULL, count * 4);
    if (result != NULL) {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        unsigned char block[64];
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t end = i + width < length ? i + width : length;
            pad(block, (const unsigned char *)utf8 + starts[i], starts[end] - starts[i]);
#ifdef SHA_EXTENSIONS
            uint32_t h = sha_extensions && !portable ? sha1_first_word_sha_extensions(block) : sha1_first_word(block);
#else
            (void)portable;
            uint32_t h = sha1_first_word(block);
#endif
            /* The digest's first four bytes, as hashlib gives them (h0 big-endian). */
            out[4 * i] = h >> 24; out[4 * i + 1] = h >> 16; out[4 * i + 2] = h >> 8; out[4 * i + 3] = h;
        }
    }
    PyMem_Free(starts);
    return result;
}

static PyMethodDef methods[] = {
    {"shingle_hashes", shingle_hashes, METH_VARARGS,
     "shingle_hashes(text, width, portable=False) -> datasketch's hash of every shingle, uint32 each "
     "(portable: without the CPU's SHA extensions, as where it has none)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shingles", NULL, -1, methods};

PyMODINIT_FUNC PyInit__shingles(void) {
#ifdef SHA_EXTENSIONS
    sha_extensions = cpu_has_sha_extensions();
#endif
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "sha_extensions", sha_extensions) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
