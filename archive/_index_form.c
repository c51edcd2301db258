/* The index form of a text at C speed (archive.search_index.index_form).
 *
 * Every stored text passes through this once when it is indexed (the FTS5 view
 * calls zh_index_form on each row), so its cost is part of every import, crawl
 * and rebuild.  The NumPy version in search_index.py gives the same text and is what
 * runs where this was not compiled; tests compare the two.
 *
 * index_form(text, table) -> str: each character mapped through ``table`` (the
 * fold table, uint32 per code point below U+30000), one space between every two.
 * Above the table: plane-14 tags and selectors become spaces, anything else stays.
 * index_form_utf8(utf8, table) -> bytes: the same from UTF-8 to UTF-8 (what SQL calls).
 * comparable(text, table) -> str: folded, the ignored characters (folded to spaces) left out.
 * pair_form_utf8(utf8, codes, characters) -> bytes: the text's distinct pairs of
 * neighbouring characters (folded; ignored characters skipped) whose two characters are both
 * paired (numbered in ``codes``, which hold the fold), each pair a token, spaces between: what
 * the auxiliary pair index reads (search_index.PAIRS).
 * holds_all(terms, table, values) -> bool: every one of ``terms`` (UTF-8 of comparable forms)
 * is a substring of the comparable form of one of ``values`` (str, UTF-8 bytes or None), each
 * value folded from UTF-8 to UTF-8 in turn until all are found: the check of a candidate row
 * and of each row a page walks (search_index.holds), with no Python string per text.
 */
#define _GNU_SOURCE  /* memmem */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TABLE_SIZE 0x30000

static inline Py_UCS4 fold(const uint32_t *table, Py_UCS4 cp) {
    if (cp < TABLE_SIZE)
        return table[cp];
    return (cp >> 16) == 14 ? ' ' : cp;
}

/* The fold table's code points, or NULL (an exception set) when it is too short. */
static const uint32_t *fold_table(const Py_buffer *table) {
    if (table->len < (Py_ssize_t)(TABLE_SIZE * sizeof(uint32_t))) {
        PyErr_SetString(PyExc_ValueError, "the fold table is too short");
        return NULL;
    }
    return table->buf;
}

/* The (str, fold table) arguments of index_form and comparable, and the table's code points;
 * NULL with an exception set (and no buffer held) when they are not valid. */
static const uint32_t *text_and_table(PyObject *args, PyObject **text, Py_buffer *table) {
    if (!PyArg_ParseTuple(args, "Uy*", text, table))
        return NULL;
    const uint32_t *map = fold_table(table);
    if (map == NULL)
        PyBuffer_Release(table);
    return map;
}

static PyObject *index_form(PyObject *self, PyObject *args) {
    PyObject *text, *result = NULL;
    Py_buffer table;
    const uint32_t *map = text_and_table(args, &text, &table);
    if (map == NULL)
        return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (length == 0) {
        result = PyUnicode_New(0, 0);
        goto done;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 widest = ' ';
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 folded = fold(map, PyUnicode_READ(kind, data, i));
        if (folded > widest)
            widest = folded;
    }
    result = PyUnicode_New(2 * length - 1, widest);
    if (result == NULL)
        goto done;
    int out_kind = PyUnicode_KIND(result);
    void *out = PyUnicode_DATA(result);
    for (Py_ssize_t i = 0; i < length; i++) {
        if (i)
            PyUnicode_WRITE(out_kind, out, 2 * i - 1, ' ');
        PyUnicode_WRITE(out_kind, out, 2 * i, fold(map, PyUnicode_READ(kind, data, i)));
    }
done:
    PyBuffer_Release(&table);
    return result;
}

/* comparable(text, table) -> str: each character mapped through ``table``, the characters
 * that fold to a space (ignored by a search) left out: what a search compares (the oracle,
 * and the check of a few candidates' texts). */
static PyObject *comparable(PyObject *self, PyObject *args) {
    PyObject *text, *result = NULL;
    Py_buffer table;
    const uint32_t *map = text_and_table(args, &text, &table);
    if (map == NULL)
        return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), kept = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 widest = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 folded = fold(map, PyUnicode_READ(kind, data, i));
        if (folded == ' ')
            continue;
        kept++;
        if (folded > widest)
            widest = folded;
    }
    result = PyUnicode_New(kept, widest);
    if (result == NULL)
        goto done;
    int out_kind = PyUnicode_KIND(result);
    void *out = PyUnicode_DATA(result);
    for (Py_ssize_t i = 0, at = 0; i < length; i++) {
        Py_UCS4 folded = fold(map, PyUnicode_READ(kind, data, i));
        if (folded != ' ')
            PyUnicode_WRITE(out_kind, out, at++, folded);
    }
done:
    PyBuffer_Release(&table);
    return result;
}

