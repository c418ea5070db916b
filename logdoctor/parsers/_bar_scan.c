/* The redrawn progress bars of Keras and Lightning read in C: the hot loops of the parsers' _bulk.
 *
 * A bar redrawn with \r or \b leaves thousands of logical lines, one per drawn state, each of the shape
 * the parser's _hot_shape pattern describes.  keras_states and tqdm_states read the states from a
 * position in a block's text on, as numbers, up to the first line they do not read (keras_states passes
 * over the stubs backspaces leave of a state, as the parser does), and return arrays (as bytes: numpy
 * reads them without a copy).
 *
 * Each reads a subset of what its Python twin reads (keras._hot_states_python,
 * lightning._hot_states_python), and the same numbers from it: it may stop earlier, never later, and the
 * parser reads whatever follows state by state.  A stop is always safe because reading states in bulk
 * gives what reading them one by one gives.  The subset leaves out what logs do not print: Unicode
 * digits, numbers of more than 18 digits, and values float() reads but that are not written as Python
 * writes a float (underscores, Unicode digits, blanks).  Values are converted by PyOS_string_to_double,
 * the function behind float(): the same double for the same text.
 * tests/test_bar_scan_native.py holds both twins to each other on random states.
 *
 * Every character is read with the kind of the str (1, 2 or 4 bytes); each scanner is written once and
 * inlined into one copy per kind.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../_chars.h"

#define MAX_DIGITS 18      /* a count of up to 18 digits fits an int64 */
#define MAX_FLOAT_CHARS 63 /* a longer value is left to Python */
#define HEAVY_LINE 0x2501  /* ━, Keras 3's bar */

/* ---------------------------------------------------------------- growing arrays */

typedef struct {
    char *data;
    Py_ssize_t size, capacity; /* in bytes */
} Bytes;

static int bytes_add(Bytes *b, const void *item, Py_ssize_t length) {
    if (b->size + length > b->capacity) {
        Py_ssize_t capacity = 2 * b->capacity + length + 4096;
        char *data = PyMem_Realloc(b->data, (size_t)capacity);
        if (!data) {
            PyErr_NoMemory();
            return 0;
        }
        b->data = data;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, item, (size_t)length);
    b->size += length;
    return 1;
}

static PyObject *bytes_take(Bytes *b) {
    PyObject *out = PyBytes_FromStringAndSize(b->data ? b->data : "", b->size);
    PyMem_Free(b->data);
    b->data = NULL;
    b->size = b->capacity = 0;
    return out;
}

/* ---------------------------------------------------------------- pieces of a line */

/* An unsigned decimal of 1 to MAX_DIGITS ASCII digits at *i; -1 (and *i unchanged) if none. */
INLINE long long read_count(int kind, const void *data, Py_ssize_t *i) {
    Py_ssize_t j = *i;
    long long value = 0;
    while (READ(j) >= '0' && READ(j) <= '9') {
        if (j - *i == MAX_DIGITS) return -1;
        value = value * 10 + (long long)(READ(j) - '0');
        j++;
    }
    if (j == *i) return -1;
    *i = j;
    return value;
}

INLINE int is_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }

/* Whether the text of the key (a str) is at i; moves i past it. */
INLINE int read_key(int kind, const void *data, Py_ssize_t *i, PyObject *key) {
    int key_kind = PyUnicode_KIND(key);
    const void *key_data = PyUnicode_DATA(key);
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    for (Py_ssize_t k = 0; k < length; k++) {
        Py_UCS4 c = READ(*i + k);
        if (c == '\n' || c != PyUnicode_READ(key_kind, key_data, k)) return 0; /* never past the line's end */
    }
    *i += length;
    return 1;
}

/* Whether data[i:i+length] is written as Python writes a float (repr or %f, %e, %g): sign, digits with a
 * point, exponent; or nan, inf, infinity in any case.  float() reads all of these. */
