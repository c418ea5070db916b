/* The splitting stage of logdoctor.sources in C: its scans of a block's text and its redraw loop.
 *
 * survey(text) is make_block's first look at a block, in one pass instead of five: how many
 * newlines, and whether there are NUL bytes or redraw characters (\r, \b, ESC).
 *
 * logical_lines(text, first) is sources.logical_lines, make_block's loop for text with redraws:
 * ANSI escapes removed (the ANSI pattern), trailing \r of a line stripped, and a line that still
 * holds \r or \b turned into the states a terminal showed (redraw_states: blank and repeated states
 * dropped, a line of nothing but blanks one empty state).  It returns the logical lines joined, each
 * ending with \n, the physical line number of each, and the lines (what splitting the joined text gives,
 * without the search for its newlines).  The Python code is the reference:
 * tests/test_sources_native.py compares both on random input.
 *
 * Every character is read with the kind of the str (1, 2 or 4 bytes): each function is written once and
 * inlined into one copy per kind.  The logical lines are written straight into a str of the same kind.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_chars.h"

#define ESC 0x1b

enum { HAS_NUL = 1, HAS_REDRAW = 2 };  /* survey's flags; the same names in sources.py */

/* ---------------------------------------------------------------- the loops over every character */

/* Written once per character type, with no branch, byte-sized counters and one flag per character looked
 * for: what the compiler needs to turn them into vector instructions. */
typedef struct {
    unsigned char newlines, nul, redraw;
} Tally;

#define CHARACTER_LOOPS(T)                                                                              \
    /* What survey counts in p[0:length], length at most 255 (the counters are bytes). */                                       \
    static inline Tally tally_##T(const T *p, int length) {                                             \
        unsigned char newlines = 0, nul = 0, cr = 0, bs = 0, esc = 0;                                    \
        for (int k = 0; k < length; k++) {                                                               \
            newlines += p[k] == '\n';                                                                    \
            nul |= p[k] == 0;                                                                            \
            cr |= p[k] == '\r';                                                                          \
            bs |= p[k] == '\b';                                                                          \
            esc |= p[k] == ESC;                                                                          \
        }                                                                                                \
        return (Tally){newlines, nul, cr | bs | esc};                                                    \
    }                                                                                                    \
    /* The same without looking for redraws (once one is found). */                                      \
    static inline Tally tally_lines_##T(const T *p, int length) {                                        \
        unsigned char newlines = 0, nul = 0;                                                             \
        for (int k = 0; k < length; k++) {                                                               \
            newlines += p[k] == '\n';                                                                    \
            nul |= p[k] == 0;                                                                            \
        }                                                                                                \
        return (Tally){newlines, nul, 1};                                                                \
    }                                                                                                    \
    /* Whether p[0:length] holds a control character. */                                              \
    static inline int any_control_##T(const T *p, int length) {                                          \
        unsigned char control = 0;                                                                       \
        for (int k = 0; k < length; k++) control |= p[k] < 0x20;                                         \
        return control;                                                                                  \
    }                                                                                                    \
    /* Whether p[0:length] holds the character c. */                                                    \
    static inline int any_equal_##T(const T *p, int length, T c) {                                       \
        unsigned char found = 0;                                                                         \
        for (int k = 0; k < length; k++) found |= p[k] == c;                                             \
        return found;                                                                                    \
    }
CHARACTER_LOOPS(Py_UCS1)
CHARACTER_LOOPS(Py_UCS2)
CHARACTER_LOOPS(Py_UCS4)

