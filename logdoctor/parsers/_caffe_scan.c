/* The hot lines of a Caffe log, read in C: display, lr, "Testing net" and net output lines, and the others
 * that recur through a long run.
 *
 * This is logdoctor.parsers.caffe's SCAN pattern and the loop over its matches, for blocks of
 * ASCII text: scan() classifies every line exactly as SCAN does (glog prefix, NVCaffe rank tag,
 * the four messages), carries the current iteration and test pass from line to line, and returns
 * the rows of the hot lines as column buffers, the time stamp of every line, and the other
 * ("cold") lines with the state they were read in, for the Python code to handle one by one.
 * The other messages that may recur all through a long run are read here too, as the Python code's
 * MESSAGES patterns read them: snapshots (a note with the file's name), gradient clipping (the
 * norm) and the test loss of some versions.  (A block with no cold row needs no merging of the
 * Python code's rows into the scanner's.)
 *
 * Numbers are converted with PyOS_string_to_double, which is what float() calls: the values are
 * bit for bit those of the Python path.  Whatever this code does not read exactly the way the
 * Python path does (a value spelled 1.#QNAN, a counter beyond 64 bits, a time stamp with more
 * than 15 decimals) makes scan() return None, and the caller reads the block in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef const unsigned char *pos_t;

/* \s of the patterns (compiled with ASCII): \t \n \v \f \r and space. */
static inline int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
/* What str.strip() strips of an ASCII string: those and \x1c-\x1f. */
static inline int is_strip_space(unsigned char c) { return is_space(c) || (c >= 0x1c && c <= 0x1f); }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
/* The characters that end a glog prefix's source ([^\]\s]+) and a value token ([^\s,;()]+): one table
 * look-up per character instead of a row of comparisons. */
static const unsigned char ends_source[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1, [']'] = 1};
static const unsigned char ends_value[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1, [','] = 1, [';'] = 1, ['('] = 1, [')'] = 1};
static inline int is_word(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline int starts(pos_t p, pos_t end, const char *lit, size_t n) {
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}
#define STARTS(p, end, lit) starts((p), (end), (lit), sizeof(lit) - 1)

/* Outcome of reading a piece of a line. */
enum { NO = 0, YES = 1, PYTHON = -1 /* only the Python path reads this the same way */ };

/* \d+ as an int64. */
static int read_int(pos_t *p, pos_t end, int64_t *out) {
    pos_t s = *p;
    int64_t v = 0;
    while (s < end && is_digit(*s) && s - *p < 18) v = v * 10 + (*s++ - '0');  /* 18 digits cannot overflow */
    while (s < end && is_digit(*s)) {
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10) return PYTHON;
        v = v * 10 + d;
        s++;
    }
    if (s == *p) return NO;
    *p = s;
    *out = v;
    return YES;
}

/* Powers of ten that doubles hold exactly. */
static const double exact_tens[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The usual token, [-+]?digits[.digits] with at most 15 digits: the integer of its digits and the power
 * of ten to divide it by are exact doubles, and IEEE division rounds their quotient correctly, as
 * float() rounds the decimal.  0 when the token is not of this form. */
static int read_short_decimal(pos_t s, pos_t e, double *out) {
    int negative = 0, digits = 0, decimals = -1;
    int64_t mantissa = 0;
    if (s < e && (*s == '-' || *s == '+')) negative = *s++ == '-';
    for (; s < e; s++) {
        if (is_digit(*s)) {
            mantissa = mantissa * 10 + (*s - '0');
            if (++digits > 15) return 0;
            if (decimals >= 0) decimals++;
        } else if (*s == '.' && decimals < 0) {
            decimals = 0;
        } else {
            return 0;
        }
    }
    if (digits == 0) return 0;
    double value = (double)mantissa / exact_tens[decimals > 0 ? decimals : 0];
    *out = negative ? -value : value;
    return 1;
}

/* float(token), when float() reads the token the same way. */
static int read_float(pos_t s, pos_t e, double *out) {
    if (read_short_decimal(s, e, out)) return YES;
    char buffer[64];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof buffer) return PYTHON;
    memcpy(buffer, s, n);
    buffer[n] = '\0';
    if (memchr(buffer, '_', n)) return PYTHON;  /* float() reads 1_000; PyOS_string_to_double does not */
    double v = PyOS_string_to_double(buffer, NULL, NULL);
    if (v == -1.0 && PyErr_Occurred()) {  /* 1.#QNAN, nan(ind), junk: to_float() decides */
        PyErr_Clear();
        return PYTHON;
    }
    *out = v;
    return YES;
}