INLINE int float_written(int kind, const void *data, Py_ssize_t i, Py_ssize_t length) {
    Py_ssize_t j = i, end = i + length;
    if (length <= 0 || length > MAX_FLOAT_CHARS) return 0;
    if (READ(j) == '+' || READ(j) == '-') j++;
    if (j < end && !is_digit(READ(j)) && READ(j) != '.') {
        static const char *words[] = {"nan", "inf", "infinity"};
        for (int w = 0; w < 3; w++) {
            Py_ssize_t n = (Py_ssize_t)strlen(words[w]);
            if (end - j != n) continue;
            Py_ssize_t k = 0;
            while (k < n && (READ(j + k) | 0x20) == (Py_UCS4)words[w][k]) k++;
            if (k == n) return 1;
        }
        return 0;
    }
    Py_ssize_t digits = 0;
    while (j < end && is_digit(READ(j))) j++, digits++;
    if (j < end && READ(j) == '.') {
        j++;
        while (j < end && is_digit(READ(j))) j++, digits++;
    }
    if (!digits) return 0;
    if (j < end && (READ(j) == 'e' || READ(j) == 'E')) {
        j++;
        if (j < end && (READ(j) == '+' || READ(j) == '-')) j++;
        Py_ssize_t exponent = j;
        while (j < end && is_digit(READ(j))) j++;
        if (j == exponent) return 0;
    }
    return j == end;
}

/* float() of data[i:i+length], which float_written accepted; -1 with an exception set on failure. */
INLINE int to_double(int kind, const void *data, Py_ssize_t i, Py_ssize_t length, double *out) {
    char text[MAX_FLOAT_CHARS + 1];
    for (Py_ssize_t k = 0; k < length; k++) text[k] = (char)READ(i + k);
    text[length] = '\0';
    double value = PyOS_string_to_double(text, NULL, NULL);
    if (value == -1.0 && PyErr_Occurred()) return -1;
    *out = value;
    return 0;
}

/* ---------------------------------------------------------------- Keras */

/* Where a Keras bar state at i ends its progress part (count, target, bar or ETA), as keras.HOT_STATE
 * reads it: ` *(\d+)/(\d+)(?: \[[=>.]*\] - ETA: | ━+ )\d+(?::\d\d){0,2}s?(?: \d+(?:\.\d+)?(?:us|ms|s)/step)?`.
 * Each part begins with a character the part before cannot take, so reading greedily never has to go
 * back.  -1 when the line is not such a state. */
INLINE Py_ssize_t keras_progress(int kind, const void *data, Py_ssize_t i, long long *cur, long long *target) {
    while (READ(i) == ' ') i++;
    if ((*cur = read_count(kind, data, &i)) < 0 || READ(i) != '/') return -1;
    i++;
    if ((*target = read_count(kind, data, &i)) < 0 || READ(i) != ' ') return -1;
    i++;
    if (READ(i) == '[') {
        i++;
        while (READ(i) == '=' || READ(i) == '>' || READ(i) == '.') i++;
        static const char eta[] = "] - ETA: ";
        for (int k = 0; eta[k]; k++, i++)
            if (READ(i) != (Py_UCS4)eta[k]) return -1;
    } else if (READ(i) == HEAVY_LINE) {
        while (READ(i) == HEAVY_LINE) i++;
        if (READ(i) != ' ') return -1;
        i++;
    } else {
        return -1;
    }
    if (!is_digit(READ(i))) return -1;
    while (is_digit(READ(i))) i++;
    for (int parts = 0; parts < 2 && READ(i) == ':' && is_digit(READ(i + 1)) && is_digit(READ(i + 2)); parts++)
        i += 3;
    if (READ(i) == 's') i++;
    if (READ(i) == ' ' && is_digit(READ(i + 1))) { /* the time per step */
        i++;
        while (is_digit(READ(i))) i++;
        if (READ(i) == '.') {
            i++;
            if (!is_digit(READ(i))) return -1;
            while (is_digit(READ(i))) i++;
        }
        if (READ(i) == 'u' || READ(i) == 'm') i++;
        static const char step[] = "s/step";
        for (int k = 0; step[k]; k++, i++)
            if (READ(i) != (Py_UCS4)step[k]) return -1;
    }
    return i;
}