/* The loop `name` on the characters of data from i on. */
#define BY_KIND(name, i, ...)                                                                           \
    (kind == PyUnicode_1BYTE_KIND   ? name##_Py_UCS1((const Py_UCS1 *)data + (i), __VA_ARGS__)         \
     : kind == PyUnicode_2BYTE_KIND ? name##_Py_UCS2((const Py_UCS2 *)data + (i), __VA_ARGS__)         \
                                    : name##_Py_UCS4((const Py_UCS4 *)data + (i), __VA_ARGS__))

/* ---------------------------------------------------------------- survey */

INLINE void survey_kind(int kind, const void *data, Py_ssize_t n, Py_ssize_t *newlines, int *flags) {
    Py_ssize_t count = 0;
    int nul = 0, redraw = 0;
    /* Runs of 240 characters: the byte-sized counters cannot overflow, and the vector loops have no
     * scalar remainder (240 is a multiple of every vector width). */
    for (Py_ssize_t from = 0; from < n; from += 240) {
        int length = n - from < 240 ? (int)(n - from) : 240;
        Tally tally = redraw ? BY_KIND(tally_lines, from, length) : BY_KIND(tally, from, length);
        count += tally.newlines;
        nul |= tally.nul;
        redraw |= tally.redraw;
    }
    *newlines = count;
    *flags = (nul ? HAS_NUL : 0) | (redraw ? HAS_REDRAW : 0);
}

/* The one-byte kind (ASCII and Latin-1 logs: nearly all) once more, for the vector units of the machine it
 * runs on: the loader picks AVX2 where the CPU has it (2 MB: 276 → 214 µs). */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif
VECTOR_CLONES
static void survey_bytes(const void *data, Py_ssize_t n, Py_ssize_t *newlines, int *flags) {
    survey_kind(PyUnicode_1BYTE_KIND, data, n, newlines, flags);
}

/* survey of bytes while they are copied to out, in runs that stay in the first-level cache; 0 (out partly
 * written) at the first byte beyond ASCII. */
VECTOR_CLONES
static int survey_copy_ascii(const unsigned char *data, Py_ssize_t n, unsigned char *out, Py_ssize_t *newlines,
                             int *flags) {
    Py_ssize_t count = 0;
    int nul = 0, redraw = 0;
    for (Py_ssize_t from = 0; from < n; from += 240) {
        int length = n - from < 240 ? (int)(n - from) : 240;
        const unsigned char *p = data + from;
        unsigned char high = 0;
        for (int k = 0; k < length; k++) high |= p[k] & 0x80;
        if (high) return 0;
        Tally tally = tally_Py_UCS1(p, length);
        memcpy(out + from, p, (size_t)length);
        count += tally.newlines;
        nul |= tally.nul;
        redraw |= tally.redraw;
    }
    *newlines = count;
    *flags = (nul ? HAS_NUL : 0) | (redraw ? HAS_REDRAW : 0);
    return 1;
}

PyDoc_STRVAR(ascii_text_doc,
"ascii_text(data) -> (text, newlines, flags) | None: bytes of ASCII as a str, and what survey() says of it,\n"
"in one pass over them (decoding reads bytes that do not begin at a word twice); None beyond ASCII.");

static PyObject *ascii_text(PyObject *self, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *text = PyUnicode_New(view.len, 127), *result = NULL;
    Py_ssize_t newlines;
    int flags;
    if (text && survey_copy_ascii(view.buf, view.len, PyUnicode_1BYTE_DATA(text), &newlines, &flags))
        result = Py_BuildValue("(Oni)", text, newlines, flags);
    else if (text)
        result = Py_NewRef(Py_None);
    Py_XDECREF(text);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(survey_doc, "survey(text) -> (newlines, flags): flags has 1 for NUL, 2 for \\r, \\b or ESC.");

static PyObject *survey(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "survey() takes a str");
        return NULL;
    }
    if (READY(text) < 0) return NULL;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), newlines;
    int flags;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: survey_bytes(data, n, &newlines, &flags); break;
    case PyUnicode_2BYTE_KIND: survey_kind(PyUnicode_2BYTE_KIND, data, n, &newlines, &flags); break;
    default: survey_kind(PyUnicode_4BYTE_KIND, data, n, &newlines, &flags); break;
    }
    return Py_BuildValue("(ni)", newlines, flags);
}

/* ---------------------------------------------------------------- growing buffers */

/* A str being written: its characters (of one kind), how many are written, how many it can hold. */
typedef struct {
    PyObject *str;
    char *data;
    Py_ssize_t size, capacity;
} Chars;

