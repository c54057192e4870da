"""A small authoritative DNS server on loopback (UDP, dnspython's own wire format) answering CAA queries, so CAA
lookups in tests never leave the machine. Names in `caa` get those records; every other name has none (NODATA)."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

logger = logging.getLogger(__name__)

CaaZone = dict[str, list[tuple[int, str, str]]]  # name -> [(flags, tag, value)]


class DnsServer:
    def __init__(self, ip: str, port: int = 0, caa: CaaZone | None = None) -> None:
        self.caa = {name.lower().rstrip("."): records for name, records in (caa or {}).items()}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((ip, port))
        self.ip, self.port = self._sock.getsockname()[:2]
        self.queries: list[str] = []  # "name TYPE", for tests that count lookups
        self._thread = threading.Thread(target=self._serve, name=f"lab-dns-{self.ip}:{self.port}", daemon=True)
        self._stopping = threading.Event()

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._sock.close()  # wakes recvfrom with an error
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except OSError:
                return
            try:
                query = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                logger.debug("lab DNS: unparsable query from %s", peer)
                continue  # a malformed query gets no answer
            try:
                self._sock.sendto(self._answer(query).to_wire(), peer)
            except OSError:
                return

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(f"{name} {dns.rdatatype.to_text(question.rdtype)}")
        if question.rdtype == dns.rdatatype.CAA and name in self.caa:
            rdatas = [
                dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.CAA, f'{flags} {tag} "{value}"')
                for flags, tag, value in self.caa[name]
            ]
            response.answer.append(dns.rrset.from_rdata_list(question.name, 300, rdatas))
        response.set_rcode(dns.rcode.NOERROR)
        return response

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
