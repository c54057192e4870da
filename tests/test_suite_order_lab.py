"""The server's own cipher suite order, as the adaptive enumeration sees it (issue 21: 3DES as the last choice)."""

from __future__ import annotations


def test_server_enforced_order_is_recorded_per_protocol(scan_case):
    tls = scan_case("ecdhepref").tls
    assert tls.server_cipher_preference is True
    # tests/lab/cases.py ECDHE_THEN_RSA_CIPHERS, in IANA names.
    assert tls.server_suite_order["TLSv1.2"] == (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    )


def test_an_order_mixing_key_exchanges_is_recorded_whole(scan_case):
    # The enumeration offers the ECDHE and the static-RSA suites in two chains at once and merges their picks.
    tls = scan_case("interleaved").tls
    assert tls.server_cipher_preference is True
    # tests/lab/cases.py INTERLEAVED_CIPHERS, in IANA names.
    assert tls.server_suite_order["TLSv1.2"] == (
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    )


def test_no_order_is_recorded_when_the_clients_order_wins(scan_case):
    assert scan_case("clientorder").tls.server_suite_order == {}
