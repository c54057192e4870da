"""The Observatory tests, one function each: read the facts, name Observatory's result, say what was seen.

Each follows the current MDN Observatory's test of the same name (https://github.com/mdn/mdn-http-observatory,
src/analyzer/tests/*.js), described in words at
https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring. Differences are stated where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from scanner.engine.results import ScanResult
from scanner.engine.web_results import CspPolicy, WebFacts

HSTS_SIX_MONTHS = 15_552_000  # MDN's code (the docs say 15768000; the code's "white lie" is what it grades)
DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
NONCE_OR_HASH = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
PASSIVE_DIRECTIVES = ("img-src", "media-src")
SESSION_NAME_PARTS = ("login", "sess")  # MDN tests/cookies.js: a "session identifier" by its name
PRIVATE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
UNSAFE_REFERRER = {"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}


@dataclass(frozen=True)
class Outcome:
    result: str  # Observatory's result name, a row of web_security.toml
    detail: str


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _certificate_valid(scan: ScanResult) -> bool:
    cert = scan.tls.certificate if scan.tls else None
    return bool(cert and cert.trusted and cert.hostname_match and not cert.expired and not cert.not_yet_valid)


def hsts_protects(scan: ScanResult) -> bool:
    """MDN's HSTS test passes (cookies without Secure are then "protected by HSTS")."""
    hsts = scan.http.hsts if scan.http else None
    return bool(hsts and hsts.valid and hsts.max_age >= HSTS_SIX_MONTHS and _certificate_valid(scan))


# --- Content Security Policy (MDN tests/csp.js) --------------------------------------------------------------


def content_security_policy(scan: ScanResult, facts: WebFacts) -> Outcome:
    if not facts.csp:
        if facts.csp_report_only:
            return Outcome(
                "csp-not-implemented-but-reporting-enabled",
                "Only Content-Security-Policy-Report-Only is sent: violations are reported, nothing is blocked",
            )
        return Outcome("csp-not-implemented", "No Content-Security-Policy header")
    if invalid := next((policy.invalid_reason for policy in facts.csp if policy.invalid_reason), None):
        return Outcome("csp-header-invalid", f"The Content-Security-Policy cannot be parsed: {invalid}")
    return _judge_policy(facts.csp[0])


def _judge_policy(policy: CspPolicy) -> Outcome:
    def directive(name: str, fallback: bool = True) -> set[str]:
        found = policy.sources(name)
        if found is None and fallback:
            found = policy.sources("default-src")
        return set(found) if found is not None else {"*"}

    script_src, object_src, style_src = directive("script-src"), directive("object-src"), directive("style-src")
    for sources in (script_src, style_src):  # CSP2: 'unsafe-inline' is ignored next to a nonce or hash
        if any(source.startswith(NONCE_OR_HASH) for source in sources):
            sources.discard("'unsafe-inline'")
    if "'strict-dynamic'" in script_src:
        if not any(source.startswith(NONCE_OR_HASH) for source in script_src):
            return Outcome("csp-header-invalid", "script-src has 'strict-dynamic' without a nonce or hash")
        script_src = {
            s
            for s in script_src
            if s not in ("'self'", "'unsafe-inline'") and not any(s.startswith(broad) for broad in DANGEROUSLY_BROAD)
        }
    active = set(script_src)
    for name, sources in policy.directives.items():
        if name not in PASSIVE_DIRECTIVES and name != "script-src":
            active |= set(sources)
    passive = {
        source
        for name in PASSIVE_DIRECTIVES
        for source in (policy.sources(name) or policy.sources("default-src") or ())
    }
    insecure = ("http:", "ftp:")
    if script_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or object_src & DANGEROUSLY_BROAD:
        unsafe = sorted(script_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE)) + sorted(object_src & DANGEROUSLY_BROAD)
        return Outcome(
            "csp-implemented-with-unsafe-inline",
            "The CSP lets scripts or plugins run from anywhere or inline: "
            + ", ".join(unsafe)
            + (" (script-src or object-src unset)" if "*" in unsafe else ""),
        )
    if any(source.startswith(insecure) for source in active):
        return Outcome("csp-implemented-with-insecure-scheme", "The CSP allows active content over http:")
    if "'unsafe-eval'" in script_src | style_src:
        return Outcome("csp-implemented-with-unsafe-eval", "The CSP allows 'unsafe-eval'")
    if any(source.startswith(insecure) for source in passive):
        return Outcome(
            "csp-implemented-with-insecure-scheme-in-passive-content-only", "The CSP allows images or media over http:"
        )
    if style_src & (DANGEROUSLY_BROAD | UNSAFE_INLINE):
        return Outcome(
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            "The CSP allows inline or broad sources in style-src only",
        )
    if policy.sources("default-src") == ("'none'",):
        return Outcome(
            "csp-implemented-with-no-unsafe-default-src-none", "The CSP has default-src 'none' and nothing unsafe"
        )
    return Outcome("csp-implemented-with-no-unsafe", "The CSP has no 'unsafe-inline' or 'unsafe-eval'")