/* A glog time stamp: the date as a code (-1: none; MMDD; 10^8 + YYYYMMDD), minutes of the day,
 * and the seconds as the Python path computes them (an exact integer over a power of ten). */
typedef struct { int64_t date, minutes; double seconds; } stamp_t;

/* The glog prefix  [ \t]*[IWEF](\d{8}|\d{4}) (\d\d:\d\d:\d\d(?:\.\d+)?) +\d+ [^\]\s]+\]  and its
 * space.  YES moves *p past it; PYTHON: a time stamp with more than 15 decimals. */
static int read_prefix(pos_t *p, pos_t end, stamp_t *stamp) {
    pos_t s = *p;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    if (s >= end || !(*s == 'I' || *s == 'W' || *s == 'E' || *s == 'F')) return NO;
    s++;
    pos_t date_start = s;
    int64_t date = 0;
    while (s < end && is_digit(*s) && s - date_start < 9) date = date * 10 + (*s++ - '0');
    ptrdiff_t date_digits = s - date_start;
    if ((date_digits != 8 && date_digits != 4) || s >= end || *s != ' ') return NO;
    s++;
    if (end - s < 8 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) || !is_digit(s[4])
        || s[5] != ':' || !is_digit(s[6]) || !is_digit(s[7]))
        return NO;
    int64_t minutes = ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 + (s[4] - '0');
    int64_t whole = (s[6] - '0') * 10 + (s[7] - '0'), scale = 1;
    int decimals = 0, too_long = 0;
    s += 8;
    if (s + 1 < end && *s == '.' && is_digit(s[1])) {
        s++;
        for (; s < end && is_digit(*s); s++) {
            if (++decimals > 15) { too_long = 1; continue; }
            whole = whole * 10 + (*s - '0');
            scale *= 10;
        }
    }
    if (s >= end || *s != ' ') return NO;
    while (s < end && *s == ' ') s++;
    if (s >= end || !is_digit(*s)) return NO;
    while (s < end && is_digit(*s)) s++;
    if (s >= end || *s != ' ') return NO;
    s++;
    pos_t source = s;
    while (s < end && !ends_source[*s]) s++;
    if (s == source || !STARTS(s, end, "] ")) return NO;
    if (too_long) return PYTHON;
    *p = s + 2;
    stamp->date = date_digits == 8 ? 100000000 + date : date;
    stamp->minutes = minutes;
    stamp->seconds = (double)whole / (double)scale;
    return YES;
}

/* NVCaffe's rank tag  [ \t]*(?:[\[(]\d+(?:\.\d+)?[\])][ \t]*)?  */
static pos_t skip_rank_tag(pos_t s, pos_t end) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    if (s < end && (*s == '[' || *s == '(')) {
        pos_t t = s + 1, digits = t;
        while (t < end && is_digit(*t)) t++;
        if (t > digits) {
            if (t + 1 < end && *t == '.' && is_digit(t[1])) {
                t++;
                while (t < end && is_digit(*t)) t++;
            }
            if (t < end && (*t == ']' || *t == ')')) {
                s = t + 1;
                while (s < end && (*s == ' ' || *s == '\t')) s++;
            }
        }
    }
    return s;
}

/* A value token  [^\s,;()]+(?:\(\w*\))?  from s: its end, or s when there is none. */
static pos_t value_end(pos_t s, pos_t end) {
    pos_t t = s;
    while (t < end && !ends_value[*t]) t++;
    if (t == s) return s;
    if (t < end && *t == '(') {
        pos_t u = t + 1;
        while (u < end && is_word(*u)) u++;
        if (u < end && *u == ')') t = u + 1;
    }
    return t;
}

