"""Certificate paths as browsers build them (issue 9): AIA completion, wire order, every certificate's
signature, every deployment, and an honest `trusted`. The lab's CA file holds only the root."""

from __future__ import annotations

from pathlib import Path


def test_lab_ca_file_holds_only_the_root(lab):
    assert Path(lab.ca_file).read_text().count("BEGIN CERTIFICATE") == 1


def test_leaf_only_chain_is_completed_via_aia_and_trusted(scan_case):
    cert = scan_case("nointermediate").tls.certificate
    assert (cert.chain_trusted, cert.trusted, cert.chain_completed_via_aia, cert.chain_incomplete) == (
        True,
        True,
        True,
        True,
    )
    assert [link.source for link in cert.chain] == ["sent", "aia", "trust_store"]


def test_chain_that_aia_cannot_complete_is_untrusted_and_says_why(scan_case):
    result = scan_case("aiabroken")
    cert = result.tls.certificate
    assert (cert.chain_trusted, cert.trusted, cert.chain_completed_via_aia) == (False, False, False)
    assert "could it be downloaded" in cert.validation_error and "404" in cert.validation_error
    assert result.probes["chain_completion"].status == "error"


def test_chain_sent_out_of_order_is_reported_and_still_trusted(scan_case):
    cert = scan_case("reversedchain").tls.certificate
    assert (cert.chain_order_wrong, cert.chain_trusted, cert.subject) == (True, True, "reversedchain.lab.test")
    assert [link.subject for link in cert.chain] == [
        "reversedchain.lab.test",
        "HTTPS Scanner Lab Issuing CA",
        "HTTPS Scanner Lab RSA CA",
        "HTTPS Scanner Lab Root CA",
    ]


def test_chain_sent_in_order_is_not_reported_as_wrong(scan_case):
    assert scan_case("good").tls.certificate.chain_order_wrong is False


def test_sha1_signed_intermediate_is_named_in_the_path(scan_case):
    cert = scan_case("sha1intermediate").tls.certificate
    intermediate = cert.chain[1]
    assert (intermediate.subject, intermediate.signature_hash) == ("HTTPS Scanner Lab SHA-1 CA", "sha1")
    assert cert.sha1_in_chain and cert.signature_hash == "sha256"
    assert cert.chain_trusted is False and "SHA-1" in cert.validation_error


def test_md5_signed_leaf_is_read_as_md5(scan_case):
    cert = scan_case("md5leaf").tls.certificate
    assert (cert.signature_hash, cert.chain[0].signature_hash, cert.sha1_in_chain) == ("md5", "md5", False)
    assert "MD5" in cert.validation_error


def test_every_certificate_deployment_is_reported(scan_case):
    deployments = scan_case("dualcert").tls.certificate_deployments
    assert sorted((d.key_type, d.key_bits) for d in deployments) == [("EC", 256), ("RSA", 1024)]


def test_expired_certificate_is_not_trusted_but_its_chain_is(scan_case):
    cert = scan_case("expired").tls.certificate
    assert (cert.trusted, cert.chain_trusted) == (False, True)


def test_not_yet_valid_certificate_is_not_trusted_but_its_chain_is(scan_case):
    cert = scan_case("notyetvalid").tls.certificate
    assert (cert.trusted, cert.chain_trusted) == (False, True)


def test_validation_error_is_a_sentence_and_the_verifier_text_stays_in_detail_raw(scan_case):
    cert = scan_case("wronghost").tls.certificate
    assert cert.validation_error == "the certificate is not issued for wronghost.lab.test"
    assert "subjectAltName" in cert.detail_raw


def test_trusted_chain_completed_via_aia_has_no_validation_error(scan_case):
    assert scan_case("nointermediate").tls.certificate.validation_error is None
