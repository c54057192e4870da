"""The security rules: each one detects one thing and says what it saw. Start here for "why a B?".

A rule takes a ScanResult (certificate rules also take one certificate, so every deployment is checked) and
yields findings made with `policy.finding(id, detail)`. What a finding costs (severity, cap, warning, SEO
penalty), its title, remediation and anchor are in policy.toml, never here.

Rules only state facts the scan observed: a probe that did not run (None) or an incomplete TLS scan never
produces a finding based on the *absence* of something.

Where they are (imported here in the order they run; within one severity, findings keep that order):
- `rules_certificates.py`: certificate dates, trust, name, chain, signatures, key, OCSP stapling;
- `rules_tls.py`: protocols, cipher suites, key exchange, known vulnerabilities, secure renegotiation;
- `trust_rules.py`: revocation, CT, CAA, lifetimes, distrust; `hsts.py`; `seo.py`, `seo_extras.py`;
  `web_extras.py` (headers, cookies: information for the web security score).
"""

from __future__ import annotations

from scanner.grading import rules_certificates, rules_tls  # noqa: F401 - registers their rules, in this order
from scanner.grading.readers import chain_trusted, rejected_by_browsers, suite_names
from scanner.grading.registry import CERTIFICATE_RULES, RULES, certificate_rule, evaluate, rule

__all__ = [
    "CERTIFICATE_RULES",
    "RULES",
    "certificate_rule",
    "chain_trusted",
    "evaluate",
    "rejected_by_browsers",
    "rule",
    "suite_names",
]