def frame_ancestors_restricted(facts: WebFacts) -> bool:
    sources = facts.csp[0].sources("frame-ancestors") if facts.csp else None
    return sources is not None and not set(sources) & DANGEROUSLY_BROAD


# --- Cookies (MDN tests/cookies.js; worst result wins, in its "goodness" order) -------------------------------

_COOKIE_ORDER = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)


def cookies(scan: ScanResult, facts: WebFacts) -> Outcome:
    if not facts.cookies:
        return Outcome("cookies-not-found", "No cookies are set")
    hsts = hsts_protects(scan)
    worst: tuple[int, str, str] | None = None

    def worse(result: str, why: str) -> None:
        nonlocal worst
        rank = _COOKIE_ORDER.index(result)
        if worst is None or rank > worst[0]:
            worst = (rank, result, why)

    for raw in facts.set_cookie_raw:
        for attribute in raw.split(";")[1:]:
            key, _, value = attribute.partition("=")
            if key.strip().lower() == "samesite" and value.strip().lower() not in ("lax", "strict", "none"):
                worse("cookies-samesite-flag-invalid", f"SameSite={value.strip()!r} is not Strict, Lax or None")
    for cookie in facts.cookies:
        name = cookie.name.lower()
        session = any(part in name for part in SESSION_NAME_PARTS)
        if not cookie.secure and (cookie.same_site or "").lower() == "none":
            worse("cookies-samesite-flag-invalid", f"{cookie.name} has SameSite=None without Secure")
        if not cookie.secure:
            worse(
                "cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag",
                f"{cookie.name} is set without Secure",
            )
        if "csrf" in name and not cookie.same_site:
            worse("cookies-anticsrf-without-samesite-flag", f"The anti-CSRF cookie {cookie.name} has no SameSite")
        if session and not cookie.secure:
            worse(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts
                else "cookies-session-without-secure-flag",
                f"The session cookie {cookie.name} is set without Secure",
            )
        if session and not cookie.http_only:
            worse("cookies-session-without-httponly-flag", f"The session cookie {cookie.name} is set without HttpOnly")
    if worst is not None:
        return Outcome(worst[1], worst[2])
    names = ", ".join(cookie.name for cookie in facts.cookies)
    if all(cookie.same_site for cookie in facts.cookies):
        return Outcome(
            "cookies-secure-with-httponly-sessions-and-samesite", f"{names}: Secure, SameSite, sessions HttpOnly"
        )
    return Outcome(
        "cookies-secure-with-httponly-sessions", f"{names}: Secure, sessions HttpOnly, not all with SameSite"
    )


# --- CORS, redirection, Referrer-Policy, HSTS ------------------------------------------------------------------


