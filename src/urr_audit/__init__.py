"""urr-audit: evidence-backed auditor for infrastructure repositories."""

__version__ = "0.1.0"
