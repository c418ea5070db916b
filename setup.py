"""The compiled parts: Caffe's hot lines read in C (logdoctor/parsers/_caffe_scan.c), the states of redrawn
Keras and tqdm bars (logdoctor/parsers/_bar_scan.c), the splitting of text into logical lines, terminal
redraws included (logdoctor/_split.c), and the grouping of the event table's rows by series
(logdoctor/_grouping.c).

Optional: without a C compiler the install still succeeds and the same work is done in Python.
Everything else about the package is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("logdoctor.parsers._caffe_scan", ["logdoctor/parsers/_caffe_scan.c"], optional=True),
    Extension("logdoctor.parsers._bar_scan", ["logdoctor/parsers/_bar_scan.c"], depends=["logdoctor/_chars.h"],
              optional=True),
    Extension("logdoctor._split", ["logdoctor/_split.c"], depends=["logdoctor/_chars.h"], optional=True),
    Extension("logdoctor._grouping", ["logdoctor/_grouping.c"], optional=True),
])