typedef struct {
    Py_ssize_t count, consumed, last; /* states read, lines read, where the last state is (from pos's line) */
    Bytes numbers;                    /* int64 count, target, physical line per state */
    Bytes values;                     /* float64 per state and key */
} KerasRun;

/* Where the lines of a block are in its input: `physical` (a list of int, one per line), or None when line k
 * is physical line first + k. */
typedef struct {
    PyObject *physical;
    long long first;
} Places;

/* The physical line of logical line k; -1 with an exception set on failure. */
static long long physical_line(const Places *places, Py_ssize_t k) {
    if (places->physical == Py_None) return places->first + k;
    if (k >= PyList_GET_SIZE(places->physical)) {
        PyErr_SetString(PyExc_IndexError, "a line without a physical line number");
        return -1;
    }
    return PyLong_AsLongLong(PyList_GET_ITEM(places->physical, k));
}

/* Whether the line at i (ending at the newline at end) is what backspaces that erase a bar state before the
 * \r leave of it (" 2/1", "16"), as KerasLineParser._line knows it: the first characters of the state
 * before (at `state`), digits, slashes and blanks only, on the same physical line.  The state before is
 * a count and target (the bar parts that follow are never read as such a line), so the parser reads it as
 * known, and it gives no row. */
INLINE int redraw_prefix(int kind, const void *data, Py_ssize_t i, Py_ssize_t end, Py_ssize_t state,
                         Py_ssize_t state_end) {
    Py_ssize_t kept = end;
    while (kept > i && READ(kept - 1) == ' ') kept--;
    if (kept == i || kept - i > state_end - state || !(READ(i) == ' ' || is_digit(READ(i)))) return 0;
    for (Py_ssize_t k = i; k < end; k++) {
        Py_UCS4 c = READ(k);
        if (!(is_digit(c) || c == '/' || c == ' ')) return 0;
    }
    for (Py_ssize_t k = 0; k < kept - i; k++)
        if (READ(i + k) != READ(state + k)) return 0;
    return 1;
}

INLINE int keras_scan(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, PyObject *keys,
                      long long divisor, const Places *places, Py_ssize_t index, KerasRun *run) {
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys), line = index;
    Py_ssize_t state = -1, state_end = -1; /* the line of the last state read, if it is the line before */
    long long last_tick = -1, state_place = 0;
    double row[64];
    if (nkeys > 64) return 0;
    while (i < n) {
        long long cur, target;
        Py_ssize_t j = keras_progress(kind, data, i, &cur, &target);
        Py_ssize_t k = 0;
        if (j >= 0) {
            if (cur == target) break; /* the epoch's final state is read one by one */
            long long tick = divisor == 1 ? cur : (cur + divisor - 1) / divisor;
            if (tick == last_tick) break; /* a state at the step of the one before adds values: one by one */
            for (k = 0; k < nkeys; k++) {
                if (READ(j) != ' ' || READ(j + 1) != '-' || READ(j + 2) != ' ') break;
                j += 3;
                if (!read_key(kind, data, &j, PyTuple_GET_ITEM(keys, k)) || READ(j) != ':' || READ(j + 1) != ' ')
                    break;
                j += 2;
                Py_ssize_t start = j;
                while (READ(j) != ' ' && READ(j) != '\n') j++;
                if (!float_written(kind, data, start, j - start)) break;
                if (to_double(kind, data, start, j - start, &row[k]) < 0) return -1;
            }
            if (k == nkeys) {
                while (READ(j) == ' ') j++;
                if (READ(j) == '\n') {
                    long long place = physical_line(places, line);
                    if (place == -1 && PyErr_Occurred()) return -1;
                    long long numbers[3] = {cur, target, place};
                    if (!bytes_add(&run->numbers, numbers, sizeof numbers) ||
                        !bytes_add(&run->values, row, (Py_ssize_t)(nkeys * sizeof(double))))
                        return -1;
                    run->count++;
                    run->last = line - index;
                    last_tick = tick;
                    state = i, state_end = j, state_place = place;
                    i = j + 1;
                    run->consumed = ++line - index;
                    continue;
                }
            }
        }
        /* Not a state: the run goes on past what backspaces left of the state before. */
        if (state < 0) break;
        Py_ssize_t end = i;
        while (READ(end) != '\n') end++;
        if (!redraw_prefix(kind, data, i, end, state, state_end)) break;
        long long place = physical_line(places, line);
        if (place == -1 && PyErr_Occurred()) return -1;
        if (place != state_place) break;
        state = -1; /* (the line before the next one is this, not a state) */
        i = end + 1;
        run->consumed = ++line - index;
    }
    return 0;
}

