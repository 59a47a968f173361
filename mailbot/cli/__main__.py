"""`python -m mailbot.cli`: the same command line as the `mailbot` script."""
import sys

from . import main

sys.exit(main())
