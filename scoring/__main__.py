"""Lets ``python -m scoring`` run the command line (see scoring/cli.py)."""

import sys

from scoring.cli import main

sys.exit(main())
