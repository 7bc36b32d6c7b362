"""``python -m explorer``."""

from explorer.cli.main import entry

if __name__ == "__main__":
    entry()
