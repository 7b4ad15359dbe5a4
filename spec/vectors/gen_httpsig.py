#!/usr/bin/python3
"""Makes spec/vectors/httpsig.json: request-signature vectors of credbank's
RFC 9421 profile, computed by tests/lib/httpsig.py (python3-nacl), an
implementation independent of crypto/httpsig.c. The first case is RFC 9421
Appendix B.2.6 itself (key test-key-ed25519 of B.1.4); the script checks
that it reproduces the RFC's published signature before writing anything.
Run: /usr/bin/python3 spec/vectors/gen_httpsig.py > spec/vectors/httpsig.json
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tests", "lib"))
import httpsig  # noqa: E402
import nacl.signing  # noqa: E402

RFC_SEED = base64.urlsafe_b64decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU=")
RFC_PK = base64.urlsafe_b64decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs=")
RFC_SIG = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="


def case(name, seed, comps, params, msg):
    key = nacl.signing.SigningKey(seed)
    b = httpsig.base(comps, params, msg)
    sig = key.sign(b.encode()).signature
    return {"name": name, "seed": seed.hex(),
            "pk": bytes(key.verify_key).hex(), "components": comps,
            "params": httpsig.serialize_params(comps, params),
            "created": dict(params).get("created"),
            "expires": dict(params).get("expires"),
            "nonce": dict(params).get("nonce"),
            "keyid": dict(params).get("keyid"),
            "alg": dict(params).get("alg"),
            "msg": msg, "base": b,
            "signature": base64.b64encode(sig).decode()}


def main():
    rfc = case("rfc9421-b.2.6", RFC_SEED,
               ["date", "@method", "@path", "@authority", "content-type",
                "content-length"],
               [("created", 1618884473), ("keyid", "test-key-ed25519")],
               {"method": "POST", "authority": "example.com", "path": "/foo",
                "query": "param=Value&Pet=dog",
                "headers": {"date": "Tue, 20 Apr 2021 02:07:55 GMT",
                            "content-type": "application/json",
                            "content-length": "18"}})
    assert rfc["pk"] == RFC_PK.hex() and rfc["signature"] == RFC_SIG, \
        "does not reproduce RFC 9421 B.2.6"
    cases = [rfc]
    seed = bytes(range(32))
    pk = bytes(nacl.signing.SigningKey(seed).verify_key).hex()
    prof = ["@method", "@authority", "@path", "@query"]
    for name, path, query in [("account-view", "/v1/accounts/" + "ab" * 32, ""),
                              ("entries-query", "/v1/entries", "from=0&limit=10"),
                              ("bundle", "/v1/accounts/" + "01" * 32 + "/bundle", "")]:
        cases.append(case(name, seed, prof,
                          [("created", 1700000000), ("expires", 1700000300),
                           ("nonce", "00112233445566778899aabbccddeeff"),
                           ("keyid", pk), ("alg", "ed25519")],
                          {"method": "GET", "authority": "127.0.0.1:7001",
                           "path": path, "query": query, "headers": {}}))
    cases.append(case("target-uri", seed, ["@target-uri", "@method"],
                      [("created", 1700000001), ("keyid", pk)],
                      {"method": "GET", "authority": "node.example:8443",
                       "scheme": "http", "path": "/v1/members", "query": "",
                       "headers": {}}))
    json.dump({"generator": "spec/vectors/gen_httpsig.py (python3-nacl)",
               "cases": cases}, sys.stdout, indent=1)
    print()


main()