/* The next code point of UTF-8 at *at (advanced past it).  SQLite stores what it
 * is given: each byte that starts no complete sequence is read as U+FFFD. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline Py_UCS4 next_code_point(const unsigned char *text, Py_ssize_t length, Py_ssize_t *at) {
    Py_ssize_t i = *at;
    unsigned char lead = text[i];
    int extra = lead < 0x80 ? 0 : (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2 : (lead & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || i + extra >= length) {
        *at = i + 1;
        return extra == 0 ? lead : 0xFFFD;
    }
    Py_UCS4 cp = extra == 0 ? lead : lead & (0x3F >> extra);
    for (int k = 1; k <= extra; k++) {
        if ((text[i + k] & 0xC0) != 0x80) {
            *at = i + 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (text[i + k] & 0x3F);
    }
    *at = i + 1 + extra;
    return cp;
}

static Py_ssize_t put_utf8(unsigned char *out, Py_UCS4 cp) {
    if (cp < 0x80) { out[0] = cp; return 1; }
    if (cp < 0x800) { out[0] = 0xC0 | cp >> 6; out[1] = 0x80 | (cp & 0x3F); return 2; }
    if (cp < 0x10000) { out[0] = 0xE0 | cp >> 12; out[1] = 0x80 | (cp >> 6 & 0x3F); out[2] = 0x80 | (cp & 0x3F); return 3; }
    out[0] = 0xF0 | cp >> 18; out[1] = 0x80 | (cp >> 12 & 0x3F); out[2] = 0x80 | (cp >> 6 & 0x3F); out[3] = 0x80 | (cp & 0x3F);
    return 4;
}

/* index_form_utf8(utf8, table) -> bytes: the same index form, UTF-8 in and out,
 * so SQLite's text never becomes a Python string on the way to the index. */
static PyObject *index_form_utf8(PyObject *self, PyObject *args) {
    Py_buffer text, table;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*", &text, &table))
        return NULL;
    const uint32_t *map = fold_table(&table);
    if (map == NULL)
        goto done;
    const unsigned char *in = text.buf;
    /* At most 4 bytes and a space for each input byte (a U+FFFD from one bad byte is 3). */
    result = PyBytes_FromStringAndSize(NULL, text.len * 5);
    if (result == NULL)
        goto done;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result), *start = out;
    for (Py_ssize_t at = 0; at < text.len;) {
        Py_UCS4 folded = fold(map, next_code_point(in, text.len, &at));
        if (out != start)
            *out++ = ' ';
        out += put_utf8(out, folded);
    }
    if (_PyBytes_Resize(&result, out - start) < 0)
        result = NULL;
done:
    PyBuffer_Release(&text);
    PyBuffer_Release(&table);
    return result;
}

#define IGNORED 0xFFFF  /* a code of pair_form_utf8: the character folds to a space */

/* pair_form_utf8(utf8, codes, characters) -> bytes: each distinct pair once, in order of first
 * occurrence.  ``codes`` (uint16 per code point below U+30000) says what each character is
 * once folded: IGNORED (a space), 0 (not paired), or its number n = 1..count among the paired
 * characters, whose folded UTF-8 (3 bytes each) is at 3n in ``characters`` (3 (count + 1)
 * bytes, the first 3 unused).  The text is read once and never folded: the codes hold the
 * fold.  A pair is a bit of a (count + 1) x (count + 1) bitmap: the memory is bounded by the
 * set of characters, not by the text (a 10 MB text needs no more).
 *
 * Whether a character is paired and whether its pair is new follow the text, not a pattern a
 * processor predicts, so the loop does not branch on them: each pair is written (pair, space)
 * at the end of the output, and the end moves past it only when the pair is new. */
static PyObject *pair_form_utf8(PyObject *self, PyObject *args) {
    Py_buffer text, codes, characters;
    PyObject *result = NULL;
    unsigned char *seen = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*", &text, &codes, &characters))
        return NULL;
    size_t count = characters.len / 3 - 1, side = count + 1;
    if (codes.len < (Py_ssize_t)(TABLE_SIZE * sizeof(uint16_t)) || characters.len < 3 || characters.len % 3
        || count >= IGNORED) {
        PyErr_SetString(PyExc_ValueError, "the codes or the paired characters are malformed");
        goto done;
    }
    const unsigned char *in = text.buf, *utf8 = characters.buf;
    const uint16_t *code_of = codes.buf;
    seen = PyMem_Calloc(side * side / 8 + 1, 1);
    /* At most a new pair (7 bytes) for each byte read, and 7 more for the write past the end
     * (the pages never written are never touched). */
    result = PyBytes_FromStringAndSize(NULL, text.len * 7 + 8);
    if (seen == NULL || result == NULL) {
        Py_CLEAR(result);
        if (seen == NULL)
            PyErr_NoMemory();
        goto done;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result), *start = out;
    size_t previous = 0;
    for (Py_ssize_t at = 0; at < text.len;) {
        Py_UCS4 cp = next_code_point(in, text.len, &at);
        size_t current = cp < TABLE_SIZE ? code_of[cp] : (cp >> 16) == 14 ? IGNORED : 0;
        if (current == IGNORED)
            continue;  /* ignored characters join their neighbours, as in a phrase */
        current = current <= count ? current : 0;
        size_t bit = previous * side + current;
        unsigned paired = (unsigned)(previous != 0) & (unsigned)(current != 0);
        unsigned fresh = paired & ~(unsigned)(seen[bit >> 3] >> (bit & 7));
        seen[bit >> 3] |= (unsigned char)(fresh << (bit & 7));
        memcpy(out, utf8 + 3 * previous, 3);
        memcpy(out + 3, utf8 + 3 * current, 3);
        out[6] = ' ';
        out += 7 * fresh;
        previous = current;
    }
    /* The last pair's space is not part of the form. */
    if (_PyBytes_Resize(&result, out > start ? out - start - 1 : 0) < 0)
        result = NULL;
done:
    PyMem_Free(seen);
    PyBuffer_Release(&text);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&characters);
    return result;
}