def cross_origin_resource_sharing(scan: ScanResult, facts: WebFacts) -> Outcome:
    allowed = facts.cors_allow_origin
    if allowed is None:
        values = facts.headers.get("access-control-allow-origin")
        allowed = values[0] if values else None
    if allowed is None:
        return Outcome("cross-origin-resource-sharing-not-implemented", "No Access-Control-Allow-Origin")
    allowed = allowed.strip()
    if allowed in ("*", facts.cors_origin_sent) and facts.cors_allow_credentials:
        shown = "*" if allowed == "*" else f"the requesting origin ({allowed})"
        return Outcome(
            "cross-origin-resource-sharing-implemented-with-universal-access",
            f"Access-Control-Allow-Origin is {shown} with Access-Control-Allow-Credentials: true",
        )
    if allowed in ("*", facts.cors_origin_sent):
        return Outcome(
            "cross-origin-resource-sharing-implemented-with-public-access",
            f"Access-Control-Allow-Origin: {allowed} (no credentials)",
        )
    return Outcome(
        "cross-origin-resource-sharing-implemented-with-restricted-access", f"Access-Control-Allow-Origin: {allowed}"
    )


def redirection(scan: ScanResult, facts: WebFacts) -> Outcome | None:
    http = scan.http
    if not http.http_listener:
        return Outcome("redirection-not-needed-no-http", "Nothing listens on http://")
    if http.error or http.loop or http.too_many_redirects or not http.chain:
        return None
    route = [hop.url for hop in http.chain]
    if len(route) == 1:
        return Outcome("redirection-missing", f"{route[0]} answers {http.chain[0].status} without redirecting")
    if not route[-1].lower().startswith("https://"):
        return Outcome("redirection-not-to-https", f"The redirects end at {route[-1]}")
    if not _certificate_valid(scan):
        return Outcome("redirection-invalid-cert", "The redirects reach a page with an invalid certificate")
    if route[1].lower().startswith("http://"):
        return Outcome("redirection-not-to-https-on-initial-redirection", f"{route[0]} redirects first to {route[1]}")
    if _host(route[0]) != _host(route[1]):
        return Outcome("redirection-off-host-from-http", f"{route[0]} redirects first to {route[1]}")
    return Outcome("redirection-to-https", f"{route[0]} redirects to {route[1]}")


def referrer_policy(scan: ScanResult, facts: WebFacts) -> Outcome:
    values = facts.headers.get("referrer-policy")
    if not values:
        return Outcome("referrer-policy-not-implemented", "No Referrer-Policy")
    tokens = [token.strip().lower() for value in values for token in value.split(",") if token.strip()]
    known = [token for token in tokens if token in PRIVATE_REFERRER | UNSAFE_REFERRER]
    if not known:  # browsers use the last token they know; none known means the header is ignored
        return Outcome("referrer-policy-header-invalid", f"Referrer-Policy {', '.join(values)!r} is not recognised")
    if known[-1] in PRIVATE_REFERRER:
        return Outcome("referrer-policy-private", f"Referrer-Policy: {known[-1]}")
    return Outcome(
        "referrer-policy-unsafe", f"Referrer-Policy: {known[-1]} sends the full URL or origin to other sites"
    )


def strict_transport_security(scan: ScanResult, facts: WebFacts) -> Outcome:
    hsts = scan.http.hsts
    if hsts is None:
        return Outcome("hsts-not-implemented", "No Strict-Transport-Security header")
    if not hsts.valid:
        return Outcome("hsts-header-invalid", f"Strict-Transport-Security {hsts.raw!r} is not valid")
    if not _certificate_valid(scan):
        return Outcome("hsts-invalid-cert", "Browsers ignore HSTS over a connection with certificate errors")
    if hsts.max_age < HSTS_SIX_MONTHS:
        return Outcome("hsts-implemented-max-age-less-than-six-months", f"max-age={hsts.max_age}")
    return Outcome("hsts-implemented-max-age-at-least-six-months", f"max-age={hsts.max_age}")


# --- Subresource Integrity (MDN tests/subresource-integrity.js) -------------------------------------------------


def _similar_origin(script_host: str, page_host: str) -> bool:
    """Same host, or both under the same registrable name (approximated by the last two labels: no public
    suffix list here, so example.co.uk subdomains count as similar, which only errs towards leniency)."""
    return script_host == page_host or script_host.split(".")[-2:] == page_host.split(".")[-2:]


