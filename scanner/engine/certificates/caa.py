"""CAA (RFC 8659): which CAs the domain allows to issue for it, looked up with dnspython.

The relevant record set is the first non-empty CAA set found climbing from the name towards its parents
(RFC 8659 §3), stopping below the top-level domain. DNS goes to the system resolver unless `servers` names
others ("IP" or "IP:PORT", IPv6 in brackets: "[::1]:53"). Failures (timeouts, SERVFAIL) are `unknown`, never
errors: CAA is what CAs check at issuance, and a flaky resolver must not fail a scan.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from scanner.engine.results import CAA_FOUND, CAA_NONE, CAA_UNKNOWN, CaaRecord, CaaResult

MAX_CAA_RECORDS = 50  # what the report keeps of one record set


def parse_server(text: str) -> tuple[str, int]:
    """ "IP", "IP:PORT" or "[IPv6]:PORT" -> (ip, port); ValueError with a readable message otherwise."""
    text = text.strip()
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        address, port = text.split(":")
    else:
        address, port = text, ""
    if not address:
        raise ValueError(f"{text!r} is not a DNS server address (IP or IP:PORT)")
    try:
        number = int(port) if port else 53
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number") from None
    if not 0 < number < 65536:
        raise ValueError(f"{text!r}: the port must be between 1 and 65535")
    return address, number


def _resolver(servers: Sequence[str], timeout: float) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_server(server)) for server in servers]
    resolver.lifetime = timeout  # the whole lookup of one name, retries included
    resolver.timeout = min(timeout, 2.0)
    return resolver


def _candidates(host: str) -> list[str]:
    labels = host.lower().rstrip(".").split(".")
    # The name itself and each parent, but not the top-level domain alone (RFC 8659 §3, as CAs implement it).
    return [".".join(labels[index:]) for index in range(max(len(labels) - 1, 1))]


def lookup_caa(host: str, *, servers: Sequence[str] = (), timeout: float = 5.0) -> CaaResult:
    try:
        resolver = _resolver(servers, timeout)
    except (ValueError, dns.exception.DNSException, OSError) as exc:  # a bad server setting, no resolv.conf...
        return CaaResult(CAA_UNKNOWN, error=f"no DNS resolver for the CAA lookup: {exc}")
    for name in _candidates(host):
        try:
            answer = resolver.resolve(name, "CAA", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            continue
        except (dns.exception.DNSException, OSError) as exc:
            return CaaResult(CAA_UNKNOWN, error=f"the CAA lookup of {name} failed: {exc}")
        records = [
            CaaRecord(
                flags=item.flags, tag=item.tag.decode("ascii", "replace"), value=item.value.decode("utf-8", "replace")
            )
            for item in (answer.rrset or ())
            if item.rdtype == dns.rdatatype.CAA
        ]
        if records:
            return CaaResult(CAA_FOUND, domain=name, records=tuple(records[:MAX_CAA_RECORDS]))
    return CaaResult(CAA_NONE)