static int chars_reserve(Chars *b, Py_ssize_t more) {
    if (b->size + more <= b->capacity) return 1;
    Py_ssize_t capacity = b->capacity + b->capacity / 2 + more + 64;
    if (PyUnicode_Resize(&b->str, capacity) < 0) return 0;  /* a str nobody else holds yet can grow */
    b->data = PyUnicode_DATA(b->str);
    b->capacity = capacity;
    return 1;
}

/* Physical line numbers, one per logical line. */
typedef struct {
    long long *data;
    Py_ssize_t size, capacity;
} Numbers;

static int numbers_add(Numbers *b, long long value) {
    if (b->size == b->capacity) {
        Py_ssize_t capacity = 2 * b->capacity + 1024;
        long long *data = PyMem_Realloc(b->data, (size_t)capacity * sizeof(long long));
        if (!data) {
            PyErr_NoMemory();
            return 0;
        }
        b->data = data;
        b->capacity = capacity;
    }
    b->data[b->size++] = value;
    return 1;
}

/* ---------------------------------------------------------------- ANSI escapes */

/* Length of the escape sequence at i (data[i] is ESC) as sources.ANSI matches it, 0 if none:
 * CSI  ESC [ [0-?]* [ -/]* [@-~]
 * OSC  ESC ] [^\x07 ESC \n]* (\x07 | ESC \)?
 * two-byte escapes  ESC [@-Z\-_]
 * The three character classes of CSI do not overlap: matching greedily never has to go back. */
INLINE Py_ssize_t ansi_length(int kind, const void *data, Py_ssize_t i, Py_ssize_t n) {
    if (i + 1 >= n) return 0;
    Py_UCS4 c = READ(i + 1);
    Py_ssize_t j = i + 2;
    if (c == '[') {
        while (j < n && READ(j) >= 0x30 && READ(j) <= 0x3f) j++;
        while (j < n && READ(j) >= 0x20 && READ(j) <= 0x2f) j++;
        return j < n && READ(j) >= 0x40 && READ(j) <= 0x7e ? j + 1 - i : 0;
    }
    if (c == ']') {
        while (j < n && READ(j) != 0x07 && READ(j) != ESC && READ(j) != '\n') j++;
        if (j < n && READ(j) == 0x07)
            j++;
        else if (j + 1 < n && READ(j) == ESC && READ(j + 1) == '\\')
            j += 2;
        return j - i;
    }
    return (c >= 0x40 && c <= 0x5a) || (c >= 0x5c && c <= 0x5f) ? 2 : 0;
}

#define STOP(c) (1u << (c))  /* a set of control characters, for find_any */

/* The first i from `from` on where data[i] is one of the control characters of `stops` (n if none).
 * Blocks of 32 characters with no control character at all are skipped with vector instructions. */
INLINE Py_ssize_t find_any(int kind, const void *data, Py_ssize_t from, Py_ssize_t n, uint32_t stops) {
    Py_ssize_t i = from;
    for (;;) {
        while (n - i >= 32 && !BY_KIND(any_control, i, 32)) i += 32;  /* the usual case: no control character */
        Py_ssize_t end = n - i < 32 ? n : i + 32;
        for (; i < end; i++) {
            Py_UCS4 c = READ(i);
            if (c < 0x20 && (stops >> c & 1)) return i;
        }
        if (i == n) return n;
    }
}

/* The first i from `from` on where data[i] is c (n if none): find_any for one character, which does not
 * slow down where other control characters abound (the line end in a line of redraws). */
INLINE Py_ssize_t find_char(int kind, const void *data, Py_ssize_t from, Py_ssize_t n, Py_UCS4 c) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *at = memchr((const char *)data + from, (int)c, (size_t)(n - from));
        return at ? at - (const char *)data : n;
    }
    Py_ssize_t i = from;
    while (n - i >= 32 && !BY_KIND(any_equal, i, 32, c)) i += 32;
    while (i < n && READ(i) != c) i++;
    return i;
}

/* data[from:to] with its escape sequences removed, added to `out` (ANSI.sub: left to right, no match
 * looked for inside a removed one; no sequence reaches past a line end, so a line is cleaned alone). */
