"""The catalogue of lab sites: one deliberately (mis)configured HTTPS/HTTP pair per case."""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass, field

from .pki import LeafSpec
from .servers import ANY_PATH, Response

GOOD_HSTS = "max-age=63072000; includeSubDomains; preload"
LAB_DOMAIN = "lab.test"

MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
WEAK_CIPHERS = "DES-CBC3-SHA:AES128-SHA:@SECLEVEL=0"
# ECDHE with AES-256 first (so the server's order and a browser's AES-128-first order differ), then static RSA.
ECDHE_THEN_RSA_CIPHERS = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES128-SHA"

# Static RSA first, then ECDHE, then static RSA again, then ECDHE: no split of the suites by key exchange keeps
# the server's order in one piece.
INTERLEAVED_CIPHERS = "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA"


def hostname(name: str) -> str:
    return f"{name}.{LAB_DOMAIN}"


def page(headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(200, headers, b"<!doctype html><title>lab</title><p>hello</p>\n")


def redirect(location: str, status: int = 301) -> Response:
    return Response(status, (("Location", location),))


@dataclass(frozen=True)
class CaseSpec:
    """How to build one lab site. `kind` is https, tarpit or closed (nothing listens)."""

    name: str
    description: str
    kind: str = "https"
    leaf: LeafSpec | None = None
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    ciphers: str = MODERN_CIPHERS
    # False: the server follows the client's suite order (OpenSSL's default is the server's order here).
    server_preference: bool = True
    https_routes: dict[str, Response] = field(default_factory=dict)
    # None: no HTTP listener on port 80 at all.
    http_routes: dict[str, Response] | None = None
    # A HostileHttpServer behaviour ("drip", "huge"...) served instead of the routes on that port.
    hostile_http: str | None = None
    hostile_https: str | None = None
    # --- engine issue 9 ---
    extra_leaves: tuple[LeafSpec, ...] = ()  # more certificate deployments on the same server (RSA next to ECDSA)
    dh_prime: str | None = None  # "composite" or "nonsafe": DHE with a broken group the lab generates
    client_auth: bool = False  # the server asks for a (optional) client certificate
    # A TLS alert (its description byte) the server answers to a ClientHello carrying TLS_FALLBACK_SCSV.
    fallback_alert: int | None = None
    # A second address for the same name (pinned `host:ip1,ip2`) serving this variant of the case.
    second_address: CaseSpec | None = None

    @property
    def hostname(self) -> str:
        return hostname(self.name)


def _standard(name: str, description: str, *, hsts: str | None = GOOD_HSTS, **overrides) -> CaseSpec:
    headers = (("Strict-Transport-Security", hsts),) if hsts else ()
    defaults = {
        "leaf": LeafSpec(hostnames=(hostname(name),)),
        "https_routes": {ANY_PATH: page(headers)},
        "http_routes": {ANY_PATH: redirect(f"https://{hostname(name)}/")},
    }
    defaults.update(overrides)
    return CaseSpec(name=name, description=description, **defaults)


def all_cases() -> list[CaseSpec]:
    days = dt.timedelta
    return [
        _standard("good", "TLS 1.2/1.3, ECDHE AEAD, trusted ECDSA chain, preload-ready HSTS, 301 to https"),
        _standard(
            "expired",
            "leaf certificate expired 10 days ago",
            leaf=LeafSpec(hostnames=(hostname("expired"),), not_before=days(days=-100), not_after=days(days=-10)),
        ),
        _standard(
            "notyetvalid",
            "leaf certificate only valid from 10 days in the future",
            leaf=LeafSpec(hostnames=(hostname("notyetvalid"),), not_before=days(days=10), not_after=days(days=100)),
        ),
        _standard(
            "wronghost",
            "certificate issued for other.lab.test",
            leaf=LeafSpec(hostnames=(hostname("other"),)),
        ),
        _standard(
            "selfsigned",
            "self-signed leaf certificate",
            leaf=LeafSpec(hostnames=(hostname("selfsigned"),), self_signed=True),
        ),
        _standard(
            "nointermediate",
            "server sends the leaf without its intermediate",
            leaf=LeafSpec(hostnames=(hostname("nointermediate"),), send_intermediate=False),
        ),
        _standard(
            "legacy",
            "RSA certificate, TLS 1.0 to 1.2 with the full legacy cipher list",
            leaf=LeafSpec(hostnames=(hostname("legacy"),), key_type="rsa"),
            min_version=ssl.TLSVersion.TLSv1,
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers=LEGACY_CIPHERS,
        ),
        _standard(
            "weakciphers",
            "TLS 1.2 only with 3DES and static-RSA CBC suites",
            leaf=LeafSpec(hostnames=(hostname("weakciphers"),), key_type="rsa"),
            min_version=ssl.TLSVersion.TLSv1_2,
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers=WEAK_CIPHERS,
        ),
        _standard("nohsts", "no Strict-Transport-Security header", hsts=None),
        _standard("shorthsts", "HSTS max-age of one day", hsts="max-age=86400"),
        _standard(
            "redirect302",
            "http answers with a temporary 302 redirect",
            http_routes={ANY_PATH: redirect(f"https://{hostname('redirect302')}/", 302)},
        ),
        _standard(
            "chain3",
            "three hops (two http redirects, then https): within hstspreload's limit",
            http_routes={
                "/": redirect(f"http://{hostname('chain3')}/step1"),
                "/step1": redirect(f"http://{hostname('chain3')}/step2"),
                "/step2": redirect(f"https://{hostname('chain3')}/"),
            },
        ),
        _standard(
            "longchain",
            "four redirects before reaching https (hstspreload allows three)",
            http_routes={
                "/": redirect(f"http://{hostname('longchain')}/step1"),
                "/step1": redirect(f"http://{hostname('longchain')}/step2"),
                "/step2": redirect(f"http://{hostname('longchain')}/step3"),
                "/step3": redirect(f"https://{hostname('longchain')}/"),
            },
        ),
        _standard(
            "loop",
            "http redirects in a loop",
            http_routes={
                "/": redirect(f"http://{hostname('loop')}/a"),
                "/a": redirect(f"http://{hostname('loop')}/"),
            },
        ),
        _standard(
            "offhost",
            "http redirects straight to another host's https",
            http_routes={ANY_PATH: redirect(f"https://{hostname('good')}/")},
        ),
        _standard(
            "hopbadcert",
            "http redirects to another host's https whose certificate has expired",
            http_routes={ANY_PATH: redirect(f"https://{hostname('expired')}/")},
        ),
        _standard("nohttp", "nothing listens on port 80", http_routes=None),
        _standard(
            "downgrade",
            "http goes to https which sends the visitor back to plain http",
            https_routes={"/": redirect(f"http://{hostname('downgrade')}/plain"), ANY_PATH: page()},
            http_routes={"/": redirect(f"https://{hostname('downgrade')}/"), "/plain": page()},
        ),
        _standard(
            "expiring",
            "valid certificate that expires in 10 days",
            leaf=LeafSpec(hostnames=(hostname("expiring"),), not_after=days(days=10)),
        ),
        # --- handshake simulation (issue 9 item 5, `handshake` helper) ---
        _standard(
            "ecdhepref",
            "TLS 1.2 only, RSA: prefers ECDHE (AES-256 first) but also accepts a static-RSA suite",
            leaf=LeafSpec(hostnames=(hostname("ecdhepref"),), key_type="rsa"),
            min_version=ssl.TLSVersion.TLSv1_2,
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers=ECDHE_THEN_RSA_CIPHERS,
        ),
        _standard(
            "clientorder",
            "as ecdhepref, but the server follows the client's suite order",
            leaf=LeafSpec(hostnames=(hostname("clientorder"),), key_type="rsa"),
            min_version=ssl.TLSVersion.TLSv1_2,
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers=ECDHE_THEN_RSA_CIPHERS,
            server_preference=False,
        ),
        _standard(
            "interleaved",
            "TLS 1.2 only, RSA: the server's own order mixes static-RSA and ECDHE suites (an RC4-era shape)",
            leaf=LeafSpec(hostnames=(hostname("interleaved"),), key_type="rsa"),
            min_version=ssl.TLSVersion.TLSv1_2,
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers=INTERLEAVED_CIPHERS,
        ),
        _standard(
            "tls13only",
            "TLS 1.3 only: clients without TLS 1.3 cannot connect",
            min_version=ssl.TLSVersion.TLSv1_3,
            max_version=ssl.TLSVersion.TLSv1_3,
        ),
        # --- end handshake simulation ---
        # --- grading (issue 11) ---
        _standard("nohstsnohttp", "no HSTS header and nothing on port 80", hsts=None, http_routes=None),
        _standard(
            "cbcfirst",
            "TLS 1.2 only; the server prefers ECDHE with AES-CBC over the AES-GCM suite it also accepts",
            max_version=ssl.TLSVersion.TLSv1_2,
            ciphers="ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
        ),
        # --- end grading ---
        # --- the HTTP side (`http` helper; cases defined at the end of this file) ---
        *http_side_cases(),
        CaseSpec("tarpit", "accepts TCP connections and never answers", kind="tarpit"),
        CaseSpec("closed", "nothing listens on any port", kind="closed"),
        *engine_cases(),
    ]


# --- engine issue 9: what real servers do (chains, key exchange, optional probes failing) -------------------
RSA_DHE_CIPHERS = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"


def engine_cases() -> list[CaseSpec]:
    return [
        _standard(
            "aiabroken",
            "leaf only, and its AIA caIssuers URL answers 404",
            leaf=LeafSpec(hostnames=(hostname("aiabroken"),), send_intermediate=False, aia_path="/missing.der"),
        ),
        _standard(
            "reversedchain",
            "two intermediates sent top-down (root's child first) instead of bottom-up",
            leaf=LeafSpec(hostnames=(hostname("reversedchain"),), issuer="two-level", reverse_chain=True),
        ),
        _standard(
            "sha1intermediate",
            "the intermediate CA certificate is signed with SHA-1",
            leaf=LeafSpec(hostnames=(hostname("sha1intermediate"),), issuer="sha1"),
            ciphers=MODERN_CIPHERS + ":@SECLEVEL=0",
        ),
        _standard(
            "md5leaf",
            "RSA leaf signed with MD5 by an RSA intermediate",
            leaf=LeafSpec(hostnames=(hostname("md5leaf"),), key_type="rsa", issuer="rsa", signature_hash="md5"),
            ciphers=MODERN_CIPHERS + ":@SECLEVEL=0",
        ),
        _standard(
            "dualcert",
            "two certificates: ECDSA P-256 and a 1024-bit RSA one",
            extra_leaves=(LeafSpec(hostnames=(hostname("dualcert"),), key_type="rsa", key_bits=1024),),
            ciphers=MODERN_CIPHERS + ":@SECLEVEL=0",
        ),
        _standard(
            "dhcomposite",
            "DHE only (TLS 1.2), with a composite 2048-bit modulus",
            leaf=LeafSpec(hostnames=(hostname("dhcomposite"),), key_type="rsa"),
            ciphers=RSA_DHE_CIPHERS,
            dh_prime="composite",
        ),
        _standard(
            "dhnonsafe",
            "DHE only (TLS 1.2), with a 2048-bit prime that is not a safe prime",
            leaf=LeafSpec(hostnames=(hostname("dhnonsafe"),), key_type="rsa"),
            ciphers=RSA_DHE_CIPHERS,
            dh_prime="nonsafe",
        ),
        _standard("clientcert", "asks every client for an (optional) client certificate", client_auth=True),
        _standard(
            "nullcipher",
            "TLS 1.3, and TLS 1.2 with NULL (unencrypted) cipher suites only",
            leaf=LeafSpec(hostnames=(hostname("nullcipher"),), key_type="rsa"),
            ciphers="NULL-SHA256:ECDHE-RSA-NULL-SHA:@SECLEVEL=0",
        ),
        _standard(
            "manynames",
            "RSA certificate with 1000 names (its Certificate message spans several TLS records)",
            leaf=LeafSpec(hostnames=(hostname("manynames"),), key_type="rsa", extra_names=999),
            ciphers="ECDHE+AESGCM:AES128-GCM-SHA256",
        ),
        _standard(
            "fallbackalert",
            "answers a ClientHello carrying TLS_FALLBACK_SCSV with an access_denied alert, a reply the fallback "
            "test does not know",
            fallback_alert=49,  # access_denied (RFC 5246 §7.2.2)
        ),
        _standard(
            "twoaddr",
            "one name, two addresses: the first modern, the second also accepting TLS 1.0/1.1",
            second_address=_standard(
                "twoaddr",
                "the second address: legacy protocols",
                leaf=LeafSpec(hostnames=(hostname("twoaddr"),), key_type="rsa"),
                min_version=ssl.TLSVersion.TLSv1,
                max_version=ssl.TLSVersion.TLSv1_2,
                ciphers=LEGACY_CIPHERS,
            ),
        ),
        _standard(
            "twoaddrdown",
            "one name, two addresses: the second has nothing listening",
            second_address=CaseSpec("twoaddrdown", "nothing listens at the second address", kind="closed"),
        ),
        _standard(
            "hugecert",
            "certificate with 10,000 names (about 280 KB, more than OpenSSL clients accept)",
            leaf=LeafSpec(hostnames=(hostname("hugecert"),), extra_names=9999),
        ),
    ]


# --- The HTTP side: HTTPS walk, mixed content, canonical, HSTS edge cases, hostile HTTP (the `http` helper's block) ---


def html_page(
    body: str, headers: tuple[tuple[str, str], ...] = (("Strict-Transport-Security", GOOD_HSTS),)
) -> Response:
    return Response(200, headers, f"<!doctype html><html><head><title>lab</title>{body}</body></html>\n".encode())


MIXED_ACTIVE_HTML = (
    '<script src="http://cdn.lab.test/app.js"></script>'
    '<link rel="stylesheet" href="http://cdn.lab.test/site.css">'
    '</head><body><iframe src="http://widgets.lab.test/frame"></iframe>'
    '<form action="http://forms.lab.test/submit" method="post"><input name="q"></form>'
    '<script src="/local.js"></script><img src="https://cdn.lab.test/ok.png">'
)
MIXED_PASSIVE_HTML = (
    '</head><body><img src="http://cdn.lab.test/logo.png" alt="">'
    '<video poster="http://cdn.lab.test/poster.jpg"><source src="http://cdn.lab.test/clip.mp4"></video>'
    '<img srcset="/small.png 1x, http://cdn.lab.test/big.png 2x">'
    '<a href="http://elsewhere.lab.test/">a plain link is not mixed content</a>'
)


def http_side_cases() -> list[CaseSpec]:
    return [
        _standard(
            "mixedactive",
            "HTTPS page loading http:// scripts, a stylesheet, an iframe and a form action",
            https_routes={ANY_PATH: html_page(MIXED_ACTIVE_HTML)},
        ),
        _standard(
            "mixedpassive",
            "HTTPS page loading http:// images and video (passive mixed content only)",
            https_routes={ANY_PATH: html_page(MIXED_PASSIVE_HTML)},
        ),
        _standard(
            "mixedupgraded",
            "passive mixed content, with Content-Security-Policy: upgrade-insecure-requests",
            https_routes={
                ANY_PATH: html_page(
                    MIXED_PASSIVE_HTML,
                    headers=(
                        ("Strict-Transport-Security", GOOD_HSTS),
                        ("Content-Security-Policy", "upgrade-insecure-requests"),
                    ),
                )
            },
        ),
        _standard(
            "canonicalhttp",
            "HTTPS page whose <link rel=canonical> points to http://",
            https_routes={
                ANY_PATH: html_page(f'<link rel="canonical" href="http://{hostname("canonicalhttp")}/"></head><body>')
            },
        ),
        _standard(
            "canonicalother",
            "HTTPS page whose <link rel=canonical> names another host",
            https_routes={
                ANY_PATH: html_page(f'<link rel="canonical" href="https://{hostname("good")}/"></head><body>')
            },
        ),
        _standard(
            "hstsoverhttp",
            "the port-80 redirect also sends Strict-Transport-Security (ignored over http)",
            http_routes={
                ANY_PATH: Response(
                    301,
                    (("Location", f"https://{hostname('hstsoverhttp')}/"), ("Strict-Transport-Security", GOOD_HSTS)),
                )
            },
        ),
        _standard(
            "hstsonredirect",
            "https://host/ sends HSTS on its 301 to /home; the page itself sends none",
            https_routes={
                "/": Response(301, (("Location", "/home"), ("Strict-Transport-Security", "max-age=31536000"))),
                "/home": html_page("</head><body>", headers=()),
            },
        ),
        _standard("unicodehsts", "HSTS max-age written with a superscript digit (max-age=²)", hsts="max-age=²"),
        _standard("driphttp", "port 80 answers one byte per second", hostile_http="drip"),
        _standard(
            "driphttps", "HTTPS answers HTTP one byte per second (TLS itself is fine)", hostile_https="drip_head"
        ),
        _standard("longlocation", "port 80 redirects with a 60 KB Location header", hostile_http="long_location"),
        _standard("garbagehttp", "port 80 answers with something that is not HTTP", hostile_http="garbage"),
        _standard("hugepage", "the HTTPS page is a 1 GiB body", hostile_https="huge"),
        # --- issue 23: web posture on the lab's own servers (nginx cases: tests/test_web_posture_nginx.py) ---
        _standard(
            "cspreportonly",
            "CSP only as Report-Only, an anti-CSRF cookie without SameSite, no other headers",
            https_routes={
                ANY_PATH: page(
                    (
                        ("Strict-Transport-Security", GOOD_HSTS),
                        ("Content-Security-Policy-Report-Only", "default-src 'self'"),
                        ("Set-Cookie", "csrftoken=abc; Secure; Path=/"),
                    )
                )
            },
        ),
        _standard(
            "twocanonicals",
            "HTTPS page with two different canonical links and an http:// script from another site",
            https_routes={
                ANY_PATH: html_page(
                    f'<link rel="canonical" href="https://{hostname("twocanonicals")}/">'
                    f'<link rel="canonical" href="https://{hostname("twocanonicals")}/home">'
                    '<script src="http://cdn.example.net/app.js"></script></head><body>'
                )
            },
        ),
    ]
