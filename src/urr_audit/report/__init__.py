"""Output formats: pure functions of (rules, findings, run info)."""
