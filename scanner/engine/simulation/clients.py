"""Reference TLS clients for the handshake simulation, defined as data.

Each profile lists what that client puts in its ClientHello: the protocol range, the cipher suites in the
client's own order (IANA names) and the key exchange groups in order. The simulation (`simulation.py`) replays
them with nassl's OpenSSL against the scanned address, so what a profile cannot express (GREASE values,
extension order, signature algorithms, post-quantum hybrid groups, DH size limits) is left out on purpose:
none of it changes which protocol and suite a server picks from the offer below.

Where the data comes from (public facts about those clients, transcribed by hand):
- Chrome, Firefox, Safari: the ClientHello each browser sends, as published by the browser vendors' source
  (Chromium's BoringSSL default list, NSS's default cipher preferences, Apple's Network.framework / Security
  framework documentation) and shown by public ClientHello inspectors and SSL Labs' "Handshake Simulation"
  client list (https://api.ssllabs.com/api/v3/getClients).
- Android 7.0: the `SSLSocket` reference on developer.android.com (default-enabled suites by API level 24).
- Java 11: Oracle's JDK 11 "Java Security Standard Algorithm Names" / SunJSSE provider documentation (default
  enabled suites in preference order) and the 11.0.11 release note that disabled TLS 1.0 and 1.1.
- curl with OpenSSL 3.0 (Debian 12): `openssl ciphers -s -v DEFAULT` on Debian 12 and OpenSSL 3.0's default
  groups; security level 1 there refuses TLS 1.0/1.1 handshakes, so the effective minimum is TLS 1.2.
- IE 11 on Windows 7: Microsoft's "TLS Cipher Suites in Windows 7" (Schannel priority order after
  KB3042058) and SSL Labs' "IE 11 / Win 7" client: no TLS 1.3, no X25519, no ECDHE_RSA with AES-GCM.
- More clients (clients_more.py): Edge and Googlebot send Chromium's ClientHello; iOS Safari Apple's; Android 10
  and 4.4 the `SSLSocket` defaults of API levels 29 and 19; Java 8u291+ and 17 the JDK's default suites; OpenSSL
  1.1.1 its DEFAULT list; Go 1.22 crypto/tls's defaults (ECDHE only); Node.js 20 `crypto.constants.defaultCipherList`;
  IE 11 on Windows 10 the Schannel order of Windows 10.
"""

from __future__ import annotations

from scanner.engine.simulation.client_profile import ClientProfile
from scanner.engine.simulation.clients_first import (
    ANDROID_7,
    CHROME,
    CURL_OPENSSL_3,
    FIREFOX,
    IE11_WIN7,
    JAVA_11,
    SAFARI,
)
from scanner.engine.simulation.clients_more import (
    ANDROID_4_4,
    ANDROID_10,
    CHROME_ANDROID,
    EDGE,
    FIREFOX_ESR,
    GO_1_22,
    GOOGLEBOT,
    IE11_WIN10,
    JAVA_8,
    JAVA_17,
    NODE_20,
    OPENSSL_1_1_1,
    SAFARI_IOS,
)

__all__ = ["CLIENTS", "ClientProfile"]

#: Every simulated client, in the order the report shows them: browsers, mobile platforms, crawlers, libraries,
#: then the old clients kept for what they tell about a server's fallback.
CLIENTS: tuple[ClientProfile, ...] = (
    CHROME,
    EDGE,
    FIREFOX,
    FIREFOX_ESR,
    SAFARI,
    SAFARI_IOS,
    CHROME_ANDROID,
    ANDROID_10,
    GOOGLEBOT,
    JAVA_17,
    JAVA_11,
    CURL_OPENSSL_3,
    OPENSSL_1_1_1,
    GO_1_22,
    NODE_20,
    ANDROID_7,
    JAVA_8,
    ANDROID_4_4,
    IE11_WIN10,
    IE11_WIN7,
)
