"""A server's bytes as TLS records, and its handshake records' payloads as handshake messages.

The record layer and the handshake layer are framed independently (RFC 5246 §6.2.1): one record may carry
several handshake messages, and one handshake message may be split over several records (a Certificate
message larger than a record's 16 KiB always is, and a server may split smaller ones as it likes). So records
are cut from the received bytes by their own 5-byte header, and messages are cut from the concatenated payloads
of the handshake records by their own 4-byte header, never from one record's payload alone. Used where we read
a server's first flight ourselves: the enumeration's short handshake and ROBOT's handshake.
"""

from __future__ import annotations

from dataclasses import dataclass

RECORD_HEADER = 5  # content type (1), version (2), length (2)
MESSAGE_HEADER = 4  # handshake type (1), length (3)
ALERT, HANDSHAKE = 21, 22  # record content types (RFC 5246 §6.2.1)


@dataclass(frozen=True)
class Record:
    header: bytes
    payload: bytes

    @property
    def content_type(self) -> int:
        return self.header[0]


class RecordStream:
    """Received bytes in; whole records and whole handshake messages out, as soon as they are complete."""

    def __init__(self) -> None:
        self._unframed = b""  # received, not yet a whole record
        self._handshake = b""  # payload of handshake records, not yet a whole message

    def receive(self, data: bytes) -> None:
        self._unframed += data

    def next_record(self) -> Record | None:
        """The next whole record, or None until more bytes are received."""
        if len(self._unframed) < RECORD_HEADER:
            return None
        end = RECORD_HEADER + int.from_bytes(self._unframed[3:5], "big")
        if len(self._unframed) < end:
            return None
        record = Record(self._unframed[:RECORD_HEADER], self._unframed[RECORD_HEADER:end])
        self._unframed = self._unframed[end:]
        return record

    def add_handshake(self, payload: bytes) -> None:
        """A handshake record's payload, appended to the stream its messages are cut from."""
        self._handshake += payload

    def next_message(self) -> bytes | None:
        """The next whole handshake message (header included), or None until more handshake bytes arrive."""
        if len(self._handshake) < MESSAGE_HEADER:
            return None
        end = MESSAGE_HEADER + int.from_bytes(self._handshake[1:4], "big")
        if len(self._handshake) < end:
            return None
        message, self._handshake = self._handshake[:end], self._handshake[end:]
        return message
