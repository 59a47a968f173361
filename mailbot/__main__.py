"""`python -m mailbot`: the same command line as the `mailbot` script."""
import sys

from mailbot.cli import main

sys.exit(main())