PyDoc_STRVAR(keras_states_doc,
             "keras_states(text, pos, keys, divisor, physical, first, index) -> (count, consumed, last, numbers, "
             "values)\n\n"
             "The Keras bar states from text[pos:] (the start of logical line `index`) on that show the metrics\n"
             "keys (a tuple of str) with values written as floats, up to the epoch's final state\n"
             "(count == target) and to a state whose step, ceil(count / divisor), is that of the state before;\n"
             "a line that backspaces left of the state before it is passed over.  consumed counts the lines\n"
             "read, last is where the last state is (from line index).  numbers holds int64 (count, target,\n"
             "physical line) per state, values float64 per state and key.  physical (a list of int, or None\n"
             "for first + k) gives the physical line of logical line k.");

static PyObject *keras_states(PyObject *self, PyObject *args) {
    PyObject *text, *keys;
    Places places;
    Py_ssize_t pos, index;
    long long divisor;
    if (!PyArg_ParseTuple(args, "UnO!LOLn", &text, &pos, &PyTuple_Type, &keys, &divisor, &places.physical,
                          &places.first, &index))
        return NULL;
    if (READY(text) < 0) return NULL;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(keys, k)) || READY(PyTuple_GET_ITEM(keys, k)) < 0) {
            PyErr_SetString(PyExc_TypeError, "keys must be str");
            return NULL;
        }
    if (places.physical != Py_None && !PyList_Check(places.physical)) {
        PyErr_SetString(PyExc_TypeError, "physical must be a list or None");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (divisor < 1 || pos < 0 || pos > n || index < 0 || (n && PyUnicode_READ_CHAR(text, n - 1) != '\n')) {
        PyErr_SetString(PyExc_ValueError, "keras_states() needs whole lines and a divisor of at least 1");
        return NULL;
    }
    KerasRun run = {0};
    const void *data = PyUnicode_DATA(text);
    int status;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        status = keras_scan(PyUnicode_1BYTE_KIND, data, n, pos, keys, divisor, &places, index, &run);
        break;
    case PyUnicode_2BYTE_KIND:
        status = keras_scan(PyUnicode_2BYTE_KIND, data, n, pos, keys, divisor, &places, index, &run);
        break;
    default: status = keras_scan(PyUnicode_4BYTE_KIND, data, n, pos, keys, divisor, &places, index, &run); break;
    }
    if (status < 0) {
        PyMem_Free(run.numbers.data);
        PyMem_Free(run.values.data);
        return NULL;
    }
    return Py_BuildValue("(nnnNN)", run.count, run.consumed, run.last, bytes_take(&run.numbers),
                         bytes_take(&run.values));
}

/* ---------------------------------------------------------------- Lightning (tqdm) */

/* Where the postfix of a tqdm main-bar state at i begins, as lightning.HOT_BAR reads it:
 * `Epoch (\d+): *(?:\d+%)?\|[^|\n]*\| *(\d+)/(\d+) \[[^,\]\n]*, *[^,\]\n]*, `.  -1 when the line is not such
 * a state. */
