"""Typed model of a scanned repository. No I/O here: loaders build it, checks read it."""
