"""Dépêche's search library: analysis, indexing, the engine and its CLI (see the README)."""
import os

# numpy's OpenBLAS starts a thread per core that spins after each matrix product (a
# generation's surname tables, as it opens); on a server whose workers and their facet helpers
# share the cores, that spinning takes a core from the searches. The library's products are
# small. Only effective before numpy is first imported, and never over the caller's own setting.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