/* Whether the line [s, end) contains the text lit. */
static int contains(pos_t s, pos_t end, const char *lit, size_t n) {
    for (; (size_t)(end - s) >= n && (s = memchr(s, lit[0], (size_t)(end - s) - n + 1)) != NULL; s++)
        if (memcmp(s, lit, n) == 0) return 1;
    return 0;
}
#define CONTAINS(s, end, lit) contains((s), (end), (lit), sizeof(lit) - 1)

/* A cold line the Python code must read with the Python path's state (debug_info lines wait for the
 * display line). */
static int declined(pos_t line, pos_t eol) {
    return CONTAINS(line, eol, "[Forward]") || CONTAINS(line, eol, "[Backward]") || CONTAINS(line, eol, "[Update]");
}

/* Whether a message [s, end) may be one the Python path reads (it begins like one of caffe.py's MESSAGES;
 * a superset): a glog line whose message may not, and not fatal, is chatter it reads nothing from. */
static int may_be_message(pos_t s, pos_t end) {
    static const char *const openings[] = {
        "Iteration ", "Train net output #", "Test ", "[", "Gradient clipping", "Initializing ", "Snapshotting ",
        "Restoring ", "Resuming ", "MultiStep ", "Optimization Done", "Solving ", "Learning Rate Policy",
    };
    for (size_t i = 0; i < sizeof(openings) / sizeof(openings[0]); i++)
        if (starts(s, end, openings[i], strlen(openings[i]))) return 1;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    return s == end;  /* a blank message: Intel Caffe's before a net definition */
}

/* The severity letter of a line read_prefix found a prefix on. */
static char severity(pos_t line) {
    while (*line == ' ' || *line == '\t') line++;
    return (char)*line;
}

static int blank_to_end(pos_t s, pos_t end) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    return s == end;
}

/* After "name = ":  VALUE(?: \(\* ([^\s=]+) = [^\s)]+ loss\))?[ \t]*$  -- the value and the weight
 * tokens (the weight empty when there is none), or NO. */
static int read_output_tail(pos_t s, pos_t end, pos_t *v0, pos_t *v1, pos_t *w0, pos_t *w1) {
    pos_t v = value_end(s, end);
    if (v == s) return NO;
    *v0 = s;
    *v1 = v;
    if (STARTS(v, end, " (* ")) {
        pos_t u = v + 4, w = u;
        while (u < end && !is_space(*u) && *u != '=') u++;
        if (u > w && STARTS(u, end, " = ")) {
            pos_t x = u + 3, x0 = x;
            while (x < end && !is_space(*x) && *x != ')') x++;
            if (x > x0 && STARTS(x, end, " loss)") && blank_to_end(x + 6, end)) {
                *w0 = w;
                *w1 = u;
                return YES;
            }
        }
    }
    *w0 = *w1 = v;
    return blank_to_end(v, end) ? YES : NO;
}

/* -- growing column buffers ----------------------------------------------------------------- */

typedef struct { PyObject *bytes; char *data; Py_ssize_t item; } column_t;

static int column_init(column_t *c, Py_ssize_t item, Py_ssize_t capacity) {
    c->item = item;
    c->bytes = PyByteArray_FromStringAndSize(NULL, item * (capacity > 0 ? capacity : 1));
    c->data = c->bytes ? PyByteArray_AS_STRING(c->bytes) : NULL;
    return c->bytes != NULL;
}

static int column_finish(column_t *c, Py_ssize_t n) { return PyByteArray_Resize(c->bytes, c->item * n) == 0; }

#define AT(column, type, i) (((type *)(column).data)[i])

/* -- the names of net outputs: one str object per distinct name ----------------------------- */

typedef struct { PyObject *list; } names_t;

