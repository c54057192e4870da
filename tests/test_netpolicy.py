"""Pins (curl's --resolve forms, IDNA) and the per-address policy; no DNS, no network."""

from __future__ import annotations

import pytest

from scanner.netpolicy import NetworkPolicy, TargetRefused, parse_networks, parse_pins


def test_pin_list_form_gives_every_address():
    assert parse_pins(["a.test:192.0.2.1,192.0.2.2"]) == {"a.test": ("192.0.2.1", "192.0.2.2")}


def test_comma_separated_setting_mixes_list_pins_and_single_pins():
    tokens = ["a.test:192.0.2.1", "192.0.2.2", "b.test:2001:db8::1"]
    assert parse_pins(tokens) == {"a.test": ("192.0.2.1", "192.0.2.2"), "b.test": ("2001:db8::1",)}


def test_curl_host_port_ip_form_ignores_the_port():
    assert parse_pins(["a.test:443:192.0.2.1"]) == {"a.test": ("192.0.2.1",)}


def test_unicode_pin_host_is_idna_normalised_like_targets():
    assert parse_pins(["Bücher.Test.:192.0.2.1"]) == {"xn--bcher-kva.test": ("192.0.2.1",)}


def test_pin_without_a_host_is_rejected():
    with pytest.raises(ValueError, match="HOST:IP"):
        parse_pins(["192.0.2.1"])


def test_every_pinned_address_is_returned_in_order():
    policy = NetworkPolicy(parse_networks(["10.0.0.0/8"]), parse_pins(["a.test:10.0.0.2,10.0.0.1"]))
    assert policy.resolve_all("a.test") == ["10.0.0.2", "10.0.0.1"]


def test_addresses_outside_the_allowed_networks_are_left_out():
    policy = NetworkPolicy(parse_networks(["10.0.0.0/8"]), parse_pins(["a.test:192.168.1.1,10.0.0.1"]))
    assert policy.resolve_all("a.test") == ["10.0.0.1"]


def test_at_most_eight_addresses_are_scanned():
    addresses = ",".join(f"10.0.0.{i}" for i in range(1, 12))
    policy = NetworkPolicy(parse_networks(["10.0.0.0/8"]), parse_pins([f"a.test:{addresses}"]))
    assert len(policy.resolve_all("a.test")) == 8


def test_service_refuses_a_pinned_loopback_address():
    policy = NetworkPolicy((), parse_pins(["a.test:127.0.0.1"]))
    with pytest.raises(TargetRefused, match="not allowed on this service"):
        policy.resolve("a.test")


def test_operator_pinned_address_is_allowed_like_curl():
    policy = NetworkPolicy((), parse_pins(["a.test:127.0.0.1"]), trusted_pin_hosts=frozenset({"a.test"}))
    assert policy.resolve("a.test") == "127.0.0.1"


def test_unicode_lookup_finds_the_idna_pin():
    policy = NetworkPolicy(
        (), parse_pins(["xn--bcher-kva.test:127.0.0.1"]), trusted_pin_hosts=frozenset({"xn--bcher-kva.test"})
    )
    assert policy.resolve("bücher.test") == "127.0.0.1"


def test_the_services_policy_is_parsed_once_per_setting_value(settings):
    from scanner import config

    settings.SCANNER_RESOLVE = [f"host{n}.example:93.184.215.{n % 250 + 1}" for n in range(2000)]
    first = config.network_policy()
    assert config.network_policy() is first  # no re-parse of 2,000 pins per call
    settings.SCANNER_RESOLVE = ["host0.example:93.184.215.99"]
    assert config.network_policy().resolve("host0.example") == "93.184.215.99"
