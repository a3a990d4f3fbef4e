"""``python -m centric.cli``."""

from . import main

main()