def subresource_integrity(scan: ScanResult, facts: WebFacts) -> Outcome:
    if not facts.page_is_html:
        return Outcome("sri-not-implemented-response-not-html", "The page is not HTML")
    scripts = [script for script in facts.scripts if script.url]
    if not scripts:
        return Outcome("sri-not-implemented-but-no-scripts-loaded", "The page loads no <script src>")
    page_host = _host(facts.page_url)
    external = [s for s in scripts if not _similar_origin(_host(s.url), page_host)]
    with_sri = any(script.integrity for script in scripts)
    if not external:
        if with_sri:
            return Outcome(
                "sri-implemented-and-all-scripts-loaded-securely", "Every script is from this site, with SRI"
            )
        return Outcome(
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin", "Every script is from this site"
        )
    insecure = [s for s in external if s.protocol_relative or s.url.lower().startswith("http://")]
    unprotected = [s for s in external if not s.integrity]
    if insecure and unprotected:
        return Outcome(
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            f"{insecure[0].src} is loaded over http or protocol-relative, without integrity",
        )
    if insecure:
        return Outcome(
            "sri-implemented-but-external-scripts-not-loaded-securely", f"{insecure[0].src} is not loaded over https"
        )
    if unprotected:
        return Outcome(
            "sri-not-implemented-but-external-scripts-loaded-securely",
            f"{unprotected[0].src} is loaded from another site without an integrity attribute",
        )
    return Outcome("sri-implemented-and-external-scripts-loaded-securely", "Every external script has SRI and https")


# --- X-Content-Type-Options, X-Frame-Options, CORP -------------------------------------------------------------


def x_content_type_options(scan: ScanResult, facts: WebFacts) -> Outcome:
    values = facts.headers.get("x-content-type-options")
    if not values:
        return Outcome("x-content-type-options-not-implemented", "No X-Content-Type-Options")
    if len(values) == 1 and values[0].strip().lower() == "nosniff":
        return Outcome("x-content-type-options-nosniff", "nosniff")
    return Outcome("x-content-type-options-header-invalid", f"X-Content-Type-Options {', '.join(values)!r}")


def x_frame_options(scan: ScanResult, facts: WebFacts) -> Outcome:
    if frame_ancestors_restricted(facts):
        return Outcome("x-frame-options-implemented-via-csp", "CSP frame-ancestors restricts who may frame the page")
    values = facts.headers.get("x-frame-options")
    if not values:
        return Outcome("x-frame-options-not-implemented", "No X-Frame-Options and no CSP frame-ancestors")
    value = ", ".join(values).strip().lower()
    if value in ("deny", "sameorigin"):
        return Outcome("x-frame-options-sameorigin-or-deny", f"X-Frame-Options: {value.upper()}")
    if value.startswith("allow-from "):
        return Outcome("x-frame-options-allow-from-origin", "X-Frame-Options: ALLOW-FROM (ignored by current browsers)")
    return Outcome("x-frame-options-header-invalid", f"X-Frame-Options {value!r} is not DENY or SAMEORIGIN")


def cross_origin_resource_policy(scan: ScanResult, facts: WebFacts) -> Outcome:
    values = facts.headers.get("cross-origin-resource-policy")
    if not values:
        return Outcome("cross-origin-resource-policy-not-implemented", "No Cross-Origin-Resource-Policy")
    value = values[-1].strip().lower()
    results = {
        "same-origin": "cross-origin-resource-policy-implemented-with-same-origin",
        "same-site": "cross-origin-resource-policy-implemented-with-same-site",
        "cross-origin": "cross-origin-resource-policy-implemented-with-cross-origin",
    }
    if value in results and len(values) == 1:
        return Outcome(results[value], f"Cross-Origin-Resource-Policy: {value}")
    return Outcome("cross-origin-resource-policy-header-invalid", f"Cross-Origin-Resource-Policy {', '.join(values)!r}")
