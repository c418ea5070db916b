/* The rows of the event table grouped by series, in C: what logdoctor.table.series_grouping does with numpy.
 *
 * group(columns, rows) takes the key columns of a table in array form (each a buffer of signed integers
 * of 1, 4 or 8 bytes, a buffer of bools that marks the missing values or None, and a range that holds the
 * values) and returns its
 * grouping: per row the number of its group, the rows in group order (log order within a group) and where
 * each group begins there.  Groups are numbered in the order of their keys, a key being the columns' values
 * read as digits (a missing value is the lowest digit of its column), the first column the most significant.
 *
 * It is a counting sort: a pass to make the keys and count them, a pass to put the rows in place.  numpy
 * needs some twenty passes and a sort for the same (a million Caffe rows: 22 ms, here 6).  When the keys
 * would be too many to count in a table (columns of far-apart values), group() returns None and the caller
 * uses numpy.  tests/test_table.py holds both to the same groups.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_COLUMNS 16
#define TILE 4096  /* rows whose keys are made together */

typedef struct {
    Py_buffer values, mask;
    int has_mask;
    int64_t low, radix;  /* a value v is the digit v - low + 1; a missing one 0 */
} column_t;

/* keys[j] = keys[j] * radix + the digit of row first + j in column c, for j < rows. */
static void add_digits(const column_t *c, Py_ssize_t first, Py_ssize_t rows, uint32_t *keys) {
    const char *missing = c->has_mask ? (const char *)c->mask.buf + first : NULL;
    const uint32_t radix = (uint32_t)c->radix;
    const int64_t low = c->low;
#define DIGITS(T)                                                                                      \
    do {                                                                                               \
        const T *v = (const T *)c->values.buf + first;                                                 \
        if (missing)                                                                                   \
            for (Py_ssize_t j = 0; j < rows; j++)                                                      \
                keys[j] = keys[j] * radix + (missing[j] ? 0 : (uint32_t)(v[j] - low + 1));             \
        else                                                                                           \
            for (Py_ssize_t j = 0; j < rows; j++) keys[j] = keys[j] * radix + (uint32_t)(v[j] - low + 1); \
    } while (0)
    switch (c->values.itemsize) {
    case 1: DIGITS(int8_t); break;
    case 4: DIGITS(int32_t); break;
    default: DIGITS(int64_t); break;
    }
#undef DIGITS
}

/* A column of the list: its buffers, and its range (low in c->low). */
static int get_column(PyObject *item, Py_ssize_t rows, column_t *c, int64_t *high) {
    PyObject *values, *mask;
    long long low, top;
    if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "OO(LL)", &values, &mask, &low, &top)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "group(): a column is a (values, mask, (low, high)) tuple");
        return 0;
    }
    c->low = low;
    *high = top;
    if (PyObject_GetBuffer(values, &c->values, PyBUF_C_CONTIGUOUS) < 0) return 0;
    Py_ssize_t size = c->values.itemsize;
    if ((size != 1 && size != 4 && size != 8) || c->values.len != rows * size) {
        PyBuffer_Release(&c->values);
        PyErr_SetString(PyExc_ValueError, "group(): values are integers of 1, 4 or 8 bytes, one per row");
        return 0;
    }
    c->has_mask = mask != Py_None;
    if (c->has_mask) {
        if (PyObject_GetBuffer(mask, &c->mask, PyBUF_C_CONTIGUOUS) < 0) {
            PyBuffer_Release(&c->values);
            return 0;
        }
        if (c->mask.itemsize != 1 || c->mask.len != rows) {
            PyBuffer_Release(&c->values);
            PyBuffer_Release(&c->mask);
            PyErr_SetString(PyExc_ValueError, "group(): a mask is one bool per row");
            return 0;
        }
    }
    return 1;
}

PyDoc_STRVAR(group_doc,
"group(columns, rows) -> (codes, code size, order, starts) | None\n\n"
"columns: (values, mask or None, (low, high)) per key column, rows long (the range must hold every value\n"
"that is not missing).  Returns bytes: the group of each row\n"
"(integers of code size bytes: 1, 2 or 8), the rows in group order and where each group begins (int64);\n"
"None when the keys are too many to count.");

