#!/usr/bin/python3
"""credbank's request-signature profile (spec/security.md), independently of
the C code: RFC 9421 signature base and Ed25519 by python3-nacl.

As a module (tests/faults/history.py, spec/vectors/gen_httpsig.py):
    load_key(path) -> nacl.signing.SigningKey   (a credbank key file)
    base(components, params, msg) -> str        (RFC 9421 section 2.5)
    sign_headers(key, method, url, ...) -> {"Signature-Input": .., "Signature": ..}

As a command (the shell tests' curl):
    httpsig.py KEYFILE URL [--method GET] [--created N] [--expires N]
               [--nonce S]
prints the two header lines, "Name: value" each.
"""
import base64
import os
import sys
import time
import urllib.parse

import nacl.signing


def load_key(path):
    """A credbank key file: PRIVATE+KEY+<name>+<hash>+<base64(0x01||seed)>."""
    s = open(path).read().strip()
    b = base64.b64decode(s.split("+", 4)[4])
    if len(b) != 33 or b[0] != 1:
        raise ValueError(f"{path}: not an Ed25519 key file")
    return nacl.signing.SigningKey(b[1:])


def serialize_params(components, params):
    """The @signature-params value: ("c1" "c2");k=v;... in the given order."""
    out = "(" + " ".join(f'"{c}"' for c in components) + ")"
    for k, v in params:
        out += f";{k}={v}" if isinstance(v, int) else f';{k}="{v}"'
    return out


def base(components, params, msg):
    """msg: method, authority, path, query (without '?'), headers (lower-case
    names), scheme."""
    lines = []
    for c in components:
        if c == "@method":
            v = msg["method"]
        elif c == "@authority":
            v = msg["authority"]
        elif c == "@path":
            v = msg["path"]
        elif c == "@query":
            v = "?" + msg.get("query", "")
        elif c == "@target-uri":
            q = msg.get("query", "")
            v = f'{msg.get("scheme", "http")}://{msg["authority"]}{msg["path"]}' + (f"?{q}" if q else "")
        else:
            v = msg["headers"][c]
        lines.append(f'"{c}": {v}')
    lines.append('"@signature-params": ' + serialize_params(components, params))
    return "\n".join(lines)


def sign_headers(key, method, url, created=None, expires=None, nonce=None,
                 label="cb"):
    u = urllib.parse.urlsplit(url)
    authority = u.netloc if u.port else f"{u.hostname}:80"
    created = int(time.time()) if created is None else created
    expires = created + 300 if expires is None else expires
    nonce = nonce or os.urandom(16).hex()
    comps = ["@method", "@authority", "@path", "@query"]
    params = [("created", created), ("expires", expires), ("nonce", nonce),
              ("keyid", bytes(key.verify_key).hex()), ("alg", "ed25519")]
    msg = {"method": method, "authority": authority, "path": u.path or "/",
           "query": u.query}
    sig = key.sign(base(comps, params, msg).encode()).signature
    return {"Signature-Input": f"{label}={serialize_params(comps, params)}",
            "Signature": f"{label}=:{base64.b64encode(sig).decode()}:"}


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("url")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--created", type=int)
    ap.add_argument("--expires", type=int)
    ap.add_argument("--nonce")
    a = ap.parse_args(argv)
    h = sign_headers(load_key(a.key), a.method, a.url, a.created, a.expires,
                     a.nonce)
    for k, v in h.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
