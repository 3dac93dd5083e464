"""The C scoring loops (search/_kernels.c), built at install; everything else is in pyproject.toml.

Floating-point contraction is off so that every score is the numpy code's to the last bit. The
dynamic cost model lets -O2 vectorise a loop whose length is only known at run time (a pass
over every document: 0.25 ms a million against 1.6); -O3 made the postings loops twice slower.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("search._kernels", ["search/_kernels.c"],
                             extra_compile_args=["-O2", "-fvect-cost-model=dynamic", "-ffp-contract=off"])])
