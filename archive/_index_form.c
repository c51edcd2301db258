/* The index form of a text at C speed (archive.search.index_form).
 *
 * Every stored text passes through this once when it is indexed (the FTS5 view
 * calls zh_index_form on each row), so its cost is part of every import, crawl
 * and rebuild.  The NumPy version in search.py gives the same text and is what
 * runs where this was not compiled; tests compare the two.
 *
 * index_form(text, table) -> str: each character mapped through ``table`` (the
 * fold table, uint32 per code point below U+30000), one space between every two.
 * Above the table: plane-14 tags and selectors become spaces, anything else stays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define TABLE_SIZE 0x30000

static inline Py_UCS4 fold(const uint32_t *table, Py_UCS4 cp) {
    if (cp < TABLE_SIZE)
        return table[cp];
    return (cp >> 16) == 14 ? ' ' : cp;
}

static PyObject *index_form(PyObject *self, PyObject *args) {
    PyObject *text, *result = NULL;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "Uy*", &text, &table))
        return NULL;
    if (table.len < (Py_ssize_t)(TABLE_SIZE * sizeof(uint32_t))) {
        PyErr_SetString(PyExc_ValueError, "the fold table is too short");
        goto done;
    }
    const uint32_t *map = table.buf;
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

static PyMethodDef methods[] = {
    {"index_form", index_form, METH_VARARGS, "index_form(text, table) -> the text folded through table, spaced"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_index_form", NULL, -1, methods};

PyMODINIT_FUNC PyInit__index_form(void) { return PyModule_Create(&module); }
