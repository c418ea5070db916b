"""The compiled part: Caffe's hot lines read in C (logdoctor/parsers/_caffe_scan.c).

Optional: without a C compiler the install still succeeds and the same lines are read in Python.
Everything else about the package is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("logdoctor.parsers._caffe_scan", ["logdoctor/parsers/_caffe_scan.c"], optional=True)])
