"""`python -m api.cli`: the `datavault` command."""

import sys

from api.cli import main

if __name__ == "__main__":
    sys.exit(main())
