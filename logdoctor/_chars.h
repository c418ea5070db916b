/* What the C parts share to read a str's characters: each loop is written once, with the kind of the str
 * (1, 2 or 4 bytes per character) as a parameter, and inlined into one copy per kind.
 * Included after <Python.h> by logdoctor/_split.c and logdoctor/parsers/_bar_scan.c. */
#ifndef LOGDOCTOR_CHARS_H
#define LOGDOCTOR_CHARS_H

#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

#if PY_VERSION_HEX >= 0x030C0000
#define READY(text) 0 /* every str is ready since Python 3.12 */
#else
#define READY(text) PyUnicode_READY(text)
#endif

/* The character at i of data, a str's characters of the given kind (a constant once inlined). */
#define READ(i)                                                                                          \
    (kind == PyUnicode_1BYTE_KIND   ? (Py_UCS4)((const Py_UCS1 *)data)[i]                               \
     : kind == PyUnicode_2BYTE_KIND ? (Py_UCS4)((const Py_UCS2 *)data)[i]                               \
                                    : ((const Py_UCS4 *)data)[i])

#endif
