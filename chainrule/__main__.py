"""`python -m chainrule ...`: the same command line as `chainrule ...` (see chainrule.cli)."""

import sys

from chainrule.cli import main

sys.exit(main())
