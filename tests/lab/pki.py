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
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# The CAs predate every leaf (including the "expired" one) so that the only
# validity problem a scanner can find is the one on the leaf.
_CA_BACKDATE = dt.timedelta(days=365)
ROOT_CRL_PATH = "/root.crl"  # on the AIA host: the root's CRL (LeafSpec issuer="revoked" names it)
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
    # --- engine issue 9 cases ---
    extra_names: int = 0  # that many more SAN names (a 1000-name certificate spans several TLS records)
    key_bits: int = 2048  # RSA only
    signature_hash: str = "sha256"  # "md5" is made by signing the TBSCertificate directly (cryptography refuses MD5)
    # Who issues the leaf: "intermediate" (the usual EC CA), "sha1" (a CA the root signed with SHA-1),
    # "two-level" (root -> RSA CA -> issuing CA -> leaf) or "rsa" (root -> RSA CA -> leaf).
    issuer: str = "intermediate"
    reverse_chain: bool = False  # send the intermediates top-down instead of bottom-up
    aia_path: str | None = None  # path of the caIssuers URL on the lab's AIA host; default: the issuer's own file
    # --- trust beyond the handshake (issue 21) ---
    ocsp_url: str | None = None  # AIA id-ad-ocsp: where the OCSP responder answers
    crl_url: str | None = None  # CRL distribution point
    must_staple: bool = False  # TLS feature extension status_request (RFC 7633)
    rsa_exponent: int = 65537  # RSA only; cryptography can make 3 as well


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
    - ``intermediate.pem``: the intermediate certificate only (the lab's AIA host serves it in DER);
    - ``ca.pem``: the root ONLY, as a browser's store holds it: a server omitting the intermediate is
      completed through the leaf's AIA caIssuers URL, like browsers do, or is untrusted.
    """

    def __init__(self, directory: Path, *, now: dt.datetime | None = None, aia_url: str | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.now = now or dt.datetime.now(dt.UTC)
        self.aia_url = aia_url
        self._root = self._make_root()
        self._intermediate = self._make_intermediate()
        self._extra: dict[str, _Authority] = {}

        self.root_file = self.directory / "root.pem"
        self.intermediate_file = self.directory / "intermediate.pem"
        self.ca_file = self.directory / "ca.pem"
        self.root_file.write_bytes(_pem(self._root.certificate))
        self.intermediate_file.write_bytes(_pem(self._intermediate.certificate))
        self.ca_file.write_bytes(_pem(self._root.certificate))

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

    def _make_intermediate(
        self,
        common_name: str = "HTTPS Scanner Lab Intermediate CA",
        *,
        parent: _Authority | None = None,
        key_type: KeyType = "ec",
        path_length: int = 0,
        digest: str | None = None,
        crl_url: str | None = None,
    ) -> _Authority:
        # EC keeps lab start-up fast; the root is RSA so both signature kinds appear in chains.
        parent = parent or self._root
        key = _new_key(key_type)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(parent.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - _CA_BACKDATE)
            .not_valid_after(self.now + _INTERMEDIATE_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()),
                critical=False,
            )
            .sign(parent.key, hashes.SHA256())
        )
        if crl_url is not None:  # re-sign with a CRL distribution point: the root's CRL can then revoke this CA
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = x509.CertificateBuilder(
                issuer_name=certificate.issuer,
                subject_name=certificate.subject,
                public_key=certificate.public_key(),
                serial_number=certificate.serial_number,
                not_valid_before=certificate.not_valid_before_utc,
                not_valid_after=certificate.not_valid_after_utc,
                extensions=list(certificate.extensions),
            )
            certificate = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False).sign(
                parent.key, hashes.SHA256()
            )
        if digest is not None:
            certificate = _resign_rsa(certificate, parent.key, digest)
        return _Authority(certificate, key)

    def intermediate_key_file(self) -> Path:
        """The intermediate CA's key, for an OCSP responder signing as the issuer (`openssl ocsp -rkey`)."""
        path = self.directory / "intermediate.key.pem"
        path.write_bytes(_key_pem(self._intermediate.key))
        path.chmod(0o600)
        return path

    def intermediate_crl(
        self, revoked: list[x509.Certificate], next_update: dt.timedelta = dt.timedelta(days=7)
    ) -> bytes:
        """A DER CRL signed by the intermediate CA listing `revoked` (RFC 5280 §5)."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._intermediate.certificate.subject)
            .last_update(self.now - dt.timedelta(hours=1))
            .next_update(self.now + next_update)
        )
        for cert in revoked:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(self.now - dt.timedelta(hours=1))
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(self._intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def root_crl(self) -> bytes:
        """The root's CRL (DER), listing the revoked issuing CA when one was made."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._root.certificate.subject)
            .last_update(self.now - dt.timedelta(hours=1))
            .next_update(self.now + dt.timedelta(days=7))
        )
        if "revoked" in self._extra:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(self._extra["revoked"].certificate.serial_number)
                .revocation_date(self.now - dt.timedelta(hours=1))
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return builder.sign(self._root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def aia_documents(self) -> dict[str, bytes]:
        """What the lab's AIA host serves: each issuing CA's certificate in DER, at /<issuer kind>.der."""
        documents = {"/intermediate.der": self._intermediate.certificate.public_bytes(serialization.Encoding.DER)}
        for kind in ("rsa", "sha1", "revoked"):
            if kind in self._extra:
                documents[f"/{kind}.der"] = self._extra[kind].certificate.public_bytes(serialization.Encoding.DER)
        if "issuing" in self._extra:
            documents["/two-level.der"] = self._extra["issuing"].certificate.public_bytes(serialization.Encoding.DER)
        return documents

    def _authority(self, kind: str) -> list[_Authority]:
        """The CA path (issuing CA first) for LeafSpec.issuer; the extra CAs are made on first use."""
        if kind == "intermediate":
            return [self._intermediate]
        if "rsa" not in self._extra:
            self._extra["rsa"] = self._make_intermediate("HTTPS Scanner Lab RSA CA", key_type="rsa", path_length=1)
        if kind == "rsa":
            return [self._extra["rsa"]]
        if kind == "two-level":
            if "issuing" not in self._extra:
                self._extra["issuing"] = self._make_intermediate(
                    "HTTPS Scanner Lab Issuing CA", parent=self._extra["rsa"]
                )
            return [self._extra["issuing"], self._extra["rsa"]]
        if kind == "revoked":  # an issuing CA its root has revoked (listed on the root's CRL, ROOT_CRL_PATH)
            if "revoked" not in self._extra:
                self._extra["revoked"] = self._make_intermediate(
                    "HTTPS Scanner Lab Revoked CA", crl_url=f"{self.aia_url}{ROOT_CRL_PATH}"
                )
            return [self._extra["revoked"]]
        if kind == "sha1":
            if "sha1" not in self._extra:
                self._extra["sha1"] = self._make_intermediate("HTTPS Scanner Lab SHA-1 CA", digest="sha1")
            return [self._extra["sha1"]]
        raise ValueError(f"unknown issuer kind {kind!r}")

    def issue(self, name: str, spec: LeafSpec) -> ServerCredentials:
        """Create a leaf per `spec` and write ``<name>.key.pem`` / ``<name>.chain.pem``."""
        key = (
            rsa.generate_private_key(spec.rsa_exponent, spec.key_bits)
            if spec.key_type == "rsa"
            else _new_key(spec.key_type)
        )
        subject = _name(spec.hostnames[0])
        cas = [] if spec.self_signed else self._authority(spec.issuer)
        if spec.self_signed:
            issuer_name, signing_key = subject, key
        else:
            issuer_name, signing_key = cas[0].certificate.subject, cas[0].key
        names = [*spec.hostnames, *(f"n{i}.{spec.hostnames[0]}" for i in range(spec.extra_names))]

        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now + spec.not_before)
            .not_valid_after(self.now + spec.not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host) for host in names]), critical=False)
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
        )
        access = []
        if self.aia_url and not spec.self_signed:
            # Every real CA names where its certificate can be downloaded; browsers use it to complete chains.
            url = self.aia_url + (spec.aia_path or f"/{spec.issuer}.der")
            access.append(
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))
            )
        if spec.ocsp_url:
            access.append(
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(spec.ocsp_url)
                )
            )
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        if spec.crl_url:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(spec.crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        if spec.must_staple:
            builder = builder.add_extension(x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False)
        certificate = builder.sign(signing_key, hashes.SHA256())
        if spec.signature_hash != "sha256":
            certificate = _resign_rsa(certificate, signing_key, spec.signature_hash)

        chain = _pem(certificate)
        if spec.send_intermediate and not spec.self_signed:
            sent = [ca.certificate for ca in cas]
            for ca in reversed(sent) if spec.reverse_chain else sent:
                chain += _pem(ca)

        key_file = self.directory / f"{name}.key.pem"
        chain_file = self.directory / f"{name}.chain.pem"
        key_file.write_bytes(_key_pem(key))
        key_file.chmod(0o600)
        chain_file.write_bytes(chain)
        return ServerCredentials(certificate=certificate, key_file=key_file, chain_file=chain_file)


# --- DER by hand, for what cryptography rightly refuses to make (MD5 signatures, broken DH groups) -----------


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


# AlgorithmIdentifier DER of {sha256,sha1,md5}WithRSAEncryption (RFC 8017 A.2.4): they differ in the last OID byte.
_RSA_SIGNATURE_ALGORITHMS = {
    "sha256": (bytes.fromhex("300d06092a864886f70d01010b0500"), hashes.SHA256()),
    "sha1": (bytes.fromhex("300d06092a864886f70d0101050500"), hashes.SHA1()),
    "md5": (bytes.fromhex("300d06092a864886f70d0101040500"), hashes.MD5()),
}


def _resign_rsa(certificate: x509.Certificate, key: PrivateKey, digest: str) -> x509.Certificate:
    """Re-sign a SHA-256/RSA certificate with SHA-1 or MD5, which cryptography's builder refuses: swap the
    algorithm identifier in the TBSCertificate (same length), sign it with PKCS#1 v1.5, and assemble
    Certificate ::= SEQUENCE {tbsCertificate, signatureAlgorithm, signatureValue}."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"a {digest} signature needs an RSA issuer (e.g. LeafSpec issuer='rsa')")
    old, _ = _RSA_SIGNATURE_ALGORITHMS["sha256"]
    new, algorithm = _RSA_SIGNATURE_ALGORITHMS[digest]
    tbs = certificate.tbs_certificate_bytes
    if tbs.count(old) != 1:
        raise ValueError("expected exactly one sha256WithRSAEncryption identifier in the TBSCertificate")
    tbs = tbs.replace(old, new)
    signature = key.sign(tbs, padding.PKCS1v15(), algorithm)
    der = _der(0x30, tbs + new + _der(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def dh_parameters_pem(prime: int, generator: int = 2) -> bytes:
    """PKCS#3 DHParameter ::= SEQUENCE {prime, base}, PEM: what `openssl dhparam` writes (no validity check)."""
    import base64

    der = _der(0x30, _der_integer(prime) + _der_integer(generator))
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN DH PARAMETERS-----\n" + "\n".join(lines) + "\n-----END DH PARAMETERS-----\n").encode("ascii")
