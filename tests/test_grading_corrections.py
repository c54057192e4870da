"""Issue 21 item 5: grading corrections from the rule-by-rule review, each against its policy row's anchor.
Every test here failed on the grading before the correction."""

from __future__ import annotations

import re

from scanner.engine.results import ClientSimulation, HttpHop, KeyExchangeGroup
from scanner.grading.policy import POLICY, POLICY_FILE
from tests.grading_factories import (
    HOST,
    PERFECT_SUITES,
    finding,
    grade,
    http,
    ids,
    scan,
    suite,
    tls,
    vulnerabilities,
)

TRIPLE_DES = suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLSv1.2", 168, False, False, None, None)
MODERN_ON_TLS13 = (ClientSimulation("Chrome 131 / Windows 11", "TLSv1.3", "TLS_AES_128_GCM_SHA256", True, modern=True),)
ECDHE_CBC = suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLSv1.2", 128, True, False, 253, "X25519")


def names(protocol: str, suites) -> tuple[str, ...]:
    return tuple(item.name for item in suites if item.protocol == protocol)


def test_3des_as_the_servers_last_choice_does_not_cap_at_C():
    suites = PERFECT_SUITES + (TRIPLE_DES,)
    result = tls(
        suites=suites,
        server_cipher_preference=True,
        server_suite_order={"TLSv1.2": names("TLSv1.2", suites)},
        simulations=MODERN_ON_TLS13,
    )
    grades = grade(scan(result))
    assert "tls.cipher.sweet32" not in ids(grades)
    assert finding(grades, "tls.cipher.3des_last_choice").cap is None
    assert grades.security == "A+"


def test_3des_before_other_suites_in_the_servers_order_still_caps_at_C():
    suites = PERFECT_SUITES + (TRIPLE_DES,)
    order = ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", *names("TLSv1.2", PERFECT_SUITES))
    result = tls(suites=suites, server_cipher_preference=True, server_suite_order={"TLSv1.2": order})
    assert grade(scan(result)).security == "C"


def test_3des_with_the_clients_order_winning_still_caps_at_C():
    suites = PERFECT_SUITES + (TRIPLE_DES,)
    result = tls(
        suites=suites, server_cipher_preference=False, server_suite_order={"TLSv1.2": names("TLSv1.2", suites)}
    )
    assert grade(scan(result)).security == "C"


def test_client_initiated_renegotiation_is_not_an_A_minus_warning():
    grades = grade(scan(tls(vulnerabilities=vulnerabilities(client_renegotiation_dos=True))))
    assert "vuln.client_renegotiation_dos" in ids(grades)
    assert grades.security == "A+"


def test_modern_clients_ending_on_cbc_cap_at_B_although_aead_is_offered():
    sims = (ClientSimulation("Chrome 131 / Windows 11", "TLSv1.2", ECDHE_CBC.name, True, modern=True),)
    grades = grade(scan(tls(protocols=("TLSv1.2",), suites=(ECDHE_CBC, *PERFECT_SUITES[3:]), simulations=sims)))
    assert finding(grades, "tls.cipher.cbc_negotiated").cap == "B"
    assert grades.security == "B"


def test_only_old_clients_ending_on_cbc_do_not_cap():
    sims = (
        ClientSimulation("Chrome 131 / Windows 11", "TLSv1.3", "TLS_AES_128_GCM_SHA256", True, modern=True),
        ClientSimulation("IE 11 / Windows 7", "TLSv1.2", ECDHE_CBC.name, True, modern=False),
    )
    grades = grade(scan(tls(suites=(*PERFECT_SUITES, ECDHE_CBC), simulations=sims)))
    assert "tls.cipher.cbc_negotiated" not in ids(grades)


def weak_curve_only_probed() -> KeyExchangeGroup:
    # secp160r1 (key exchange score 80: cap B), found by the curve probe; no accepted suite used it.
    return KeyExchangeGroup("ECDH", "secp160r1", 160)


def test_a_curve_no_simulated_client_offers_does_not_lower_the_grade():
    grades = grade(scan(tls(key_exchange_groups=(weak_curve_only_probed(),), simulations=MODERN_ON_TLS13)))
    assert "tls.kex.weak_group" not in ids(grades)
    assert grades.security == "A+"


def test_without_a_simulation_every_supported_curve_still_counts():
    grades = grade(scan(tls(key_exchange_groups=(weak_curve_only_probed(),))))
    assert "tls.kex.weak_group" in ids(grades)


def test_a_weak_curve_an_accepted_suite_used_still_counts():
    used = KeyExchangeGroup("ECDH", "secp160r1", 160, suites=("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",))
    grades = grade(scan(tls(key_exchange_groups=(used,), simulations=MODERN_ON_TLS13)))
    assert "tls.kex.weak_group" in ids(grades)


def test_more_than_ten_redirect_hops_is_its_own_seo_penalty():
    hops = tuple(HttpHop(f"http://{HOST}/{n}", 301, f"http://{HOST}/{n + 1}") for n in range(11))
    grades = grade(scan(http_result=http(hops, too_many_redirects=True, final_url=None)))
    assert "http.redirect.over_limit" in ids(grades)
    assert grades.seo_score <= 60


def test_policy_and_readme_cite_public_sources_not_files_outside_the_repository():
    policy_text = POLICY_FILE.read_text(encoding="utf-8")
    root = POLICY_FILE.parents[2]
    docs = [(root / name).read_text(encoding="utf-8") for name in ("README.md", "docs/grading.md")]
    for text in (policy_text, *docs):
        assert "GRADING-NOTES" not in text
        assert "/work/shared" not in text
    # Every anchor names its source by a key from the README's source table, a URL, an RFC or this project's rules.
    for row in POLICY.values():
        assert re.search(r"\[[a-z.-]+(, [a-z.-]+)*\]|https?://|RFC \d+|issue \d+|README|docs/[a-z]+\.md", row.anchor), (
            row.id
        )