static int32_t name_code(names_t *names, pos_t s, pos_t e) {
    while (s < e && is_strip_space(*s)) s++;      /* name.strip() */
    while (e > s && is_strip_space(e[-1])) e--;
    Py_ssize_t n = PyList_GET_SIZE(names->list), length = e - s;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        PyObject *name = PyList_GET_ITEM(names->list, i);
        if (PyUnicode_GET_LENGTH(name) == length && memcmp(PyUnicode_1BYTE_DATA(name), s, (size_t)length) == 0)
            return (int32_t)i;
    }
    PyObject *name = PyUnicode_FromStringAndSize((const char *)s, length);
    if (!name || PyList_Append(names->list, name) < 0) {
        Py_XDECREF(name);
        return -1;
    }
    Py_DECREF(name);
    return (int32_t)n;
}

/* -- scan ------------------------------------------------------------------------------------ */

enum { TRAIN = 0, TEST = 2 };  /* codes of table.PHASES */
enum { NAME_LOSS = 0, NAME_LR = 1 };

typedef struct { int64_t value; int known; } counter_t;

static int counter_from(PyObject *o, counter_t *c) {
    c->known = o != Py_None;
    c->value = 0;
    if (!c->known) return 1;
    int overflow = 0;
    c->value = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (c->value == -1 && PyErr_Occurred()) return -1;
    return overflow ? 0 : 1;
}

static PyObject *counter_object(counter_t c) {
    if (!c.known) Py_RETURN_NONE;
    return PyLong_FromLongLong(c.value);
}

PyDoc_STRVAR(scan_doc,
"scan(text, iteration, test_iteration, test_net, testing, lines=-1, clock=None) -> tuple | None\n\n"
"Read a block of Caffe log lines (ASCII, each ending in a newline; lines: how many, when the caller\n"
"has counted them, else -1; clock: (date code, its day in seconds, origin) of the caller's clock, or\n"
"None).  Returns None when the\n"
"block has something only the Python path reads the same way; else a tuple of bytearrays:\n"
"the stamps of every line (date code, minutes, seconds); the hot rows (line index, name code,\n"
"value, step, step known, phase code, output, output known, test net, test net known, weight);\n"
"the cold lines (line index, offset in text, iteration, iteration known, test iteration,\n"
"test iteration known, test net); the hot rows' kind code, text code and seconds since the origin\n"
"(given a clock, when every time stamp of the block has its date; else None); then the texts and the\n"
"names (lists) and the state at the end (iteration, test_iteration, test_net, testing).");