INLINE int strip_escapes(int kind, const void *data, Py_ssize_t from, Py_ssize_t to, Chars *out) {
    if (!chars_reserve(out, to - from)) return 0;
    while (from < to) {
        Py_ssize_t esc = find_any(kind, data, from, to, STOP(ESC));
        Py_ssize_t length = esc < to ? ansi_length(kind, data, esc, to) : 0;
        Py_ssize_t keep = esc - from + (esc < to && length == 0);  /* an ESC that starts no sequence stays */
        memcpy(out->data + out->size * kind, (const char *)data + from * kind, (size_t)(keep * kind));
        out->size += keep;
        from = esc + (length ? length : 1);
    }
    return 1;
}

/* ---------------------------------------------------------------- redraws */

typedef struct {
    Chars out;          /* the logical lines, each ending with \n; past them, the screen being drawn */
    Numbers physical;   /* the physical line of each logical line */
    Numbers ends;       /* where each logical line ends in out (its \n) */
    long long line;     /* the physical line being read */
    Py_ssize_t screen;  /* where the screen being drawn starts in out */
    Py_ssize_t last, last_length;  /* the last state kept of this line (last < 0: none yet) */
} Redraw;

/* The end of a logical line: its \n, and where it stands. */
INLINE int new_line(int kind, Redraw *r) {
    if (!chars_reserve(&r->out, 1) || !numbers_add(&r->physical, r->line) || !numbers_add(&r->ends, r->out.size))
        return 0;
    PyUnicode_WRITE(kind, r->out.data, r->out.size++, '\n');
    return 1;
}

INLINE int is_blank(int kind, const void *data, Py_ssize_t from, Py_ssize_t to) {
    for (Py_ssize_t i = from; i < to; i++)
        if (!Py_UNICODE_ISSPACE(READ(i))) return 0;
    return 1;
}

/* Keep what the screen shows as a state of the line, unless it is empty, blank, or the state
 * kept just before.  Returns 1 if kept, 0 if not, -1 on error. */
INLINE int keep_screen(int kind, Redraw *r) {
    const void *data = r->out.data;
    Py_ssize_t length = r->out.size - r->screen;
    if (length == 0 || is_blank(kind, data, r->screen, r->out.size)) return 0;
    if (r->last >= 0 && r->last_length == length &&
        memcmp(r->out.data + r->last * kind, r->out.data + r->screen * kind, (size_t)(length * kind)) == 0)
        return 0;
    if (!new_line(kind, r)) return -1;
    r->last = r->screen;
    r->last_length = length;
    r->screen = r->out.size;
    return 1;
}

/* A run of `erase` backspaces: the screen is kept as a state, then loses its last `erase` characters. */
INLINE int backspaces(int kind, Redraw *r, Py_ssize_t erase) {
    Py_ssize_t length = r->out.size - r->screen;
    Py_ssize_t left = length > erase ? length - erase : 0;
    int kept = keep_screen(kind, r);
    if (kept < 0) return 0;
    if (!kept) {
        r->out.size = r->screen + left;
        return 1;
    }
    /* The kept state stays as it was: the next screen starts as a copy of what is left of it. */
    if (!chars_reserve(&r->out, left)) return 0;
    memcpy(r->out.data + r->screen * kind, r->out.data + r->last * kind, (size_t)(left * kind));
    r->out.size += left;
    return 1;
}

/* data[from:to] added to `out`. */
INLINE int append(int kind, Chars *out, const void *data, Py_ssize_t from, Py_ssize_t to) {
    if (!chars_reserve(out, to - from)) return 0;
    memcpy(out->data + out->size * kind, (const char *)data + from * kind, (size_t)((to - from) * kind));
    out->size += to - from;
    return 1;
}

/* The end of the logical line that data[from:to] (its text, as it is) became. */
INLINE int end_line(int kind, Redraw *r, const void *data, Py_ssize_t from, Py_ssize_t to) {
    return append(kind, &r->out, data, from, to) && new_line(kind, r);
}

