#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets added for issue 6 from real
# artefacts: a local demo (`credbank demo --local`) gives the genesis JSON,
# the signed entries, the checkpoint note and its verifier keys.
#
#   tests/fuzz/make_corpus.sh [path/to/credbank]     (default build/credbank)
#
# Writes (replacing what an earlier run wrote):
#   corpus/genesis/  the demo's genesis.json with its keys replaced by the
#                    deterministic keys of fuzzkeys.h (so fuzz_genesis can
#                    sign what it builds), and variants
#   corpus/note/     the demo's vkeys, a NUL, its checkpoint.note; variants
#   corpus/api/      demo entries as POST bodies ({"entry": HEX} and raw
#                    msgpack) and the query strings of spec/api.md
#   corpus/sm/       step programs for fuzz_sm (8 bytes a step): the demo's
#                    walk-through A1-A7 over the fuzz keys, and mixes
#   corpus/entry/demo-*  the demo's signed entries (fuzz_entry)
# Needs /usr/bin/python3 with python3-nacl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
credbank=${1:-$here/../../build/credbank}
[ -x "$credbank" ] || { echo "make_corpus: no credbank at $credbank" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$credbank" demo --local --out "$work/demo" >"$work/demo.log" 2>&1 ||
  { cat "$work/demo.log" >&2; exit 1; }

/usr/bin/python3 - "$work/demo" "$here/corpus" <<'EOF'
import base64, glob, hashlib, json, os, re, shutil, sys
import nacl.signing

demo, out = sys.argv[1], sys.argv[2]

def fresh(name):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d

def write(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# the deterministic keys of fuzzkeys.h
def fuzz_vkey(name):
    seed = hashlib.sha256(b'credbank-fuzz:' + name.encode()).digest()
    pk = bytes(nacl.signing.SigningKey(seed).verify_key)
    h = hashlib.sha256(name.encode() + b'\n' + b'\x01' + pk).digest()[:4]
    return '%s+%s+%s' % (name, h.hex(), base64.b64encode(b'\x01' + pk).decode())

def fuzz_hex(name):
    seed = hashlib.sha256(b'credbank-fuzz:' + name.encode()).digest()
    return bytes(nacl.signing.SigningKey(seed).verify_key).hex()

# ---- genesis ----
d = fresh('genesis')
text = open(os.path.join(demo, 'genesis.json')).read()
rekeyed = re.sub(r'"([a-z.]+)\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+"',
                 lambda m: '"%s"' % fuzz_vkey(m.group(1)), text)
write(d, 'demo', rekeyed.encode())
g = json.loads(rekeyed)
write(d, 'demo-compact', json.dumps(g, separators=(',', ':')).encode())
h = json.loads(rekeyed)
for m in h['members']:  # keys as 64 hex digits
    m['node'] = fuzz_hex(m['node'].split('+')[0])
    m['issuers'] = [fuzz_hex(k.split('+')[0]) for k in m['issuers']]
h['origin'] = 'example.org/credbank'
write(d, 'hex-keys-origin', json.dumps(h).encode())
q = json.loads(rekeyed)
q['governance_quorum'] = 3
q['cosign_quorum'] = 1
del q['policy']['sources']['mooc']
write(d, 'quorums', json.dumps(q).encode())
s = json.loads(rekeyed)
s['members'] = s['members'][:1]
s['governance_quorum'] = 0
s['cosign_quorum'] = 0
write(d, 'one-member', json.dumps(s).encode())

# ---- checkpoint notes ----
d = fresh('note')
vkeys = open(os.path.join(demo, 'vkeys'), 'rb').read()
note = open(os.path.join(demo, 'checkpoint.note'), 'rb').read()
write(d, 'demo', vkeys + b'\0' + note)
write(d, 'no-keys', b'\0' + note)
lines = note.split(b'\n')
body, sigs = b'\n'.join(lines[:3]) + b'\n', [l for l in lines[4:] if l]
write(d, 'one-sig', vkeys + b'\0' + body + b'\n' + sigs[0] + b'\n')
write(d, 'no-sig', vkeys + b'\0' + body + b'\n')
bad = bytearray(sigs[-1]); bad[-5] = ord('A') if bad[-5] != ord('A') else ord('B')
write(d, 'bad-sig', vkeys + b'\0' + body + b'\n' + sigs[0] + b'\n' + bytes(bad) + b'\n')
write(d, 'one-key', vkeys.split(b'\n')[0] + b'\0' + note)

# ---- API request bodies and query strings ----
d = fresh('api')
entries = sorted(glob.glob(os.path.join(demo, 'entries', '*.cbe')))
for i, p in enumerate(entries[::4]):
    b = open(p, 'rb').read()
    write(d, 'json-%02d' % i, b'\0' + json.dumps({'entry': b.hex()}).encode())
    write(d, 'msgpack-%02d' % i, b'\1' + b)
b = open(entries[2], 'rb').read()
write(d, 'json-upper', b'\0' + json.dumps({'entry': b.hex().upper()}).encode())
write(d, 'json-extra', b'\0' + json.dumps({'entry': b.hex(), 'x': 1}).encode())
ledger_id = open(os.path.join(demo, 'ledger-id')).read().strip()
for i, qs in enumerate(['wait=applied', 'wait=final', 'from=0&limit=100',
                        'index=3&size=31', 'from=2&to=31', 'limit=18446744073709551615&from=1',
                        'size&index=', '&&from=007']):
    write(d, 'query-%02d' % i, b'\2' + qs.encode() + b'\0' + ledger_id.encode())

# ---- signed entries (fuzz_entry) ----
d = os.path.join(out, 'entry')
for p in glob.glob(os.path.join(d, 'demo-*')):
    os.remove(p)
for p in entries:
    shutil.copy(p, os.path.join(d, 'demo-' + os.path.basename(p)[:-4]))

# ---- state-machine programs (fuzz_sm) ----
# a step: op learner author v1 v2 v3 mutation cut (see fuzz_sm.c)
OPEN, DEP, REC, CANCEL, AFILE, ADECIDE, CLASS, AWARD, PROG, LINK, REKEY, \
    POLICY, SEAL, COSIGN, REPLAY = 0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, \
    14, 15, 16
def step(op, l=0, v1=0, v2=0, v3=0, author=0, mut=0, cut=0):
    return bytes([op, l, author, v1, v2, v3, mut, cut])
d = fresh('sm')
walk = [
    step(OPEN, 0, v1=0),                      # A1: associate, pays the fee
    step(DEP, 0, v1=5, v2=95, v3=0),          # school 5 credits, grade 95
    step(DEP, 0, v1=2, v2=85, v3=1 | 8),      # mooc, attendance 90, compatible
    step(DEP, 0, v1=5, v2=70, v3=2 | 16),     # part_time by the university
    step(REC, 0, v1=0, v2=5, v3=0, cut=1),    # A2: major 5 of the school one
    step(REC, 0, v1=0, v2=2, v3=128 | 2),     # major 2 of the mooc one (uni)
    step(REC, 0, v1=1, v2=5, v3=2),           # general 5 of part_time
    step(SEAL, 0, v1=0),
    step(COSIGN, 0, v1=1),
    step(COSIGN, 0, v1=2, cut=1),
    step(AFILE, 0, v1=1, v2=1, v3=0),         # A5: appeal on the school one
    step(ADECIDE, 0, v1=0, v2=5, v3=0),       # upheld, major 5
    step(CLASS, 0, v1=1, v3=1),               # A7: the mooc one to general
    step(AWARD, 0, v1=1, v2=0),               # associate: 12 (5, 7)
    step(LINK, 0, v1=1, v2=2, v3=0),          # A4: two recognitions
    step(PROG, 0, v1=1, v2=1, v3=2),          # A3: drop the part_time one
    step(CANCEL, 0, v1=1, v2=0, v3=0),        # A6: investigation
    step(REPLAY, 0, v1=3),                    # duplicate
    step(SEAL, 0, v1=2, cut=1),
]
write(d, 'walk', b''.join(walk))
mix = [
    step(OPEN, 1, v1=1, v2=1), step(OPEN, 2, v1=0, v2=2, v3=2),
    step(DEP, 1, v1=4, v2=99, v3=0, mut=0x81), step(DEP, 1, v1=4, v2=99),
    step(REC, 1, v1=2, v2=9, v3=0, mut=0x80), step(REC, 1, v1=2, v2=4),
    step(REKEY, 1, v1=4), step(CANCEL, 1, v1=2, v3=0, cut=1),
    step(POLICY, 1, v1=1, v2=7, v3=1), step(DEP, 1, v1=7, v2=65, v3=1),
    step(REC, 1, v1=0, v2=6, v3=1 | 128), step(AWARD, 1, v1=0, v2=1),
    step(SEAL, 1), step(COSIGN, 1, v1=3), step(COSIGN, 1, v1=0),
    step(OPEN, 3, author=7), step(REPLAY, 0, v1=0, cut=1),
]
write(d, 'mix', b''.join(mix))
write(d, 'mutations', b''.join(
    [step(OPEN, 0)] + [step(DEP, 0, v1=3, v2=80, v3=0, mut=0x80 | k)
                       for k in range(8)] + [step(DEP, 0, v1=3, v2=80)]))
print('make_corpus: %d entries from the demo' % len(entries))
EOF
for t in genesis note api sm entry; do
  echo "corpus/$t: $(ls "$here/corpus/$t" | wc -l) files"
done
