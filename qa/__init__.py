"""Question answering that quotes its sources (docs/ARCHITECTURE.md has the rooms)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cited-qa")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