INLINE Py_ssize_t tqdm_progress(int kind, const void *data, Py_ssize_t i, long long *epoch, long long *count,
                                long long *total) {
    static const char head[] = "Epoch ";
    for (int k = 0; head[k]; k++, i++)
        if (READ(i) != (Py_UCS4)head[k]) return -1;
    if ((*epoch = read_count(kind, data, &i)) < 0 || READ(i) != ':') return -1;
    i++;
    while (READ(i) == ' ') i++;
    if (is_digit(READ(i))) {
        while (is_digit(READ(i))) i++;
        if (READ(i) != '%') return -1;
        i++;
    }
    if (READ(i) != '|') return -1;
    i++;
    while (READ(i) != '|' && READ(i) != '\n') i++;
    if (READ(i) != '|') return -1;
    i++;
    while (READ(i) == ' ') i++;
    if ((*count = read_count(kind, data, &i)) < 0 || READ(i) != '/') return -1;
    i++;
    if ((*total = read_count(kind, data, &i)) < 0 || READ(i) != ' ' || READ(i + 1) != '[') return -1;
    i += 2;
    for (int field = 0; field < 2; field++) { /* elapsed<remaining, then the rate */
        while (READ(i) != ',' && READ(i) != ']' && READ(i) != '\n') i++;
        if (READ(i) != ',') return -1;
        i++;
        if (field == 0)
            while (READ(i) == ' ') i++;
    }
    if (READ(i) != ' ') return -1;
    return i + 1;
}

/* Whether the `length` characters from `start` (a key's value) equal the str expected. */
INLINE int same_text(int kind, const void *data, Py_ssize_t start, Py_ssize_t length, PyObject *expected) {
    if (PyUnicode_GET_LENGTH(expected) != length) return 0;
    int expected_kind = PyUnicode_KIND(expected);
    const void *expected_data = PyUnicode_DATA(expected);
    for (Py_ssize_t k = 0; k < length; k++)
        if (READ(start + k) != PyUnicode_READ(expected_kind, expected_data, k)) return 0;
    return 1;
}

typedef struct {
    Py_ssize_t count;
    Bytes counts;   /* int64 per state */
    Bytes values;   /* float64 per state and written key */
    Bytes versions; /* uint8 per state: its version differs from that of the state before */
} TqdmRun;

/* The settings of a scan, from the caller's tuples. */
typedef struct {
    PyObject *keys;     /* tuple of str */
    PyObject *shown;    /* tuple: the str a key's value must keep (an epoch-level key), or None */
    PyObject *written;  /* tuple of bool: the key's value becomes a row and must be a float */
    Py_ssize_t version; /* index of the key v_num, or -1 */
    long long epoch, floor;
} TqdmScan;

INLINE int tqdm_scan(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, const TqdmScan *scan, TqdmRun *run) {
    Py_ssize_t nkeys = PyTuple_GET_SIZE(scan->keys);
    long long previous = scan->floor;
    Py_ssize_t version_start = -1, version_length = 0;
    double row[64];
    if (nkeys > 64) return 0;
    while (i < n) {
        long long epoch, count, total;
        Py_ssize_t j = tqdm_progress(kind, data, i, &epoch, &count, &total);
        if (j < 0 || epoch != scan->epoch || count < previous) break;
        Py_ssize_t k, written = 0, this_version = -1, this_length = 0;
        for (k = 0; k < nkeys; k++) {
            if (k) {
                if (READ(j) != ',' || READ(j + 1) != ' ') break;
                j += 2;
            }
            if (!read_key(kind, data, &j, PyTuple_GET_ITEM(scan->keys, k)) || READ(j) != '=') break;
            Py_ssize_t start = ++j;
            for (Py_UCS4 c = READ(j); c != ',' && c != ']' && !Py_UNICODE_ISSPACE(c); c = READ(j)) j++;
            if (j == start) break;
            PyObject *shown = PyTuple_GET_ITEM(scan->shown, k);
            if (shown != Py_None && !same_text(kind, data, start, j - start, shown)) break;
            if (PyTuple_GET_ITEM(scan->written, k) == Py_True) {
                if (!float_written(kind, data, start, j - start)) break;
                if (to_double(kind, data, start, j - start, &row[written++]) < 0) return -1;
            }
            if (k == scan->version) this_version = start, this_length = j - start;
        }
        if (k < nkeys || READ(j) != ']') break;
        j++;
        while (READ(j) == ' ') j++;
        if (READ(j) != '\n') break;
        unsigned char changed = 0;
        if (run->count && this_version >= 0) {
            changed = this_length != version_length;
            for (Py_ssize_t c = 0; !changed && c < this_length; c++)
                changed = READ(this_version + c) != READ(version_start + c);
        }
        if (!bytes_add(&run->counts, &count, sizeof count) ||
            !bytes_add(&run->values, row, (Py_ssize_t)(written * sizeof(double))) ||
            !bytes_add(&run->versions, &changed, 1))
            return -1;
        run->count++;
        previous = count;
        version_start = this_version, version_length = this_length;
        i = j + 1;
    }
    return 0;
}

