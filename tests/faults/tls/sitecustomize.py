"""The fault suite's TLS mode for Python clients (tests/faults/common.bash,
CB_TLS=1). common.bash puts this directory first on PYTHONPATH and sets
CB_TLS_PINS to a file of the members' node keys (the demo's vkeys: one
signed-note verifier key, NAME+HASH+base64(0x01||key), or 64 hex, a line).
Then every https:// request made with urllib/http.client in the run (history.py,
the scenario libraries' inline checks) goes over TLS 1.3 and is refused unless
the subject key of the node's certificate is one of those Ed25519 keys: the
nodes' own certificates are self-signed, so the key is pinned instead of a
chain verified (spec/security.md, "Pinning"). Not set: nothing changes. It
shadows the system's sitecustomize for the run (Debian's only installs
apport's exception hook).

Also, as a command: sitecustomize.py VKEYS prints curl's --pinnedpubkey value
for the same keys (sha256//BASE64 of each key's SubjectPublicKeyInfo, ';'
between them)."""
import base64
import hashlib
import os
import sys

# SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): this prefix, then the key
ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")


def load_pins(path):
    keys = []
    for line in open(path, encoding="ascii"):
        s = line.strip()
        if not s:
            continue
        if len(s) == 64 and all(c in "0123456789abcdefABCDEF" for c in s):
            keys.append(bytes.fromhex(s))
            continue
        b = base64.b64decode(s.split("+", 2)[2])  # the base64 may hold '+'
        if len(b) != 33 or b[0] != 1:
            raise ValueError(f"{path}: not an Ed25519 verifier key: {s[:40]}")
        keys.append(b[1:])
    if not keys:
        raise ValueError(f"{path}: no key")
    return keys


def _der(b, i):
    """(tag, start of contents, end) of the DER element at b[i]"""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def cert_spki(der):
    """The SubjectPublicKeyInfo element of an X.509 certificate (DER)."""
    _, c, _ = _der(der, 0)            # Certificate
    _, i, _ = _der(der, c)            # tbsCertificate
    if der[i] == 0xA0:                # [0] version
        i = _der(der, i)[2]
    for _ in range(5):  # serial, signature, issuer, validity, subject
        i = _der(der, i)[2]
    return der[i:_der(der, i)[2]]


def curl_pins(path):
    return ";".join("sha256//" + base64.b64encode(
        hashlib.sha256(ED25519_SPKI + k).digest()).decode()
        for k in load_pins(path))


def _install(path):
    import http.client
    import ssl

    spkis = [ED25519_SPKI + k for k in load_pins(path)]

    def context(*_a, **_k):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE  # self-signed: pinned below instead
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        return c

    ssl._create_default_https_context = context
    connect = http.client.HTTPSConnection.connect

    def pinned_connect(self):
        connect(self)
        der = self.sock.getpeercert(binary_form=True) or b""
        try:
            spki = cert_spki(der)
        except (IndexError, ValueError):
            spki = None
        if spki not in spkis:
            self.sock.close()
            raise ssl.SSLError(f"{self.host}:{self.port}: the node's key is "
                               f"not one of the pinned keys ({path})")

    http.client.HTTPSConnection.connect = pinned_connect


if __name__ == "__main__":
    print(curl_pins(sys.argv[1]))
elif os.environ.get("CB_TLS_PINS"):
    _install(os.environ["CB_TLS_PINS"])
