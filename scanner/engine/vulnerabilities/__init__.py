"""Vulnerability probes: ROBOT, secure renegotiation and compression, Heartbleed, CCS, fallback, resumption."""
