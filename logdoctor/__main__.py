"""``python -m logdoctor``."""

from logdoctor.cli import main

main()