/* The logical lines of the physical line data[from:to] (without its \n), which holds \r, \b or ESC.
 *
 * The Python code removes the escape sequences, strips trailing \r and cuts what still holds \r or \b
 * into states.  This reads the line once, as a terminal draws it: escape sequences are skipped (where
 * ANSI.sub finds them: it scans the same text the same way), a \r or a run of \b (escape sequences
 * inside the run do not end it) ends a state.  Trailing \r only end states that are empty: they add
 * nothing.  What is left to decide at the end: a line drawn once, then maybe \r, that showed nothing but
 * blanks is kept as it is (the Python code never took it for a redraw), any other line of blanks gives
 * one empty state. */
INLINE int special_line(int kind, Redraw *r, const void *data, Py_ssize_t from, Py_ssize_t to) {
    r->screen = r->out.size;
    r->last = -1;
    Py_ssize_t erase = 0;      /* backspaces read, not yet applied */
    Py_ssize_t first_cr = to;  /* where the first \r is */
    int redrawn = 0;           /* a \b, or text after a \r, was read */
    for (Py_ssize_t i = from; i < to;) {
        Py_ssize_t at = find_any(kind, data, i, to, STOP('\r') | STOP('\b') | STOP(ESC));
        Py_ssize_t escape = at < to && READ(at) == ESC ? ansi_length(kind, data, at, to) : 0;
        Py_ssize_t text = at < to && READ(at) == ESC && escape == 0 ? at + 1 : at;  /* a lone ESC is text */
        if (text > i) {
            if (erase && !backspaces(kind, r, erase)) return 0;
            erase = 0;
            redrawn |= first_cr < to;
            if (!append(kind, &r->out, data, i, text)) return 0;
        }
        if (at == to) break;
        if (READ(at) == '\b') {
            for (i = at; i < to && READ(i) == '\b'; i++) erase++;
            redrawn = 1;
        } else if (READ(at) == '\r') {
            if (erase && !backspaces(kind, r, erase)) return 0;
            erase = 0;
            if (keep_screen(kind, r) < 0) return 0;
            r->out.size = r->screen;  /* a new screen, empty */
            first_cr = first_cr < to ? first_cr : at;
            i = at + 1;
        } else {
            i = escape ? at + escape : at + 1;
        }
    }
    if (erase && !backspaces(kind, r, erase)) return 0;
    if (keep_screen(kind, r) < 0) return 0;
    r->out.size = r->screen;
    if (r->last >= 0) return 1;
    if (redrawn) return end_line(kind, r, data, 0, 0);  /* nothing but blanks: one empty state */
    /* The blanks before the first \r, as they are (without their escape sequences). */
    return strip_escapes(kind, data, from, first_cr, &r->out) && end_line(kind, r, data, 0, 0);
}

/* Every complete line of data[0:n] (what follows the last \n is no line). */
INLINE int all_lines(int kind, Redraw *r, const void *data, Py_ssize_t n) {
    const uint32_t special = STOP('\n') | STOP('\r') | STOP('\b') | STOP(ESC);
    for (Py_ssize_t from = 0;; r->line++) {
        Py_ssize_t i = find_any(kind, data, from, n, special);
        Py_ssize_t end = i < n && READ(i) == '\n' ? i : find_char(kind, data, i, n, '\n');
        if (end == n) return 1;
        if (!(end == i ? end_line(kind, r, data, from, end) : special_line(kind, r, data, from, end))) return 0;
        from = end + 1;
    }
}

/* The list of physical line numbers: the states of one line share one int. */
static PyObject *numbers_list(const Numbers *numbers) {
    PyObject *list = PyList_New(numbers->size), *number = NULL;
    if (!list) return NULL;
    for (Py_ssize_t i = 0; i < numbers->size; i++) {
        if (i == 0 || numbers->data[i] != numbers->data[i - 1]) {
            number = PyLong_FromLongLong(numbers->data[i]);
            if (!number) {
                Py_DECREF(list);
                return NULL;
            }
        } else {
            Py_INCREF(number);
        }
        PyList_SET_ITEM(list, i, number);
    }
    return list;
}

