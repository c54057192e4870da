"""The engine against real lab servers: what it observes, not how it grades."""

import threading

import pytest

from scanner.engine import scan
from scanner.netpolicy import NetworkPolicy
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS


def test_good_site_accepts_only_tls12_and_tls13(scan_case):
    protocols = scan_case("good").tls.protocols
    assert {name for name, accepted in protocols.items() if accepted} == {"TLSv1.2", "TLSv1.3"}


def test_good_site_certificate_is_trusted_and_matches(scan_case):
    cert = scan_case("good").tls.certificate
    assert (cert.trusted, cert.hostname_match, cert.expired, cert.chain_incomplete) == (True, True, False, False)
    assert cert.key_type == "EC" and cert.key_bits == 256


def test_good_site_uses_only_forward_secret_aead_suites(scan_case):
    suites = scan_case("good").tls.cipher_suites
    assert suites and all(s.forward_secrecy and s.aead for s in suites)


def test_good_site_redirects_permanently_to_https_on_same_host(scan_case):
    first = scan_case("good").http.chain[0]
    assert (first.status, first.location) == (301, "https://good.lab.test/")


def test_good_site_hsts_policy_is_parsed(scan_case):
    hsts = scan_case("good").http.hsts
    assert (hsts.max_age, hsts.include_subdomains, hsts.preload) == (63072000, True, True)


def test_expired_certificate_is_flagged_expired(scan_case):
    cert = scan_case("expired").tls.certificate
    assert cert.expired and cert.days_to_expiry < 0


def test_not_yet_valid_certificate_is_flagged(scan_case):
    assert scan_case("notyetvalid").tls.certificate.not_yet_valid


def test_wrong_name_is_a_mismatch_but_still_a_trusted_chain(scan_case):
    cert = scan_case("wronghost").tls.certificate
    assert (cert.hostname_match, cert.trusted) == (False, True)


def test_self_signed_certificate_is_untrusted_and_self_signed(scan_case):
    cert = scan_case("selfsigned").tls.certificate
    assert (cert.self_signed, cert.trusted) == (True, False)
    assert cert.validation_error


def test_missing_intermediate_is_reported_as_incomplete_chain(scan_case):
    assert scan_case("nointermediate").tls.certificate.chain_incomplete


def test_legacy_server_accepts_tls10_and_tls11(scan_case):
    protocols = scan_case("legacy").tls.protocols
    assert protocols["TLSv1.0"] and protocols["TLSv1.1"] and not protocols["TLSv1.3"]


def test_legacy_server_fails_mozilla_intermediate_on_versions(scan_case):
    assert "tls_versions" in scan_case("legacy").tls.mozilla_intermediate_issues


def test_static_rsa_suites_lack_forward_secrecy(scan_case):
    suites = scan_case("weakciphers").tls.cipher_suites
    assert suites and not any(s.forward_secrecy for s in suites)


def test_missing_hsts_header_is_none(scan_case):
    assert scan_case("nohsts").http.hsts is None


def test_short_hsts_max_age_is_read(scan_case):
    assert scan_case("shorthsts").http.hsts.max_age == 86400


def test_temporary_redirect_status_is_recorded(scan_case):
    assert scan_case("redirect302").http.chain[0].status == 302


def test_every_hop_of_a_redirect_chain_is_recorded(scan_case):
    chain = scan_case("longchain").http.chain
    assert [hop.status for hop in chain] == [301, 301, 301, 301, 200]


def test_redirect_loop_is_detected(scan_case):
    assert scan_case("loop").http.loop


def test_redirect_to_another_host_is_followed_through_the_policy(scan_case):
    chain = scan_case("offhost").http.chain
    assert chain[0].location == "https://good.lab.test/" and chain[-1].status == 200


def test_https_to_http_downgrade_is_visible_in_the_chain(scan_case):
    urls = [hop.url for hop in scan_case("downgrade").http.chain]
    assert urls[-1] == "http://downgrade.lab.test/plain"


def test_missing_http_listener_is_reported(scan_case):
    assert scan_case("nohttp").http.http_listener is False


def test_silent_server_fails_with_a_clear_reason(scan_case):
    result = scan_case("tarpit")
    assert result.status == "failed" and "no TLS answer" in result.error


def test_closed_port_fails_with_connection_refused(scan_case):
    result = scan_case("closed")
    assert result.status == "failed" and "refused" in result.error


def test_loopback_target_is_refused_without_an_allowed_network(lab):
    policy = NetworkPolicy(allowed_networks=(), pins={"good.lab.test": lab.case("good").ip})
    result = scan(parse_target("good.lab.test"), policy=policy, settings=LAB_SCAN_SETTINGS)
    assert result.status == "failed" and result.tls is None
    assert "not allowed" in result.error or "private" in result.error or "loopback" in result.error


def scan_with_beside(lab, lab_policy, name, beside):
    case = lab.case(name)
    target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
    return scan(target, policy=lab_policy, settings=LAB_SCAN_SETTINGS, ca_file=lab.ca_file, beside=beside)


def test_what_the_caller_runs_beside_the_scan_ran_once_in_another_thread_before_the_scan_returns(lab, lab_policy):
    threads = []
    result = scan_with_beside(lab, lab_policy, "good", lambda: threads.append(threading.current_thread()))
    assert result.status == "done"
    assert len(threads) == 1 and threads[0] is not threading.current_thread()


def test_what_the_caller_runs_beside_the_scan_still_runs_when_the_tls_scan_never_starts(lab, lab_policy):
    ran = []
    result = scan_with_beside(lab, lab_policy, "closed", lambda: ran.append(True))
    assert result.status == "failed" and ran == [True]


def test_an_error_raised_beside_the_scan_reaches_the_caller(lab, lab_policy):
    def failing() -> None:
        raise LookupError("the caller's preparation failed")

    with pytest.raises(LookupError, match="preparation failed"):
        scan_with_beside(lab, lab_policy, "good", failing)
