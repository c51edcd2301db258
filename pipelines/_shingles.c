/* The hash of every shingle of a text at C speed (pipelines.dedupe.signature).
 *
 * datasketch's default hash of a shingle is the first 4 bytes of its SHA-1,
 * read little-endian; stored MinHash signatures are built from it, so it cannot
 * change.  Python spends ~0.6 µs per shingle on hashlib's call alone (a page has
 * ~600 distinct shingles, ~2,000 in all); here a shingle costs one SHA-1 block.
 * dedupe.py keeps the hashlib version, used where this was not compiled; tests
 * compare the two.
 *
 * shingle_hashes(text, width) -> bytes: for every i, the first four bytes of the
 * SHA-1 of the UTF-8 of text[i:i+width] (the whole text when it is shorter).
 * Repeated shingles repeat their hash: a MinHash keeps minima, so they count once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* FIPS 180-4 SHA-1, the first word of the digest (h0), for messages up to 55 bytes (one block). */
static uint32_t sha1_first_word(const unsigned char *message, size_t length) {
    unsigned char block[64] = {0};
    uint32_t w[80];
    memcpy(block, message, length);
    block[length] = 0x80;
    uint64_t bits = (uint64_t)length * 8;
    for (int i = 0; i < 8; i++)
        block[63 - i] = (unsigned char)(bits >> (8 * i));
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

static PyObject *shingle_hashes(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "Un", &text, &width))
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
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t end = i + width < length ? i + width : length;
            uint32_t h = sha1_first_word((const unsigned char *)utf8 + starts[i], starts[end] - starts[i]);
            /* The digest's first four bytes, as hashlib gives them (h0 big-endian). */
            out[4 * i] = h >> 24; out[4 * i + 1] = h >> 16; out[4 * i + 2] = h >> 8; out[4 * i + 3] = h;
        }
    }
    PyMem_Free(starts);
    return result;
}

static PyMethodDef methods[] = {
    {"shingle_hashes", shingle_hashes, METH_VARARGS, "shingle_hashes(text, width) -> datasketch's hash of every shingle, uint32 each"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shingles", NULL, -1, methods};

PyMODINIT_FUNC PyInit__shingles(void) { return PyModule_Create(&module); }
