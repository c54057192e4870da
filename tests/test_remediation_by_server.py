"""Remediation per server family: where the server software decides the fix (protocols, suites, groups, HSTS,
redirects, chain, OCSP stapling), each finding says how to do it on nginx, Apache, IIS, HAProxy, Caddy and a
CDN / load balancer, in the JSON report and on the site report."""

from __future__ import annotations

import pytest

from scanner.grading.policy import POLICY_FILE, SERVER_FAMILIES, finding, load_policy
from tests.test_site_report import as_alice, document, report_html, site_with  # noqa: F401  (fixture)

FAMILIES = ("nginx", "apache", "iis", "haproxy", "caddy", "cdn")
RULE = '[rule."x.y"]\narea = "protocol"\nseverity = "high"\ntitle = "t"\nhint = "h"\nanchor = "a"\nvalue = "v"\n'


def policy_with(tmp_path, remediation: str):
    families = "[server_families]\n" + "".join(f'{family} = "{family}"\n' for family in FAMILIES)
    path = tmp_path / "policy.toml"
    path.write_text('[hints]\nh = "shared text"\n' + families + remediation + RULE, encoding="utf-8")
    return path


def every_family(skip: str = "", **texts: str) -> str:
    return "".join(f'{family} = "{texts.get(family, "do it")}"\n' for family in FAMILIES if family != skip)


def test_a_remediation_table_without_a_family_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no text for 'caddy'"):
        load_policy(policy_with(tmp_path, "[remediation.h]\n" + every_family(skip="caddy")))


def test_a_family_with_empty_text_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no text for 'iis'"):
        load_policy(policy_with(tmp_path, "[remediation.h]\n" + every_family(iis="  ")))


def test_a_remediation_table_for_an_unknown_hint_or_finding_is_refused(tmp_path):
    with pytest.raises(ValueError, match="neither a hint nor a finding id"):
        load_policy(policy_with(tmp_path, "[remediation.typo]\n" + every_family()))


def test_a_rule_gets_its_hints_table_in_family_order(tmp_path):
    row = load_policy(policy_with(tmp_path, "[remediation.h]\n" + every_family(cdn="edge setting")))["x.y"]
    assert [family for family, _ in row.remediation_by_server] == list(FAMILIES)
    assert dict(row.remediation_by_server)["cdn"] == "edge setting"


@pytest.mark.parametrize(
    "finding_id",
    [
        "tls.protocol.tls1_0",
        "hsts.missing",
        "tls.cipher.no_forward_secrecy",
        "http.redirect.missing",
        "cert.no_ocsp_stapling",
        "cert.chain_incomplete",
        "tls.kex.weak_group",
    ],
)
def test_the_json_finding_covers_every_server_family(finding_id):
    by_server = finding(finding_id, "seen").to_dict()["remediation_by_server"]
    assert list(by_server) == list(FAMILIES) == list(SERVER_FAMILIES)
    assert all(text.strip() for text in by_server.values())


def test_the_cdn_text_names_the_setting_to_change():
    assert "Minimum TLS Version" in dict(finding("tls.protocol.tls1_0", "seen").remediation_by_server)["cdn"]
    assert "Always Use HTTPS" in dict(finding("http.redirect.missing", "seen").remediation_by_server)["cdn"]


def test_a_finding_where_the_server_does_not_matter_has_no_per_server_list():
    assert finding("cert.expired", "seen").to_dict()["remediation_by_server"] == {}


def test_the_shipped_policy_loads_with_its_server_tables():
    assert load_policy(POLICY_FILE)["hsts.missing"].remediation_by_server


def test_the_site_report_lists_each_family_for_tls1_0_and_missing_hsts(as_alice, alice):  # noqa: F811
    findings = [finding(finding_id, "seen").to_dict() for finding_id in ("tls.protocol.tls1_0", "hsts.missing")]
    html = report_html(as_alice, site_with(alice, document(findings=findings)))
    section = html[html.index('id="findings-heading"') :]
    assert section.count('<details class="server-fixes">') == 2
    for label in ("nginx", "Apache httpd", "Microsoft IIS", "HAProxy", "Caddy", "Your CDN / load balancer"):
        assert section.count(f"<dt>{label}</dt>") == 2
    assert "ssl-min-ver TLSv1.2" in section and "http-response set-header Strict-Transport-Security" in section