PyDoc_STRVAR(tqdm_states_doc,
             "tqdm_states(text, pos, keys, shown, written, version, epoch, floor) -> (count, counts, values, "
             "changed)\n\n"
             "The states of a tqdm main bar from text[pos:] on that show the postfix keys (a tuple of str), in\n"
             "epoch `epoch`, with counts that never go back (the first at least `floor`), up to a change of\n"
             "the value of a key whose value in `shown` is a str, and to a value of a `written` key (a tuple\n"
             "of bool) that is not written as a float.  counts holds int64 per state, values float64 per\n"
             "state and written key, changed a uint8 per state: its value of the key at index `version`\n"
             "(-1: none) differs from the state before.");

static PyObject *tqdm_states(PyObject *self, PyObject *args) {
    PyObject *text;
    TqdmScan scan;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "UnO!O!O!nLL", &text, &pos, &PyTuple_Type, &scan.keys, &PyTuple_Type, &scan.shown,
                          &PyTuple_Type, &scan.written, &scan.version, &scan.epoch, &scan.floor))
        return NULL;
    if (READY(text) < 0) return NULL;
    Py_ssize_t nkeys = PyTuple_GET_SIZE(scan.keys);
    if (PyTuple_GET_SIZE(scan.shown) != nkeys || PyTuple_GET_SIZE(scan.written) != nkeys) {
        PyErr_SetString(PyExc_ValueError, "tqdm_states() needs as many shown values and written flags as keys");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(scan.keys, k), *shown = PyTuple_GET_ITEM(scan.shown, k);
        if (!PyUnicode_Check(key) || READY(key) < 0 || (shown != Py_None && (!PyUnicode_Check(shown) || READY(shown) < 0))) {
            PyErr_SetString(PyExc_TypeError, "keys and shown values must be str");
            return NULL;
        }
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (pos < 0 || pos > n || (n && PyUnicode_READ_CHAR(text, n - 1) != '\n')) {
        PyErr_SetString(PyExc_ValueError, "tqdm_states() needs whole lines");
        return NULL;
    }
    TqdmRun run = {0};
    const void *data = PyUnicode_DATA(text);
    int status;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: status = tqdm_scan(PyUnicode_1BYTE_KIND, data, n, pos, &scan, &run); break;
    case PyUnicode_2BYTE_KIND: status = tqdm_scan(PyUnicode_2BYTE_KIND, data, n, pos, &scan, &run); break;
    default: status = tqdm_scan(PyUnicode_4BYTE_KIND, data, n, pos, &scan, &run); break;
    }
    if (status < 0) {
        PyMem_Free(run.counts.data);
        PyMem_Free(run.values.data);
        PyMem_Free(run.versions.data);
        return NULL;
    }
    return Py_BuildValue("(nNNN)", run.count, bytes_take(&run.counts), bytes_take(&run.values),
                         bytes_take(&run.versions));
}

static PyMethodDef methods[] = {
    {"keras_states", keras_states, METH_VARARGS, keras_states_doc},
    {"tqdm_states", tqdm_states, METH_VARARGS, tqdm_states_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bar_scan", "Redrawn Keras and tqdm bar states read in C (see keras_states, tqdm_states).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__bar_scan(void) { return PyModule_Create(&module); }
