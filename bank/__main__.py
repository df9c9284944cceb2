"""``python -m bank``: the bank host's command line (``smart-teller host ...`` runs this)."""

import sys

from bank.cli import main

sys.exit(main())