static PyObject *group(PyObject *self, PyObject *args) {
    PyObject *list;
    Py_ssize_t rows;
    if (!PyArg_ParseTuple(args, "On", &list, &rows)) return NULL;
    if (!PyList_Check(list) || PyList_GET_SIZE(list) > MAX_COLUMNS || rows < 0) {
        PyErr_SetString(PyExc_ValueError, "group(): a list of at most 16 columns, and a row count");
        return NULL;
    }
    column_t columns[MAX_COLUMNS];
    Py_ssize_t n = 0, taken = PyList_GET_SIZE(list);
    PyObject *result = NULL;
    uint32_t *keys = NULL;
    int64_t *counts = NULL;
    PyObject *codes = NULL, *order = NULL, *starts = NULL;
    /* Keys are counted in a table: at most this many (no bigger than the rows' own arrays, or small), and
     * each fits in 32 bits. */
    const int64_t most = rows > (1 << 16) ? (rows < (1 << 30) ? 2 * (int64_t)rows : (int64_t)1 << 31) : (1 << 17);
    int64_t bound = 1;
    for (Py_ssize_t i = 0; i < taken; i++) {
        int64_t high;
        if (!get_column(PyList_GET_ITEM(list, i), rows, &columns[n], &high)) goto done;
        column_t *c = &columns[n++];
        if (high < c->low) high = c->low;  /* (an empty range: a column missing everywhere) */
        if ((uint64_t)high - (uint64_t)c->low >= (uint64_t)most) goto none;  /* far apart: no table */
        c->radix = high - c->low + 2;
        bound *= c->radix;
        if (bound > most) goto none;
    }
    keys = PyMem_Malloc((rows ? rows : 1) * sizeof(uint32_t));
    counts = PyMem_Calloc(bound, sizeof(int64_t));
    if (!keys || !counts) {
        PyErr_NoMemory();
        goto done;
    }
    /* A tile of keys at a time, made column after column while it stays in the cache. */
    for (Py_ssize_t first = 0; first < rows; first += TILE) {
        Py_ssize_t m = rows - first < TILE ? rows - first : TILE;
        uint32_t *tile = keys + first;
        memset(tile, 0, (size_t)m * sizeof(uint32_t));
        for (Py_ssize_t i = 0; i < n; i++) add_digits(&columns[i], first, m, tile);
        uint32_t top = 0;
        for (Py_ssize_t j = 0; j < m; j++) top = tile[j] > top ? tile[j] : top;
        if (top >= bound) {  /* (a value outside the range it was given: never counted past the table) */
            PyErr_SetString(PyExc_ValueError, "group(): a value outside the range given for its column");
            goto done;
        }
        for (Py_ssize_t j = 0; j < m; j++) counts[tile[j]]++;
    }
    /* Groups numbered in the order of their keys: counts becomes each key's group, then its next place. */
    int64_t groups = 0;
    for (int64_t k = 0; k < bound; k++) groups += counts[k] > 0;
    Py_ssize_t code_size = groups <= 1 << 8 ? 1 : groups <= 1 << 16 ? 2 : 8;
    codes = PyBytes_FromStringAndSize(NULL, rows * code_size);
    order = PyBytes_FromStringAndSize(NULL, rows * (Py_ssize_t)sizeof(int64_t));
    starts = PyBytes_FromStringAndSize(NULL, groups * (Py_ssize_t)sizeof(int64_t));
    if (!codes || !order || !starts) goto done;
    int64_t *start = (int64_t *)PyBytes_AS_STRING(starts), *place = (int64_t *)PyBytes_AS_STRING(order);
    {
        int64_t g = 0, at = 0;
        for (int64_t k = 0; k < bound; k++) {
            if (!counts[k]) continue;
            start[g] = at;
            at += counts[k];
            counts[k] = g++;  /* the key's group */
        }
    }
    /* Each row's group, and the row put in the next place of its group. */
    int64_t *next = PyMem_Malloc((groups ? groups : 1) * sizeof(int64_t));
    if (!next) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(next, start, groups * sizeof(int64_t));
    char *code = PyBytes_AS_STRING(codes);
#define PLACE(T)                                                                                       \
    for (Py_ssize_t r = 0; r < rows; r++) {                                                           \
        int64_t g = counts[keys[r]];                                                                   \
        ((T *)code)[r] = (T)g;                                                                         \
        place[next[g]++] = r;                                                                          \
    }
    if (code_size == 1) PLACE(uint8_t)
    else if (code_size == 2) PLACE(uint16_t)
    else PLACE(int64_t)
#undef PLACE
    PyMem_Free(next);
    result = Py_BuildValue("(OnOO)", codes, code_size, order, starts);
    goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    for (Py_ssize_t i = 0; i < n; i++) {
        PyBuffer_Release(&columns[i].values);
        if (columns[i].has_mask) PyBuffer_Release(&columns[i].mask);
    }
    PyMem_Free(keys);
    PyMem_Free(counts);
    Py_XDECREF(codes);
    Py_XDECREF(order);
    Py_XDECREF(starts);
    return result;
}

static PyMethodDef methods[] = {
    {"group", group, METH_VARARGS, group_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_grouping", "The event table's rows grouped by series, in C (see group).", -1, methods,
};

PyMODINIT_FUNC PyInit__grouping(void) { return PyModule_Create(&module); }
