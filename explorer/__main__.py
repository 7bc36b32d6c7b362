"""``python -m explorer``."""

import sys

from explorer.cli import run

if __name__ == "__main__":
    sys.exit(run())
