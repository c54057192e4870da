"""What a reference client would negotiate, read from what the adaptive enumeration learned, where that is
certain: each client so read needs no handshake of its own (scanner/engine/simulation/simulate.py makes the
others)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from nassl.ssl_client import OpenSslVerifyEnum, OpenSslVersionEnum, SslClient

from scanner.engine.protocols.adaptive import Learned
from scanner.engine.results import PROTOCOLS
from scanner.engine.simulation.client_handshake import _GROUPS, _TLS13_SUITES, Negotiated, _iana_to_openssl
from scanner.engine.simulation.clients import ClientProfile


def offerable(suites: Iterable[str]) -> list[str]:
    """The suites (IANA names) nassl's OpenSSL can put in a ClientHello, order kept."""
    known = _iana_to_openssl()
    return [suite for suite in suites if suite in known]


@cache
def _modern_openssl_names() -> frozenset[str]:
    """The TLS 1.2-and-older suites the simulation's (modern nassl) client can put in a ClientHello."""
    client = SslClient(ssl_version=OpenSslVersionEnum.SSLV23, ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return frozenset(client.get_cipher_list())


def _sendable(suites: Iterable[str], protocol: str) -> list[str]:
    """Of `suites` (IANA), those a handshake() ClientHello really carries for `protocol`, order kept."""
    if protocol == "TLSv1.3":
        return [suite for suite in suites if suite in _TLS13_SUITES]
    known, modern = _iana_to_openssl(), _modern_openssl_names()
    return [suite for suite in suites if suite not in _TLS13_SUITES and known.get(suite) in modern]


def _known_order(learned: Learned | None, protocol: str) -> list[str] | None:
    """The server's whole suite order for `protocol`, when the adaptive enumeration showed it.

    The enumeration offered every remaining suite in one fixed order and noted each pick: when the picks do not
    follow that order, the server chose by its own, and the picks *are* its order. Only when one nassl build's
    chain accepted everything (with two, the order between them is not known).
    """
    if learned is None:
        return None
    chains = [chain for chain in learned.chains.get(protocol, ()) if chain.picked]
    if len(chains) == 1 and (len(chains[0].picked) == 1 or chains[0].server_order):
        return list(chains[0].picked)
    return None


def _server_orders(learned: Learned | None, protocol: str) -> bool:
    return learned is not None and any(chain.server_order for chain in learned.chains.get(protocol, ()))


def predict(
    profile: ClientProfile,
    accepted: dict[str, list[str]],
    preferred: dict[str, str],
    learned: Learned | None,
) -> Negotiated | None:
    """What `profile` negotiates, read from what the enumeration learned; None when that is not certain.

    The server takes the highest protocol both sides speak; with its own order enforced it then takes the
    first suite of that order the client offers. Uncertain (None, so a real handshake is made): no learned
    order for that protocol, SSLv3, no suite in common, and an (EC)DHE-group question: an ECDHE or TLS 1.3
    choice needs a key exchange group both sides have, which is only known when the client's groups and the
    server's curves are.
    """
    if learned is None:
        return None
    protocol = _negotiated_protocol(profile, accepted)
    if protocol is None or protocol in ("SSLv2", "SSLv3"):
        return None
    offered = _sendable(profile.suites, protocol)
    if protocol != "TLSv1.3" and not offered:
        return None
    order = _known_order(learned, protocol)
    if order is not None:
        choice = next((suite for suite in order if suite in offered), None)
    elif _server_orders(learned, protocol) and preferred.get(protocol) in offered:
        # Two chains: their relative order is unknown, but the server's first choice of all is known.
        choice = preferred[protocol]
    else:
        return None
    if choice is None:
        return None
    if protocol == "TLSv1.3" or "_ECDHE_" in choice:
        if learned.curves is None or not profile.groups or any(group not in _GROUPS for group in profile.groups):
            return None
        if not {_GROUPS[group].value for group in profile.groups} & learned.curves:
            return None
    return Negotiated(protocol=protocol, suite=choice)


def _negotiated_protocol(profile: ClientProfile, accepted: dict[str, list[str]]) -> str | None:
    """The highest protocol both `profile` and the server speak (TLS 1.3 only when the client can offer one of
    its suites), or None."""
    protocols = [p for p in profile.protocols if p in accepted]
    if not _sendable(profile.suites, "TLSv1.3"):
        protocols = [p for p in protocols if p != "TLSv1.3"]
    return max(protocols, key=PROTOCOLS.index) if protocols else None


def needs_handshake(profile: ClientProfile, accepted: dict[str, list[str]], learned: Learned | None) -> bool:
    """True when `predict` cannot answer for `profile` whatever the cipher-preference handshakes find: its own
    handshake can then start beside them instead of after them. All they can add to a prediction is the
    server's first choice in the client's protocol, so every suite that choice could be is tried."""
    if predict(profile, accepted, {}, learned) is not None:
        return False
    protocol = _negotiated_protocol(profile, accepted)
    return protocol is None or all(
        predict(profile, accepted, {protocol: suite}, learned) is None for suite in accepted[protocol]
    )
