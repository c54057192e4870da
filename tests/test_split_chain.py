"""Merging the two halves of a split enumeration chain back into the server's order (scanner/engine/protocols/
split_chain.py). The merge only needs a server that ranks suites in a fixed order; here that order is a list, and
each question to it stands for one handshake offering two suites. The lab tests (test_adaptive_enumeration.py,
test_suite_order_lab.py) run the same merge against real servers and compare it with sslyze's own enumeration."""

from __future__ import annotations

import pytest
from sslyze import TlsVersionEnum
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository

from scanner.engine.protocols.split_chain import forward_secret, halves, merged


class RankingServer:
    """Picks, from two suites, the one earlier in `ranking`; counts the handshakes that took."""

    def __init__(self, ranking: list[str]) -> None:
        self.ranking = ranking
        self.handshakes = 0

    def prefers(self, a: str, b: str) -> bool:
        self.handshakes += 1
        return self.ranking.index(a) < self.ranking.index(b)

    def halves(self, first_half: set[str]) -> tuple[list[str], list[str]]:
        """What the two half-chains would have picked: the ranking restricted to each half."""
        return [s for s in self.ranking if s in first_half], [s for s in self.ranking if s not in first_half]


def test_halves_the_server_ranks_one_after_the_other_are_merged_with_one_handshake():
    server = RankingServer(["ecdhe1", "ecdhe2", "ecdhe3", "rsa1", "rsa2"])
    first, second = server.halves({"ecdhe1", "ecdhe2", "ecdhe3"})
    assert merged(first, second, server.prefers) == server.ranking
    assert server.handshakes == 1


def test_halves_ranked_the_other_way_round_are_merged_with_two_handshakes():
    server = RankingServer(["rsa1", "rsa2", "ecdhe1", "ecdhe2"])
    first, second = server.halves({"ecdhe1", "ecdhe2"})
    assert merged(first, second, server.prefers) == server.ranking
    assert server.handshakes == 2


def test_one_pick_in_each_half_needs_one_handshake_whichever_ranks_first():
    for ranking in (["ecdhe", "rsa"], ["rsa", "ecdhe"]):
        server = RankingServer(ranking)
        assert merged(*server.halves({"ecdhe"}), server.prefers) == ranking
        assert server.handshakes == 1


@pytest.mark.parametrize(
    "ranking",
    [
        ["rc4", "aes128-rsa", "ecdhe1", "ecdhe2", "aes256-rsa"],  # the BEAST-era shape: RC4 first, then HIGH
        ["ecdhe1", "rsa1", "ecdhe2", "rsa2", "ecdhe3", "rsa3"],
        ["rsa1", "ecdhe1", "ecdhe2", "ecdhe3", "ecdhe4", "rsa2"],
    ],
)
def test_interleaved_halves_come_back_in_exactly_the_servers_order(ranking):
    server = RankingServer(ranking)
    first, second = server.halves({suite for suite in ranking if suite.startswith("ecdhe")})
    assert merged(first, second, server.prefers) == ranking
    assert server.handshakes <= 2 + len(ranking) - 1


def test_an_empty_half_needs_no_handshake():
    server = RankingServer(["ecdhe1", "ecdhe2"])
    assert merged(["ecdhe1", "ecdhe2"], [], server.prefers) == ["ecdhe1", "ecdhe2"]
    assert merged([], ["ecdhe1", "ecdhe2"], server.prefers) == ["ecdhe1", "ecdhe2"]
    assert server.handshakes == 0


def test_the_split_puts_ephemeral_key_exchanges_in_the_first_half_and_keeps_the_chains_order():
    candidates = sorted(CipherSuitesRepository.get_all_cipher_suites(TlsVersionEnum.TLS_1_2), key=lambda s: s.name)
    first, second = halves(candidates)
    assert len(first) + len(second) == len(candidates)
    assert {s.name for s in first} >= {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}
    assert {s.name for s in second} >= {"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"}
    assert all(forward_secret(s) for s in first) and not any(forward_secret(s) for s in second)
    assert list(first) == [s for s in candidates if s in first]


def test_in_the_chains_own_order_every_ephemeral_key_exchange_comes_before_the_static_rsa_ones():
    # Why one handshake usually settles the merge even when the server follows the client's order: the chain
    # offers suites sorted by name, and TLS_DHE_/TLS_ECDHE_ sort before TLS_RSA_.
    candidates = sorted(CipherSuitesRepository.get_all_cipher_suites(TlsVersionEnum.TLS_1_2), key=lambda s: s.name)
    names = [s.name for s in candidates]
    last_ephemeral = max(i for i, s in enumerate(candidates) if forward_secret(s))
    assert last_ephemeral < min(i for i, name in enumerate(names) if name.startswith("TLS_RSA_"))