static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *text, *iteration_in, *test_iteration_in, *test_net_in;
    int testing;
    Py_ssize_t lines = -1;
    PyObject *clock = Py_None;
    if (!PyArg_ParseTuple(args, "UOOOp|nO", &text, &iteration_in, &test_iteration_in, &test_net_in, &testing, &lines,
                          &clock))
        return NULL;
    /* The seconds of a row since the log's first stamp, as caffe._Clock works them out: the day of the date
     * (clock_day, in seconds), plus the minutes of the day, plus the seconds, less the origin. */
    long long clock_date = -2;  /* (no stamp has this date: nothing is worked out) */
    double clock_day = 0.0, clock_origin = 0.0;
    if (clock != Py_None && !PyArg_ParseTuple(clock, "Ldd", &clock_date, &clock_day, &clock_origin)) return NULL;
    int clocked = clock != Py_None;
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    counter_t iteration, test_iteration, test_net;
    int ok;
    if ((ok = counter_from(iteration_in, &iteration)) <= 0 || (ok = counter_from(test_iteration_in, &test_iteration)) <= 0
        || (ok = counter_from(test_net_in, &test_net)) <= 0 || !test_net.known) {
        if (ok < 0) return NULL;
        Py_RETURN_NONE;
    }
    pos_t start = PyUnicode_1BYTE_DATA(text), end = start + PyUnicode_GET_LENGTH(text);
    if (start == end || end[-1] != '\n') Py_RETURN_NONE;
    if (lines < 0) {
        lines = 0;
        for (pos_t p = start; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
    }

    enum { DATE, MINUTES, SECONDS,
           H_INDEX, H_NAME, H_VALUE, H_STEP, H_STEP_KNOWN, H_PHASE, H_OUTPUT, H_OUTPUT_KNOWN, H_NET, H_NET_KNOWN,
           H_WEIGHT, C_INDEX, C_START, C_ITERATION, C_ITERATION_KNOWN, C_TEST_ITERATION, C_TEST_ITERATION_KNOWN, C_TEST_NET,
           H_KIND, H_TEXT, H_SECONDS, COLUMNS };
    static const Py_ssize_t item[COLUMNS] = {8, 8, 8, 8, 4, 8, 8, 1, 1, 8, 1, 8, 1, 8, 8, 8, 8, 1, 8, 1, 8, 1, 4, 8};
    column_t col[COLUMNS] = {{0}};
    names_t names = {PyList_New(0)}, texts = {PyList_New(0)};
    PyObject *result = NULL;
    if (!names.list || !texts.list) goto done;
    for (int i = 0; i < COLUMNS; i++)
        if (!column_init(&col[i], item[i], lines)) goto done;
    if (name_code(&names, (pos_t)"loss", (pos_t)"loss" + 4) < 0 || name_code(&names, (pos_t)"lr", (pos_t)"lr" + 2) < 0
        || name_code(&texts, (pos_t)"", (pos_t)"") < 0)  /* a metric's text: "" */
        goto done;
    int32_t snapshot = -1, grad_norm = -1;  /* names of rows most logs have none of, once one is seen */

    Py_ssize_t hot = 0, cold = 0, index = 0;
    pos_t eol = start;
    for (pos_t line = start; line < end; line = eol + 1, index++) {
        if (index == lines) goto python;  /* more lines than the caller counted: no room for them */
        eol = memchr(line, '\n', (size_t)(end - line));
        stamp_t stamp = {-1, 0, 0.0};
        pos_t s = line;
        int prefix = read_prefix(&s, eol, &stamp);
        if (prefix == PYTHON) goto python;
        AT(col[DATE], int64_t, index) = stamp.date;
        AT(col[MINUTES], int64_t, index) = stamp.minutes;
        AT(col[SECONDS], double, index) = stamp.seconds;
        if (stamp.date != clock_date && stamp.date >= 0) clocked = 0;  /* another date: the caller's clock decides */
        s = skip_rank_tag(s, eol);

        int32_t name = -1, note_text = -1;  /* note_text: the text of a note (then there is no value) */
        pos_t v0 = NULL, v1 = NULL, w0 = NULL, w1 = NULL;
        counter_t step = {0, 0}, output = {0, 0}, net = {0, 0};
        int phase = TRAIN;
        if (STARTS(s, eol, "Iteration ")) {
            pos_t t = s + 10;
            int64_t it;
            int r = read_int(&t, eol, &it);
            if (r == PYTHON) goto python;
            if (r == YES) {
                pos_t after = t;
                if (STARTS(t, eol, " (")) {  /* (?: \([^)\n]*\))? before ", loss = " */
                    pos_t close = memchr(t + 2, ')', (size_t)(eol - t - 2));
                    if (close && STARTS(close + 1, eol, ", loss = ")) after = close + 1;
                }
                if (STARTS(after, eol, ", loss = ") && value_end(after + 9, eol) > after + 9) {
                    v0 = after + 9;
                    v1 = value_end(v0, eol);
                    name = NAME_LOSS;
                } else if (STARTS(t, eol, ", lr = ") && value_end(t + 7, eol) > t + 7) {
                    v0 = t + 7;
                    v1 = value_end(v0, eol);
                    name = NAME_LR;
                } else if (STARTS(t, eol, ", Testing net (#")) {
                    pos_t u = t + 16;
                    int64_t k;
                    int rk = read_int(&u, eol, &k);
                    if (rk == PYTHON) goto python;
                    if (rk == YES && u < eol && *u == ')') {
                        test_iteration = (counter_t){it, 1};
                        test_net = (counter_t){k, 1};
                        testing = 1;
                        continue;
                    }
                }
                if (name >= 0) {
                    iteration = (counter_t){it, 1};
                    testing = 0;
                    step = iteration;
                }
            }
        } else if (STARTS(s, eol, "Train net output #") || STARTS(s, eol, "Test net output #")) {
            phase = s[2] == 'a' ? TRAIN : TEST;
            pos_t t = s + (phase == TRAIN ? 18 : 17);
            int64_t k;
            int r = read_int(&t, eol, &k);
            if (r == PYTHON) goto python;
            if (r == YES && STARTS(t, eol, ": ")) {
                pos_t name_start = t + 2;
                /* (.+?) = VALUE...$ : the first " = " after at least one character that the rest fits */
                for (pos_t m = name_start + 1; m + 3 <= eol; m++) {
                    if (m[0] == ' ' && m[1] == '=' && m[2] == ' '
                        && read_output_tail(m + 3, eol, &v0, &v1, &w0, &w1) == YES) {
                        name = name_code(&names, name_start, m);
                        if (name < 0) goto done;
                        break;
                    }
                }
                if (name >= 0) {
                    testing = 0;
                    output = (counter_t){k, 1};
                    if (phase == TRAIN) {
                        step = iteration;
                    } else {
                        step = test_iteration;
                        net = test_net;
                    }
                }
            }
        } else if (STARTS(s, eol, "Test loss: ")) {  /* Test loss: VALUE  (some versions, at each test pass) */
            pos_t t = s + 11;
            if (value_end(t, eol) > t) {
                v0 = t;
                v1 = value_end(t, eol);
                name = NAME_LOSS;
                phase = TEST;
                step = test_iteration;
                net = test_net;
            }
        } else if (STARTS(s, eol, "Gradient clipping: scaling down gradients (L2 norm ")) {
            /* ... VALUE > [^)\s]+\)  -- at every iteration whose gradient was clipped */
            pos_t t = s + 51, v = value_end(t, eol);
            if (v > t && STARTS(v, eol, " > ")) {
                pos_t u = v + 3;
                while (u < eol && *u != ')' && !is_space(*u)) u++;
                if (u > v + 3 && u < eol && *u == ')') {
                    if (grad_norm < 0 && (grad_norm = name_code(&names, (pos_t)"grad_norm", (pos_t)"grad_norm" + 9)) < 0)
                        goto done;
                    v0 = t;
                    v1 = v;
                    name = grad_norm;
                    step = iteration;
                }
            }
        } else if (STARTS(s, eol, "Snapshotting ")) {
            /* Snapshotting (?:solver state )?to (?:binary proto file |HDF5 file )?(?P<text>.+), the text stripped:
             * a note at each snapshot, all through a long run */
            pos_t t = s + 13;
            if (STARTS(t, eol, "solver state ")) t += 13;
            if (STARTS(t, eol, "to ")) {
                t += 3;
                if (STARTS(t, eol, "binary proto file ")) t += 18;
                else if (STARTS(t, eol, "HDF5 file ")) t += 10;
                if (t < eol) {  /* (nothing after the file kind: the pattern takes the kind as the text; Python) */
                    if (snapshot < 0 && (snapshot = name_code(&names, (pos_t)"snapshot", (pos_t)"snapshot" + 8)) < 0)
                        goto done;
                    if ((note_text = name_code(&texts, t, eol)) < 0) goto done;
                    name = snapshot;
                    step = iteration;
                }
            }
        }
        if (name < 0) {  /* a cold line: the Python code reads it, in the state of this point */
            if (declined(line, eol)) goto python;
            if (prefix == YES && severity(line) != 'F' && !may_be_message(s, eol)) continue;
            AT(col[C_INDEX], int64_t, cold) = index;
            AT(col[C_START], int64_t, cold) = line - start;
            AT(col[C_ITERATION], int64_t, cold) = iteration.value;
            AT(col[C_ITERATION_KNOWN], char, cold) = (char)iteration.known;
            AT(col[C_TEST_ITERATION], int64_t, cold) = test_iteration.value;
            AT(col[C_TEST_ITERATION_KNOWN], char, cold) = (char)test_iteration.known;
            AT(col[C_TEST_NET], int64_t, cold) = test_net.value;
            cold++;
            if (STARTS(s, eol, "Initializing solver from parameters:")) {  /* a new run: no counter known yet */
                iteration = test_iteration = (counter_t){0, 0};
                test_net = (counter_t){0, 1};
                testing = 0;
            }
            continue;
        }
        double value = Py_NAN, weight = Py_NAN;
        if (note_text < 0 && read_float(v0, v1, &value) != YES) goto python;
        if (w1 > w0 && read_float(w0, w1, &weight) != YES) goto python;
        AT(col[H_INDEX], int64_t, hot) = index;
        AT(col[H_NAME], int32_t, hot) = name;
        AT(col[H_VALUE], double, hot) = value;
        AT(col[H_STEP], int64_t, hot) = step.value;
        AT(col[H_STEP_KNOWN], char, hot) = (char)step.known;
        AT(col[H_PHASE], char, hot) = (char)phase;
        AT(col[H_OUTPUT], int64_t, hot) = output.value;
        AT(col[H_OUTPUT_KNOWN], char, hot) = (char)output.known;
        AT(col[H_NET], int64_t, hot) = net.value;
        AT(col[H_NET_KNOWN], char, hot) = (char)net.known;
        AT(col[H_WEIGHT], double, hot) = weight;
        AT(col[H_KIND], char, hot) = (char)(note_text >= 0);  /* codes of table.KINDS: metric, note */
        AT(col[H_TEXT], int32_t, hot) = note_text >= 0 ? note_text : 0;
        if (stamp.date < 0) {
            AT(col[H_SECONDS], double, hot) = Py_NAN;
        } else {  /* in _Clock's order: exact integers first */
            double seconds = clock_day + (double)(stamp.minutes * 60);
            seconds += stamp.seconds;
            AT(col[H_SECONDS], double, hot) = seconds - clock_origin;
        }
        hot++;
    }
    for (int i = DATE; i <= SECONDS; i++)
        if (!column_finish(&col[i], index)) goto done;
    for (int i = H_INDEX; i <= H_WEIGHT; i++)
        if (!column_finish(&col[i], hot)) goto done;
    for (int i = H_KIND; i <= H_TEXT; i++)
        if (!column_finish(&col[i], hot)) goto done;
    if (!column_finish(&col[H_SECONDS], clocked ? hot : 0)) goto done;  /* (None when not clocked: below) */
    for (int i = C_INDEX; i <= C_TEST_NET; i++)
        if (!column_finish(&col[i], cold)) goto done;
    {
        PyObject *state = Py_BuildValue("(NNNO)", counter_object(iteration), counter_object(test_iteration),
                                        PyLong_FromLongLong(test_net.value), testing ? Py_True : Py_False);
        if (!state) goto done;
        result = PyTuple_New(COLUMNS + 3);
        if (!result) {
            Py_DECREF(state);
            goto done;
        }
        for (int i = 0; i < COLUMNS; i++) {
            PyTuple_SET_ITEM(result, i, col[i].bytes);
            col[i].bytes = NULL;
        }
        if (!clocked) {  /* no seconds worked out: None */
            Py_DECREF(PyTuple_GET_ITEM(result, H_SECONDS));
            Py_INCREF(Py_None);
            PyTuple_SET_ITEM(result, H_SECONDS, Py_None);
        }
        PyTuple_SET_ITEM(result, COLUMNS, texts.list);
        texts.list = NULL;
        PyTuple_SET_ITEM(result, COLUMNS + 1, names.list);
        names.list = NULL;
        PyTuple_SET_ITEM(result, COLUMNS + 2, state);
    }
    goto done;
python:
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < COLUMNS; i++) Py_XDECREF(col[i].bytes);
    Py_XDECREF(names.list);
    Py_XDECREF(texts.list);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_caffe_scan", "Caffe's hot log lines read in C (see scan).", -1, methods,
};

PyMODINIT_FUNC PyInit__caffe_scan(void) { return PyModule_Create(&module); }
