"""What reading a document can go wrong with."""

from __future__ import annotations


class CorpusError(ValueError):
    """The document can't be read; the message names the file (and line) and what is wrong."""