/* The comparable form of UTF-8 ``in`` (folded, ignored characters left out) written at ``out``
 * (room for 3 bytes per input byte: a lone byte becomes U+FFFD, ASCII punctuation its
 * full-width twin); returns its length. */
static Py_ssize_t comparable_utf8(const unsigned char *in, Py_ssize_t length, const uint32_t *map, unsigned char *out) {
    unsigned char *start = out;
    for (Py_ssize_t at = 0; at < length;) {
        Py_UCS4 folded = fold(map, next_code_point(in, length, &at));
        if (folded != ' ')
            out += put_utf8(out, folded);
    }
    return out - start;
}

/* The UTF-8 of a value of holds_all (str or bytes); 0 with no exception for None, -1 with one
 * for anything else. */
static int value_utf8(PyObject *value, const char **utf8, Py_ssize_t *length) {
    if (value == Py_None)
        return 0;
    if (PyBytes_Check(value)) {
        *utf8 = PyBytes_AS_STRING(value);
        *length = PyBytes_GET_SIZE(value);
        return 1;
    }
    if (PyUnicode_Check(value)) {
        *utf8 = PyUnicode_AsUTF8AndSize(value, length);
        return *utf8 == NULL ? -1 : 1;
    }
    PyErr_SetString(PyExc_TypeError, "holds_all reads str, bytes or None");
    return -1;
}

static PyObject *holds_all(PyObject *self, PyObject *args) {
    PyObject *terms, *values, *result = NULL;
    Py_buffer table;
    unsigned char *folded = NULL, *found = NULL;
    if (!PyArg_ParseTuple(args, "O!y*O!", &PyTuple_Type, &terms, &table, &PyTuple_Type, &values))
        return NULL;
    const uint32_t *map = fold_table(&table);
    Py_ssize_t count = PyTuple_GET_SIZE(terms), missing = count, room = 0;
    if (map == NULL)
        goto done;
    for (Py_ssize_t t = 0; t < count; t++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(terms, t))) {
            PyErr_SetString(PyExc_TypeError, "holds_all's terms are bytes");
            goto done;
        }
    found = PyMem_Calloc(count + 1, 1);
    if (found == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t v = 0; v < PyTuple_GET_SIZE(values) && missing; v++) {
        const char *utf8;
        Py_ssize_t length;
        int kind = value_utf8(PyTuple_GET_ITEM(values, v), &utf8, &length);
        if (kind < 0)
            goto done;
        if (kind == 0)
            continue;
        if (3 * length + 4 > room) {
            PyMem_Free(folded);
            room = 3 * length + 4;
            folded = PyMem_Malloc(room);
            if (folded == NULL) {
                PyErr_NoMemory();
                goto done;
            }
        }
        Py_ssize_t compared = comparable_utf8((const unsigned char *)utf8, length, map, folded);
        for (Py_ssize_t t = 0; t < count; t++) {
            PyObject *term = PyTuple_GET_ITEM(terms, t);
            if (!found[t] && memmem(folded, compared, PyBytes_AS_STRING(term), PyBytes_GET_SIZE(term)) != NULL) {
                found[t] = 1;
                missing--;
            }
        }
    }
    result = PyBool_FromLong(missing == 0);
done:
    PyMem_Free(folded);
    PyMem_Free(found);
    PyBuffer_Release(&table);
    return result;
}

static PyMethodDef methods[] = {
    {"index_form", index_form, METH_VARARGS, "index_form(text, table) -> the text folded through table, spaced"},
    {"comparable", comparable, METH_VARARGS, "comparable(text, table) -> the text folded through table, ignored characters left out"},
    {"index_form_utf8", index_form_utf8, METH_VARARGS, "index_form_utf8(utf8, table) -> the same, as UTF-8"},
    {"pair_form_utf8", pair_form_utf8, METH_VARARGS, "pair_form_utf8(utf8, codes, characters) -> distinct paired pairs, as UTF-8"},
    {"holds_all", holds_all, METH_VARARGS, "holds_all(terms, table, values) -> every term in the comparable form of one value"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_index_form", NULL, -1, methods};

PyMODINIT_FUNC PyInit__index_form(void) { return PyModule_Create(&module); }
