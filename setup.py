"""The C scoring loops (search/_kernels.c), built at install; everything else is in pyproject.toml.

Floating-point contraction is off so that every score is the numpy code's to the last bit.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("search._kernels", ["search/_kernels.c"], extra_compile_args=["-O2", "-ffp-contract=off"])])
