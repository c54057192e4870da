"""A throw-away test PKI (root CA -> intermediate CA -> leaves) built with `cryptography`.

The extensions are chosen so that the strict verifier sslyze relies on
(cryptography's ``PolicyBuilder``) accepts the good chains: every deliberate
defect in a lab case must be the *only* defect, otherwise the scanner would
report a missing-extension error instead of the problem the case is about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["ec", "rsa"]
PrivateKey = Union[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]

# The CAs predate every leaf (including the "expired" one) so that the only
# validity problem a scanner can find is the one on the leaf.
_CA_BACKDATE = dt.timedelta(days=365)
_ROOT_LIFETIME = dt.timedelta(days=3650)
_INTERMEDIATE_LIFETIME = dt.timedelta(days=1825)


@dataclass(frozen=True)
class LeafSpec:
    """What a server certificate should look like; validity is relative to the PKI's `now`."""

    hostnames: tuple[str, ...]
    key_type: KeyType = "ec"
    not_before: dt.timedelta = dt.timedelta(days=-1)
    not_after: dt.timedelta = dt.timedelta(days=90)
    self_signed: bool = False
    # False reproduces the classic misconfiguration of serving only the leaf.
    send_intermediate: bool = True


@dataclass(frozen=True)
class ServerCredentials:
    """Files a TLS server loads (``load_cert_chain(chain_file, key_file)``)."""

    certificate: x509.Certificate
    key_file: Path
    chain_file: Path


@dataclass(frozen=True)
class _Authority:
    certificate: x509.Certificate
    key: PrivateKey


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HTTPS Scanner Test Lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_key_usage(key: PrivateKey) -> x509.KeyUsage:
    # keyEncipherment only makes sense (and is only needed) for RSA key exchange.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


class LabPKI:
    """Root + intermediate CA written to `directory`, able to issue leaf certificates.

    Files written at construction:
    - ``root.pem``: the root certificate only;
    - ``intermediate.pem``: the intermediate certificate only;
    - ``ca.pem``: root AND intermediate, so that servers omitting the intermediate
      still validate against it while a scanner can flag the incomplete chain.
    """

    def __init__(self, directory: Path, *, now: dt.datetime | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.now = now or dt.datetime.now(dt.UTC)
        self._root = self._make_root()
        self._intermediate = self._make_intermediate()

        self.root_file = self.directory / "root.pem"
        self.intermediate_file = self.directory / "intermediate.pem"
        self.ca_file = self.directory / "ca.pem"
        self.root_file.write_bytes(_pem(self._root.certificate))
        self.intermediate_file.write_bytes(_pem(self._intermediate.certificate))
        self.ca_file.write_bytes(
            _pem(self._root.certificate) + _pem(self._intermediate.certificate)
        )

    @property
    def root_certificate(self) -> x509.Certificate:
        return self._root.certificate

    @property
    def intermediate_certificate(self) -> x509.Certificate:
        return self._intermediate.certificate

    def _make_root(self) -> _Authority:
        key = _new_key("rsa")
        name = _name("HTTPS Scanner Lab Root CA")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - _CA_BACKDATE)
            .not_valid_after(self.now + _ROOT_LIFETIME)
            # Critical is mandatory for CAs under the strict (webpki) policy.
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return _Authority(certificate, key)

    def _make_intermediate(self) -> _Authority:
        # EC keeps lab start-up fast; the root is RSA so both signature kinds appear in chains.
        key = _new_key("ec")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("HTTPS Scanner Lab Intermediate CA"))
            .issuer_name(self._root.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - _CA_BACKDATE)
            .not_valid_after(self.now + _INTERMEDIATE_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._root.key.public_key()),
                critical=False,
            )
            .sign(self._root.key, hashes.SHA256())
        )
        return _Authority(certificate, key)

    def issue(self, name: str, spec: LeafSpec) -> ServerCredentials:
        """Create a leaf per `spec` and write ``<name>.key.pem`` / ``<name>.chain.pem``."""
        key = _new_key(spec.key_type)
        subject = _name(spec.hostnames[0])
        if spec.self_signed:
            issuer_name, signing_key = subject, key
        else:
            issuer_name, signing_key = self._intermediate.certificate.subject, self._intermediate.key

        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now + spec.not_before)
            .not_valid_after(self.now + spec.not_after)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(host) for host in spec.hostnames]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_leaf_key_usage(key), critical=True)
            # Even the self-signed leaf is a proper end-entity certificate, so that
            # its only defect is being untrusted.
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
                critical=False,
            )
            .sign(signing_key, hashes.SHA256())
        )

        chain = _pem(certificate)
        if spec.send_intermediate and not spec.self_signed:
            chain += _pem(self._intermediate.certificate)

        key_file = self.directory / f"{name}.key.pem"
        chain_file = self.directory / f"{name}.chain.pem"
        key_file.write_bytes(_key_pem(key))
        key_file.chmod(0o600)
        chain_file.write_bytes(chain)
        return ServerCredentials(certificate=certificate, key_file=key_file, chain_file=chain_file)
