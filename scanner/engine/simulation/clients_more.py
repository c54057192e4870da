"""More reference clients: Chromium- and Apple-based browsers on other platforms, Googlebot, Android 10 and
4.4, Java 8 and 17, OpenSSL 1.1.1, Go, Node.js and IE 11 on Windows 10 (sources in scanner/engine/clients.py)."""

from __future__ import annotations

from scanner.engine.simulation.client_profile import _TLS13_BROWSER, ClientProfile
from scanner.engine.simulation.clients_first import CHROME, CURL_OPENSSL_3, FIREFOX, JAVA_11, SAFARI

# --- More clients, so the simulation covers what SSL Labs and testssl.sh show that still matters -------------
# Chromium-based browsers and crawlers send Chrome's ClientHello (BoringSSL's defaults), Apple's platforms
# share one TLS stack (Network.framework), so those profiles reuse the lists above under their own names.
_CHROMIUM_SUITES = CHROME.suites
_APPLE_SUITES = SAFARI.suites

EDGE = ClientProfile(
    name="Edge 131 / Windows 11",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_CHROMIUM_SUITES,
    groups=CHROME.groups,
)
CHROME_ANDROID = ClientProfile(
    name="Chrome 131 / Android 14",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_CHROMIUM_SUITES,
    groups=CHROME.groups,
)
GOOGLEBOT = ClientProfile(
    name="Googlebot (Chromium)",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_CHROMIUM_SUITES,
    groups=CHROME.groups,
)
FIREFOX_ESR = ClientProfile(
    name="Firefox ESR 128 / Linux",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=FIREFOX.suites,
    groups=FIREFOX.groups,
)
SAFARI_IOS = ClientProfile(
    name="Safari 17 / iOS 17",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_APPLE_SUITES,
    groups=SAFARI.groups,
)

# Android 10-14's platform stack (Conscrypt on BoringSSL): the `SSLSocket` default-enabled list by API level.
ANDROID_10 = ClientProfile(
    name="Android 10",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_TLS13_BROWSER
    + (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
    ),
    groups=("x25519", "secp256r1", "secp384r1"),
)

# Android 4.4 (API 19): TLS 1.2 enabled for clients, no ChaCha20; the RC4 suites it still offered are left out
# (nassl's OpenSSL cannot offer them, and no server should pick them).
ANDROID_4_4 = ClientProfile(
    name="Android 4.4.2",
    min_protocol="TLSv1.0",
    max_protocol="TLSv1.2",
    suites=(
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    ),
    groups=("secp256r1", "secp384r1", "secp521r1"),
    modern=False,
)

# Java 8 (8u291 and later): TLS 1.2 only as a client by default; Java 11's suites without TLS 1.3.
JAVA_8 = ClientProfile(
    name="Java 8u291+",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.2",
    suites=tuple(suite for suite in JAVA_11.suites if not suite.startswith("TLS_AES_")),
    groups=("secp256r1", "secp384r1", "secp521r1"),
    modern=False,
)

# Java 17: Java 11's order with ChaCha20-Poly1305 added (JDK 12 and later).
JAVA_17 = ClientProfile(
    name="Java 17",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=(
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    ),
    groups=("x25519", "secp256r1", "secp384r1", "secp521r1", "x448"),
)

# OpenSSL 1.1.1 (Ubuntu 20.04, RHEL 8: curl, wget, Python): its DEFAULT list, TLS 1.2 minimum at security level 2.
OPENSSL_1_1_1 = ClientProfile(
    name="OpenSSL 1.1.1 (Ubuntu 20.04)",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=CURL_OPENSSL_3.suites,
    groups=("x25519", "secp256r1", "x448", "secp521r1", "secp384r1"),
)

# Go 1.22 crypto/tls: ECDHE only (RSA key exchange left the defaults in 1.22), AES-GCM first where the CPU
# has AES instructions.
GO_1_22 = ClientProfile(
    name="Go 1.22 (crypto/tls)",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=_TLS13_BROWSER
    + (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    ),
    groups=("x25519", "secp256r1", "secp384r1", "secp521r1"),
)

# Node.js 20 (OpenSSL 3): its default cipher list (`node -p crypto.constants.defaultCipherList`).
NODE_20 = ClientProfile(
    name="Node.js 20",
    min_protocol="TLSv1.2",
    max_protocol="TLSv1.3",
    suites=(
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    ),
    groups=("x25519", "secp256r1", "x448", "secp521r1", "secp384r1"),
)

# IE 11 / Windows 10 (Schannel, Windows 10): AES-GCM with ECDHE_RSA, still no TLS 1.3 or X25519 for IE.
IE11_WIN10 = ClientProfile(
    name="IE 11 / Windows 10",
    min_protocol="TLSv1.0",
    max_protocol="TLSv1.2",
    suites=(
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    ),
    groups=("secp256r1", "secp384r1"),
    modern=False,
)