/* The logical lines of `text` (the lines joined, each ending at one of `ends`), one str each. */
static PyObject *lines_list(PyObject *text, const Numbers *ends) {
    PyObject *list = PyList_New(ends->size);
    if (!list) return NULL;
    for (Py_ssize_t i = 0, start = 0; i < ends->size; start = ends->data[i++] + 1) {
        PyObject *line = PyUnicode_Substring(text, start, ends->data[i]);
        if (!line) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, line);
    }
    return list;
}

/* A str for the logical lines of `text`, as long as it: they usually take no more room.  Its kind is that
 * of the text: they hold no other character. */
static int new_output(PyObject *text, Chars *out) {
    int kind = PyUnicode_KIND(text);
    Py_UCS4 maxchar = PyUnicode_IS_ASCII(text) ? 0x7f : kind == PyUnicode_1BYTE_KIND ? 0xff
                                                    : kind == PyUnicode_2BYTE_KIND ? 0xffff : 0x10ffff;
    out->capacity = PyUnicode_GET_LENGTH(text) + 1;  /* not 0: the empty str is shared */
    out->str = PyUnicode_New(out->capacity, maxchar);
    if (!out->str) return 0;
    out->data = PyUnicode_DATA(out->str);
    return 1;
}

/* The written str at its length, and canonical as every str must be: of the smallest kind that holds
 * its characters (when those that needed the kind of the text were all left out, a copy). */
static PyObject *finish_output(Chars *out) {
    if (PyUnicode_Resize(&out->str, out->size) < 0) return NULL;
    PyObject *str = out->str;
    out->str = NULL;
    if (PyUnicode_IS_ASCII(str)) return str;
    int kind = PyUnicode_KIND(str);
    const void *data = PyUnicode_DATA(str);
    Py_UCS4 below = kind == PyUnicode_1BYTE_KIND ? 0x80 : kind == PyUnicode_2BYTE_KIND ? 0x100 : 0x10000;
    for (Py_ssize_t i = 0; i < out->size; i++)  /* usually over after a few characters */
        if (READ(i) >= below) return str;
    PyObject *canonical = PyUnicode_FromKindAndData(kind, data, out->size);
    Py_DECREF(str);
    return canonical;
}

PyDoc_STRVAR(logical_lines_doc,
             "logical_lines(text, first) -> (joined, physical, lines): the logical lines of text (complete lines, "
             "NUL removed) joined, each ending with \\n, the physical line number of each, the first line being "
             "`first`, and the lines themselves.");

static PyObject *logical_lines(PyObject *self, PyObject *args) {
    PyObject *text, *result = NULL;
    long long first;
    if (!PyArg_ParseTuple(args, "UL", &text, &first)) return NULL;
    if (READY(text) < 0) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Redraw r = {.line = first};
    int ok = new_output(text, &r.out);
    if (ok) {
        switch (kind) {
        case PyUnicode_1BYTE_KIND: ok = all_lines(PyUnicode_1BYTE_KIND, &r, data, n); break;
        case PyUnicode_2BYTE_KIND: ok = all_lines(PyUnicode_2BYTE_KIND, &r, data, n); break;
        default: ok = all_lines(PyUnicode_4BYTE_KIND, &r, data, n); break;
        }
    }
    PyObject *joined = ok ? finish_output(&r.out) : NULL;
    PyObject *physical = joined ? numbers_list(&r.physical) : NULL;
    PyObject *lines = physical ? lines_list(joined, &r.ends) : NULL;
    if (lines) result = PyTuple_Pack(3, joined, physical, lines);
    Py_XDECREF(joined);
    Py_XDECREF(physical);
    Py_XDECREF(lines);
    Py_XDECREF(r.out.str);
    PyMem_Free(r.physical.data);
    PyMem_Free(r.ends.data);
    return result;
}

static PyMethodDef methods[] = {
    {"survey", survey, METH_O, survey_doc},
    {"ascii_text", ascii_text, METH_O, ascii_text_doc},
    {"logical_lines", logical_lines, METH_VARARGS, logical_lines_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_split", "The splitting stage of logdoctor.sources in C (see survey, logical_lines).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__split(void) { return PyModule_Create(&module); }
