"""Allow ``python -m metaq``."""

import sys

from metaq.cli import main

sys.exit(main())
