"""Every grading rule, one small function each. Start here to answer "why did this site get a B?".

A rule takes a ScanResult and returns a Finding, a list of Findings, or None. Rules only state facts the
scan actually observed: a probe that did not run (None) or an incomplete TLS scan never produces a finding
that is based on the *absence* of something.

Caps follow the SSL Labs rating guide and its 2009r changes as summarised in /work/shared/GRADING-NOTES.md §1.5;
SEO penalties follow §5 (Google, Observatory, hstspreload).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from scanner.engine.results import CertificateInfo, HttpHop, HttpResult, ScanResult, TlsResult
from scanner.grading.findings import Finding

RuleOutcome = Finding | Iterable[Finding] | None
Rule = Callable[[ScanResult], RuleOutcome]

RULES: list[Rule] = []

HSTS_MIN_MAX_AGE = 15_552_000  # 180 days: SSL Labs A+ and Observatory threshold
HSTS_PRELOAD_MAX_AGE = 31_536_000  # 1 year: hstspreload.org requirement
EXPIRY_WARNING_DAYS = 30
EXPIRY_URGENT_DAYS = 14
MAX_REDIRECTS_TO_HTTPS = 3  # hstspreload's maxRedirects
TEMPORARY_REDIRECTS = {302, 303, 307}
SEO_TRUST_FAILURE = 40  # browsers show a full-page interstitial: visitors and crawlers are turned away


def rule(check: Rule) -> Rule:
    """Register a rule; rules run in the order they are defined in this file."""
    RULES.append(check)
    return check


def evaluate(scan: ScanResult) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for check in RULES:
        outcome = check(scan)
        if outcome is None:
            continue
        if isinstance(outcome, Finding):
            findings.append(outcome)
        else:
            findings.extend(outcome)
    return tuple(findings)


# --- small readers shared by the rules -------------------------------------------------------------------


def _certificate(scan: ScanResult) -> CertificateInfo | None:
    return scan.tls.certificate if scan.tls else None


def _complete_tls(scan: ScanResult) -> TlsResult | None:
    """TLS data we may draw "not supported" conclusions from: a timed-out probe reads as "not offered"."""
    if scan.tls is None or scan.tls.incomplete_reason:
        return None
    return scan.tls


def _accepts(tls: TlsResult, protocol: str) -> bool:
    return bool(tls.protocols.get(protocol))


def _cert_rejected_by_browsers(cert: CertificateInfo) -> bool:
    return (
        cert.expired or cert.not_yet_valid or cert.self_signed or not cert.trusted or not cert.hostname_match
    )


def _suite_names(suites) -> str:
    names = sorted({suite.name for suite in suites})
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _duration(seconds: int) -> str:
    days = seconds / 86_400
    if days >= 365 and days % 365 < 1:
        years = int(days // 365)
        return f"{years} year" + ("s" if years != 1 else "")
    if days >= 1:
        whole = int(days)
        return f"{whole} day" + ("s" if whole != 1 else "")
    return f"{seconds} seconds"


def _redirect_targets(http: HttpResult) -> list[tuple[HttpHop, str]]:
    """(hop, absolute target URL) for every redirect; Location may legally be relative."""
    return [(hop, urljoin(hop.url, hop.location)) for hop in http.redirects]


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def _hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _walked_http(scan: ScanResult) -> HttpResult | None:
    """The port-80 redirect walk, when it ran to its end and something answered."""
    http = scan.http
    if http is None or http.error or not http.http_listener or not http.chain:
        return None
    return http


# --- certificate ---------------------------------------------------------------------------------------

CERT_RENEW_HINT = (
    "Renew the certificate (for example with an ACME client such as certbot) and automate renewal; "
    "then reload the web server so it serves the new file."
)


@rule
def cert_expired(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or not cert.expired:
        return None
    return Finding(
        id="cert.expired",
        area="certificate",
        severity="critical",
        title="The certificate has expired",
        detail=f"The certificate for {cert.subject} expired on {cert.not_after:%Y-%m-%d} "
        f"({-cert.days_to_expiry} days ago). Browsers block the site with a full-page warning.",
        remediation=CERT_RENEW_HINT,
        cap="T",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_not_yet_valid(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or not cert.not_yet_valid:
        return None
    return Finding(
        id="cert.not_yet_valid",
        area="certificate",
        severity="critical",
        title="The certificate is not valid yet",
        detail=f"The certificate for {cert.subject} is only valid from {cert.not_before:%Y-%m-%d %H:%M} UTC.",
        remediation="Check the server clock and the certificate's notBefore date; serve a certificate "
        "that is already valid (or wait for it before deploying).",
        cap="T",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_self_signed(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or not cert.self_signed:
        return None
    return Finding(
        id="cert.self_signed",
        area="certificate",
        severity="critical",
        title="The certificate is self-signed",
        detail=f"The certificate was issued by itself ({cert.issuer}); no browser trusts it.",
        remediation="Replace it with a certificate from a publicly trusted CA, e.g. a free Let's Encrypt "
        "certificate obtained with certbot.",
        cap="T",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_untrusted(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    # Expired, not-yet-valid and self-signed certificates are untrusted too, but their own rule explains why.
    if cert is None or cert.trusted or cert.expired or cert.not_yet_valid or cert.self_signed:
        return None
    reason = cert.validation_error or "the chain does not lead to a trusted root"
    return Finding(
        id="cert.untrusted",
        area="certificate",
        severity="critical",
        title="The certificate is not trusted",
        detail=f"Certificate issued by {cert.issuer} failed validation: {reason}.",
        remediation="Use a certificate from a publicly trusted CA and serve its full chain "
        "(nginx: ssl_certificate pointing to fullchain.pem; Apache: SSLCertificateFile with the chain).",
        cap="T",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_hostname_mismatch(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or cert.hostname_match:
        return None
    names = ", ".join(cert.san_dns_names) or "no DNS names"
    return Finding(
        id="cert.hostname_mismatch",
        area="certificate",
        severity="critical",
        title="The certificate does not cover this host name",
        detail=f"{scan.host} is not among the certificate's names ({names}).",
        remediation=f"Issue a certificate whose subjectAltName includes {scan.host}, and check that this "
        "virtual host (nginx server_name / Apache ServerName) serves it.",
        cap="M",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_chain_incomplete(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or not cert.chain_incomplete:
        return None
    return Finding(
        id="cert.chain_incomplete",
        area="certificate",
        severity="high",
        title="The server does not send the intermediate certificates",
        detail=f"The server sends {cert.chain_length} certificate(s); clients that do not fetch missing "
        "intermediates themselves (many mobile apps, crawlers, curl) fail to connect.",
        remediation="Serve the full chain: nginx ssl_certificate fullchain.pem; Apache 2.4.8+ "
        "SSLCertificateFile with leaf and intermediates concatenated.",
        cap="B",
        seo_penalty=10,
    )


@rule
def cert_expiring_soon(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or cert.expired or cert.days_to_expiry >= EXPIRY_WARNING_DAYS:
        return None
    return Finding(
        id="cert.expiring_soon",
        area="certificate",
        severity="high" if cert.days_to_expiry < EXPIRY_URGENT_DAYS else "medium",
        title="The certificate expires soon",
        detail=f"The certificate expires on {cert.not_after:%Y-%m-%d}, in {cert.days_to_expiry} days.",
        remediation=CERT_RENEW_HINT,
        warning=True,
        seo_penalty=5,
    )


@rule
def cert_weak_key(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None:
        return None
    if cert.key_type in ("RSA", "DSA"):
        if cert.key_bits < 1024:
            cap = "F"
        elif cert.key_bits < 2048:
            cap = "B"
        else:
            return None
    elif cert.key_type in ("EC", "ECDSA") and cert.key_bits < 256:
        cap = "B"
    else:
        return None
    return Finding(
        id="cert.weak_key",
        area="certificate",
        severity="critical" if cap == "F" else "high",
        title="The certificate key is too small",
        detail=f"The certificate has a {cert.key_bits}-bit {cert.key_type} key.",
        remediation="Issue a new certificate with an RSA key of at least 2048 bits or an EC P-256 key "
        "(certbot --key-type ecdsa).",
        cap=cap,
        seo_penalty=5,
    )


@rule
def cert_weak_signature(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    digest = (cert.signature_hash or "").lower() if cert else ""
    if digest not in ("sha1", "md5", "md2"):
        return None
    # SHA-1 signatures are distrusted by browsers (T); MD2/MD5 ones are forgeable outright (F in the guide).
    return Finding(
        id="cert.sha1_signature",
        area="certificate",
        severity="critical",
        title=f"The certificate is signed with {digest.upper()}",
        detail=f"Signature algorithm {cert.signature_algorithm}; browsers reject {digest.upper()} signatures.",
        remediation="Reissue the certificate; every public CA now signs with SHA-256 or better.",
        cap="T" if digest == "sha1" else "F",
        seo_penalty=SEO_TRUST_FAILURE,
    )


@rule
def cert_no_ocsp_stapling(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    if cert is None or cert.ocsp_stapled:
        return None
    return Finding(
        id="cert.no_ocsp_stapling",
        area="certificate",
        severity="info",
        title="OCSP stapling is not enabled",
        detail="The server did not staple an OCSP response; clients must ask the CA themselves.",
        remediation="nginx: ssl_stapling on; ssl_stapling_verify on; Apache: SSLUseStapling On. "
        "(Optional: some CAs, such as Let's Encrypt, are phasing OCSP out.)",
    )


# --- protocols -----------------------------------------------------------------------------------------

PROTOCOLS_HINT = (
    "Allow only TLS 1.2 and 1.3: nginx ssl_protocols TLSv1.2 TLSv1.3; "
    "Apache SSLProtocol -all +TLSv1.2 +TLSv1.3."
)


def _protocol_finding(scan: ScanResult, protocol: str, finding_id: str, cap: str, severity: str, why: str):
    tls = scan.tls
    if tls is None or not _accepts(tls, protocol):
        return None
    return Finding(
        id=finding_id,
        area="protocol",
        severity=severity,
        title=f"{protocol} is enabled",
        detail=f"The server accepts {protocol}, {why}.",
        remediation=PROTOCOLS_HINT,
        cap=cap,
        seo_penalty=5 if cap == "F" else 2,
    )


@rule
def protocol_sslv2(scan: ScanResult) -> RuleOutcome:
    return _protocol_finding(scan, "SSLv2", "tls.protocol.sslv2", "F", "critical", "which is broken (DROWN)")


@rule
def protocol_sslv3(scan: ScanResult) -> RuleOutcome:
    return _protocol_finding(scan, "SSLv3", "tls.protocol.sslv3", "C", "high", "which is broken (POODLE)")


@rule
def protocol_tls1_0(scan: ScanResult) -> RuleOutcome:
    return _protocol_finding(scan, "TLSv1.0", "tls.protocol.tls1_0", "B", "medium", "deprecated by RFC 8996")


@rule
def protocol_tls1_1(scan: ScanResult) -> RuleOutcome:
    return _protocol_finding(scan, "TLSv1.1", "tls.protocol.tls1_1", "B", "medium", "deprecated by RFC 8996")


@rule
def protocol_no_tls1_2(scan: ScanResult) -> RuleOutcome:
    tls = _complete_tls(scan)
    # A TLS 1.3-only server is modern, not old: only the absence of both counts.
    if tls is None or _accepts(tls, "TLSv1.2") or _accepts(tls, "TLSv1.3"):
        return None
    offered = ", ".join(name for name, ok in tls.protocols.items() if ok) or "none"
    return Finding(
        id="tls.protocol.no_tls1_2",
        area="protocol",
        severity="high",
        title="Neither TLS 1.2 nor TLS 1.3 is supported",
        detail=f"Protocols offered: {offered}.",
        remediation="Upgrade the TLS library (OpenSSL 1.1.1+) and web server, then " + PROTOCOLS_HINT[0].lower()
        + PROTOCOLS_HINT[1:],
        cap="C",
        seo_penalty=5,
    )


@rule
def protocol_no_tls1_3(scan: ScanResult) -> RuleOutcome:
    tls = _complete_tls(scan)
    if tls is None or _accepts(tls, "TLSv1.3"):
        return None
    return Finding(
        id="tls.protocol.no_tls1_3",
        area="protocol",
        severity="low",
        title="TLS 1.3 is not supported",
        detail="The server does not accept TLS 1.3 (SSL Labs counts this as a warning since May 2025).",
        remediation="Enable TLS 1.3 (needs OpenSSL 1.1.1+): nginx ssl_protocols TLSv1.2 TLSv1.3; "
        "Apache SSLProtocol -all +TLSv1.2 +TLSv1.3.",
        warning=True,
    )


# --- cipher suites and key exchange -------------------------------------------------------------------

CIPHERS_HINT = (
    "Use the Mozilla 'intermediate' cipher list (ssl-config.mozilla.org): ECDHE with AES-GCM or ChaCha20-Poly1305 "
    "(nginx ssl_ciphers / Apache SSLCipherSuite)."
)


def _cipher_finding(scan, predicate, finding_id, cap, severity, title, why):
    if scan.tls is None:
        return None
    matching = [suite for suite in scan.tls.cipher_suites if predicate(suite)]
    if not matching:
        return None
    return Finding(
        id=finding_id,
        area="protocol",
        severity=severity,
        title=title,
        detail=f"Accepted: {_suite_names(matching)}. {why}",
        remediation=CIPHERS_HINT,
        cap=cap,
        seo_penalty=5 if cap == "F" else 2,
    )


@rule
def cipher_rc4(scan: ScanResult) -> RuleOutcome:
    return _cipher_finding(
        scan, lambda s: s.is_rc4, "tls.cipher.rc4", "C", "high", "RC4 cipher suites are accepted",
        "RC4 has practical biases that leak plaintext (RFC 7465 forbids it).",
    )


@rule
def cipher_3des(scan: ScanResult) -> RuleOutcome:
    return _cipher_finding(
        scan, lambda s: s.is_3des, "tls.cipher.3des", "C", "medium", "3DES cipher suites are accepted",
        "Its 64-bit block makes long connections vulnerable to SWEET32.",
    )


@rule
def cipher_null(scan: ScanResult) -> RuleOutcome:
    return _cipher_finding(
        scan, lambda s: s.is_null, "tls.cipher.null", "F", "critical", "NULL cipher suites are accepted",
        "These suites do not encrypt at all.",
    )


@rule
def cipher_export(scan: ScanResult) -> RuleOutcome:
    return _cipher_finding(
        scan, lambda s: s.is_export, "tls.cipher.export", "F", "critical", "EXPORT cipher suites are accepted",
        "Export-grade keys (40-56 bits) are broken in minutes (FREAK, Logjam).",
    )


@rule
def cipher_anonymous(scan: ScanResult) -> RuleOutcome:
    return _cipher_finding(
        scan, lambda s: s.is_anonymous, "tls.cipher.anonymous", "F", "critical",
        "Anonymous cipher suites are accepted",
        "Without server authentication anyone on the path can impersonate the server.",
    )


@rule
def cipher_no_forward_secrecy(scan: ScanResult) -> RuleOutcome:
    # SSL Labs caps only when non-FS suites get negotiated with modern clients; without client simulation we
    # cannot tell, so any accepted non-FS suite counts (stricter at the edges, see GRADING-NOTES §6).
    return _cipher_finding(
        scan, lambda s: not s.forward_secrecy, "tls.cipher.no_forward_secrecy", "B", "medium",
        "Some cipher suites lack forward secrecy",
        "With static RSA key exchange, a stolen server key decrypts past recorded traffic.",
    )


@rule
def cipher_no_aead(scan: ScanResult) -> RuleOutcome:
    tls = _complete_tls(scan)
    if tls is None or not tls.cipher_suites or any(suite.aead for suite in tls.cipher_suites):
        return None
    return Finding(
        id="tls.cipher.no_aead",
        area="protocol",
        severity="medium",
        title="No authenticated-encryption (AEAD) cipher suite is offered",
        detail=f"Only CBC/stream suites are accepted: {_suite_names(tls.cipher_suites)}.",
        remediation=CIPHERS_HINT,
        cap="B",
        seo_penalty=2,
    )


@rule
def kex_weak_dh(scan: ScanResult) -> RuleOutcome:
    tls = scan.tls
    if tls is None:
        return None
    dh_suites = [s for s in tls.cipher_suites if s.kex_bits and (s.kex_type or "").upper() in {"DH", "DHE", "FFDHE"}]
    if not dh_suites:
        return None
    weakest = min(suite.kex_bits for suite in dh_suites)
    if weakest >= 2048:
        return None
    cap = "F" if weakest < 1024 else "B"
    return Finding(
        id="tls.kex.weak_dh",
        area="protocol",
        severity="critical" if cap == "F" else "medium",
        title="Weak Diffie-Hellman parameters",
        detail=f"DHE key exchange uses a {weakest}-bit group (Logjam: below 1024 is insecure, below 2048 weak).",
        remediation="Drop DHE suites in favour of ECDHE, or use the RFC 7919 ffdhe2048 group "
        "(nginx ssl_dhparam; Apache SSLOpenSSLConfCmd DHParameters).",
        cap=cap,
        seo_penalty=5 if cap == "F" else 2,
    )


# --- known vulnerabilities -----------------------------------------------------------------------------

PATCH_HINT = "Update OpenSSL (or the TLS library/appliance firmware) to a supported version and restart the server."


def _vulnerability(scan: ScanResult, flag: str, finding_id: str, title: str, detail: str, remediation: str,
                   cap: str | None, severity: str = "critical", warning: bool = False) -> RuleOutcome:
    # None means "not tested": only a positive result is a finding.
    if scan.tls is None or getattr(scan.tls.vulnerabilities, flag) is not True:
        return None
    return Finding(
        id=finding_id, area="vulnerability", severity=severity, title=title, detail=detail,
        remediation=remediation, cap=cap, warning=warning, seo_penalty=5 if cap == "F" else 0,
    )


@rule
def vuln_heartbleed(scan: ScanResult) -> RuleOutcome:
    return _vulnerability(
        scan, "heartbleed", "vuln.heartbleed", "Vulnerable to Heartbleed (CVE-2014-0160)",
        "The server leaks process memory, including private keys, to anyone who asks.",
        PATCH_HINT + " Then revoke and replace the certificate: its key must be assumed stolen.", "F",
    )


@rule
def vuln_ccs_injection(scan: ScanResult) -> RuleOutcome:
    return _vulnerability(
        scan, "ccs_injection", "vuln.ccs_injection", "Vulnerable to OpenSSL CCS injection (CVE-2014-0224)",
        "An attacker on the path can force weak keys and decrypt or alter traffic.", PATCH_HINT, "F",
    )


@rule
def vuln_robot(scan: ScanResult) -> RuleOutcome:
    detail = scan.tls.vulnerabilities.robot_detail if scan.tls else None
    return _vulnerability(
        scan, "robot", "vuln.robot", "Vulnerable to ROBOT (Bleichenbacher oracle)",
        "RSA key exchange leaks an oracle that allows decrypting recorded traffic"
        + (f" ({detail})." if detail else "."),
        PATCH_HINT + " Disabling TLS_RSA_* (non-forward-secret) suites also removes the attack.", "F",
    )


@rule
def vuln_insecure_renegotiation(scan: ScanResult) -> RuleOutcome:
    return _vulnerability(
        scan, "insecure_renegotiation", "vuln.insecure_renegotiation", "Insecure renegotiation (no RFC 5746)",
        "The server renegotiates without the secure-renegotiation extension; requests can be injected "
        "(CVE-2009-3555).", PATCH_HINT, "F",
    )


@rule
def vuln_compression(scan: ScanResult) -> RuleOutcome:
    return _vulnerability(
        scan, "compression", "vuln.compression", "TLS compression is enabled (CRIME)",
        "Compressed TLS records let an attacker recover secrets such as session cookies.",
        "Disable TLS compression (nginx/Apache do so with any OpenSSL from 1.0.1 on; check for "
        "SSLCompression on in Apache).", "C", severity="high",
    )


@rule
def vuln_client_renegotiation_dos(scan: ScanResult) -> RuleOutcome:
    return _vulnerability(
        scan, "client_renegotiation_dos", "vuln.client_renegotiation_dos",
        "Client-initiated renegotiation is allowed",
        "Clients may trigger renegotiations repeatedly, an easy CPU denial of service.",
        "Disable client-initiated renegotiation (recent OpenSSL/nginx do by default; "
        "Apache: SSLInsecureRenegotiation off and update).", None, severity="info", warning=True,
    )


@rule
def mozilla_intermediate(scan: ScanResult) -> RuleOutcome:
    issues = scan.tls.mozilla_intermediate_issues if scan.tls else None
    if not issues:  # None = not checked, {} = compliant
        return None
    listed = "; ".join(f"{key}: {value}" for key, value in sorted(issues.items()))
    return Finding(
        id="tls.mozilla.intermediate",
        area="protocol",
        severity="info",
        title="Not compliant with Mozilla's 'intermediate' TLS configuration",
        detail=listed,
        remediation="Generate a configuration at ssl-config.mozilla.org (profile 'intermediate') "
        "for your server and OpenSSL version.",
    )


# --- plain-HTTP listener and redirect chain ------------------------------------------------------------

REDIRECT_HINT = (
    "Redirect every plain-HTTP request with a 301 to the same host over HTTPS: "
    "nginx `return 301 https://$host$request_uri;`, Apache `Redirect permanent / https://example.com/`."
)


@rule
def http_unreachable(scan: ScanResult) -> RuleOutcome:
    if scan.http is None or not scan.http.error:
        return None
    return Finding(
        id="http.unreachable",
        area="http",
        severity="high",
        title="Following the HTTP to HTTPS redirects failed",
        detail=f"The redirect walk from http://{scan.host}/ stopped: {scan.http.error}.",
        remediation="Make sure port 80 and 443 answer from everywhere (firewall, load balancer) and every hop "
        "serves a valid response. " + REDIRECT_HINT,
        seo_penalty=15,
    )


@rule
def http_no_listener(scan: ScanResult) -> RuleOutcome:
    # Only a clean "nothing listens"; a timeout or other error is reported by http.unreachable.
    if scan.http is None or scan.http.http_listener or scan.http.error:
        return None
    return Finding(
        id="http.no_listener",
        area="http",
        severity="low",
        title="Nothing answers on port 80",
        detail=f"http://{scan.host}/ is closed, so visitors and links that use the bare name or http:// "
        "get an error instead of the HTTPS site.",
        remediation="Listen on port 80 only to redirect: " + REDIRECT_HINT,
        seo_penalty=15,
    )


@rule
def http_redirect_missing(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    if http is None or http.loop or http.too_many_redirects or _scheme(http.chain[0].url) != "http":
        return None
    if any(_scheme(target) == "https" for _, target in _redirect_targets(http)):
        return None
    landing = http.final_url or http.chain[-1].url
    return Finding(
        id="http.redirect.missing",
        area="http",
        severity="high",
        title="HTTP does not redirect to HTTPS",
        detail=f"http://{scan.host}/ ends at {landing} (status {http.chain[-1].status}) without ever reaching "
        "HTTPS, so the insecure copy can be indexed and users stay on plain HTTP.",
        remediation=REDIRECT_HINT,
        seo_penalty=30,
    )


@rule
def http_redirect_temporary(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    if http is None or not http.redirects or http.redirects[0].status not in TEMPORARY_REDIRECTS:
        return None
    first = http.redirects[0]
    return Finding(
        id="http.redirect.temporary",
        area="http",
        severity="medium",
        title="The first redirect is temporary",
        detail=f"{first.url} answers {first.status} → {first.location}; search engines treat a temporary "
        "redirect as a weak canonical signal and may keep the HTTP URL.",
        remediation="Use a permanent redirect (301 or 308). " + REDIRECT_HINT,
        seo_penalty=10,
    )


@rule
def http_redirect_off_host(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    targets = _redirect_targets(http) if http else []
    if not targets:
        return None
    first_hop, first_target = targets[0]
    if _hostname(first_target) == _hostname(first_hop.url):
        return None
    return Finding(
        id="http.redirect.off_host",
        area="http",
        severity="medium",
        title="The first redirect leaves the host",
        detail=f"{first_hop.url} redirects first to {first_target}; HSTS for {_hostname(first_hop.url)} is "
        "never set and the hstspreload list rejects this (go to https on the same host first).",
        remediation="Redirect http://host/ to https://host/ first, then (over HTTPS) to the canonical host.",
        seo_penalty=10,
    )


@rule
def http_redirect_too_many(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    if http is None or http.loop:
        return None
    hops = len(http.redirects)
    if not http.too_many_redirects and hops <= MAX_REDIRECTS_TO_HTTPS:
        return None
    detail = (
        f"The walk gave up after {hops} redirects."
        if http.too_many_redirects
        else f"Reaching {http.final_url} takes {hops} redirects (more than {MAX_REDIRECTS_TO_HTTPS})."
    )
    return Finding(
        id="http.redirect.too_many",
        area="http",
        severity="medium",
        title="Too many redirects before the HTTPS page",
        detail=detail + " Each hop costs a round trip and crawl budget.",
        remediation="Redirect straight to the final HTTPS URL: at most http→https on the same host, then "
        "one hop to the canonical host.",
        seo_penalty=5,
    )


@rule
def http_redirect_loop(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    if http is None or not http.loop:
        return None
    urls = " → ".join(hop.url for hop in http.chain)
    return Finding(
        id="http.redirect.loop",
        area="http",
        severity="high",
        title="The redirects loop",
        detail=f"The chain comes back to a URL it already visited: {urls}.",
        remediation="Check for conflicting redirect rules (e.g. a proxy/CDN that talks HTTP to the origin while "
        "the origin redirects to HTTPS: use X-Forwarded-Proto). " + REDIRECT_HINT,
        seo_penalty=30,
    )


@rule
def http_redirect_downgrade(scan: ScanResult) -> RuleOutcome:
    http = _walked_http(scan)
    if http is None:
        return None
    for hop, target in _redirect_targets(http):
        if _scheme(hop.url) == "https" and _scheme(target) == "http":
            return Finding(
                id="http.redirect.downgrade",
                area="http",
                severity="high",
                title="A redirect goes back from HTTPS to HTTP",
                detail=f"{hop.url} redirects to {target}.",
                remediation="Make every redirect target an https:// URL (check absolute Location headers "
                "built by the application behind a TLS-terminating proxy).",
                seo_penalty=20,
            )
    return None


# --- HSTS ----------------------------------------------------------------------------------------------

HSTS_HINT = (
    "Send `Strict-Transport-Security: max-age=63072000; includeSubDomains; preload` on HTTPS responses: "
    "nginx `add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains; preload\" always;`, "
    "Apache `Header always set Strict-Transport-Security \"max-age=63072000; includeSubDomains; preload\"`."
)


@rule
def hsts_missing(scan: ScanResult) -> RuleOutcome:
    http = scan.http
    # Only when the HTTPS response was actually read (no walk error, TLS reached).
    if scan.tls is None or http is None or http.error or http.hsts is not None or http.hsts_error:
        return None
    return Finding(
        id="hsts.missing",
        area="hsts",
        severity="medium",
        title="No HSTS header",
        detail="The HTTPS response has no Strict-Transport-Security header, so browsers will keep trying "
        "http:// first, where the connection can be intercepted.",
        remediation=HSTS_HINT,
        warning=True,
        seo_penalty=10,
    )


@rule
def hsts_invalid(scan: ScanResult) -> RuleOutcome:
    http = scan.http
    if http is None:
        return None
    if http.hsts is not None and not http.hsts.valid:
        detail = f"The header `{http.hsts.raw}` has no valid max-age; browsers ignore it."
    elif http.hsts is None and http.hsts_error:
        detail = f"The header could not be used: {http.hsts_error}."
    else:
        return None
    return Finding(
        id="hsts.invalid",
        area="hsts",
        severity="medium",
        title="The HSTS header is invalid",
        detail=detail,
        remediation="Send exactly one well-formed header. " + HSTS_HINT,
        warning=True,
        seo_penalty=10,
    )


@rule
def hsts_short_max_age(scan: ScanResult) -> RuleOutcome:
    hsts = scan.http.hsts if scan.http else None
    if hsts is None or not hsts.valid or hsts.max_age >= HSTS_MIN_MAX_AGE:
        return None
    return Finding(
        id="hsts.short_max_age",
        area="hsts",
        severity="medium",
        title="The HSTS max-age is too short",
        detail=f"max-age={hsts.max_age} ({_duration(hsts.max_age)}); at least {HSTS_MIN_MAX_AGE} "
        f"({_duration(HSTS_MIN_MAX_AGE)}) is needed for an A+.",
        remediation=HSTS_HINT,
        warning=True,
        seo_penalty=5,
    )


@rule
def hsts_no_include_subdomains(scan: ScanResult) -> RuleOutcome:
    hsts = scan.http.hsts if scan.http else None
    if hsts is None or not hsts.valid or hsts.include_subdomains:
        return None
    return Finding(
        id="hsts.no_include_subdomains",
        area="hsts",
        severity="info",
        title="HSTS does not cover subdomains",
        detail=f"`{hsts.raw}` lacks includeSubDomains, so subdomains (and cookies scoped to them) stay exposed.",
        remediation="Once every subdomain serves HTTPS, add includeSubDomains. " + HSTS_HINT,
    )


@rule
def hsts_not_preload_ready(scan: ScanResult) -> RuleOutcome:
    hsts = scan.http.hsts if scan.http else None
    if hsts is None or not hsts.valid:
        return None
    missing = []
    if hsts.max_age < HSTS_PRELOAD_MAX_AGE:
        missing.append(f"max-age >= {HSTS_PRELOAD_MAX_AGE} (is {hsts.max_age}, {_duration(hsts.max_age)})")
    if not hsts.include_subdomains:
        missing.append("includeSubDomains")
    if not hsts.preload:
        missing.append("preload")
    if not missing:
        return None
    return Finding(
        id="hsts.not_preload_ready",
        area="hsts",
        severity="info",
        title="The HSTS header does not qualify for the preload list",
        detail="hstspreload.org requires: " + ", ".join(missing) + ".",
        remediation=HSTS_HINT + " Then submit the domain at hstspreload.org.",
    )


@rule
def hsts_ignored_untrusted(scan: ScanResult) -> RuleOutcome:
    cert = _certificate(scan)
    hsts = scan.http.hsts if scan.http else None
    if cert is None or hsts is None or not _cert_rejected_by_browsers(cert):
        return None
    return Finding(
        id="hsts.ignored_untrusted",
        area="hsts",
        severity="medium",
        title="Browsers ignore this HSTS header",
        detail="HSTS is only honoured over a connection with a valid certificate; this certificate is not "
        "accepted, so the header has no effect (RFC 6797 §8.1).",
        remediation="Fix the certificate problem reported above; the header then takes effect.",
    )
