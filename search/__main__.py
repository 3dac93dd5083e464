"""`python -m search` is the `depeche` command."""
from .cli import main

main()
