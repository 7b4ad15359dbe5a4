#!/usr/bin/env bash
# credbank keygen: key files (mode 0600, C2SP private key string, never
# overwritten), verifier key format and key hash (checked independently with
# python3), usage errors, and key files other commands refuse.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB=$(realpath "${1:?usage: bash keygen.sh /path/to/credbank}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
. "$HERE/../lib/check.bash"

VK_RE='^[A-Za-z0-9._-]{1,64}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]$'

expect "keygen alice" 0 "" "$CB" keygen alice
vk=$(cat out.txt)
check "verifier key format" grep -Eq "$VK_RE" out.txt
check "verifier key is named alice" test "${vk%%+*}" = alice
check "alice.key exists" test -f alice.key
check "alice.key has mode 600" test "$(stat -c %a alice.key)" = 600
check "private key string" grep -Eq '^PRIVATE\+KEY\+alice\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]$' alice.key
check "key hash matches SHA-256(name||\\n||0x01||pk)" python3 - "$vk" <<'EOF'
import base64, hashlib, sys
name, h, b = sys.argv[1].split("+", 2)
raw = base64.b64decode(b)
assert len(raw) == 33 and raw[0] == 1, "algorithm byte"
want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
assert want == h, (want, h)
EOF
check "private and public key strings share name and hash" \
  test "$(cut -d+ -f3,4 alice.key)" = "$(echo "$vk" | cut -d+ -f1,2)"
before=$(cat alice.key)
expect "keygen refuses to overwrite" 1 "\(exists\)" "$CB" keygen alice
check "the key file is unchanged" test "$(cat alice.key)" = "$before"
expect "keygen -o" 0 "" "$CB" keygen bob -o keys-bob.key
check "-o file written" test -f keys-bob.key
check "-o file mode 600" test "$(stat -c %a keys-bob.key)" = 600
expect "keygen --json" 0 "" "$CB" keygen carol --json
check "--json has vkey, name and public_key" python3 -c '
import json, sys
j = json.load(open("out.txt"))
assert j["name"] == "carol" and j["vkey"].startswith("carol+")
assert len(j["public_key"]) == 64 and j["file"] == "carol.key"'
check "two keys differ" test "$(cut -d+ -f5- alice.key)" != "$(cut -d+ -f5- carol.key)"

expect "missing NAME is a usage error" 2 "\(usage\)" "$CB" keygen
expect "bad name is a usage error" 2 "\(usage\)" "$CB" keygen "a b"
expect "too long a name" 2 "\(usage\)" "$CB" keygen "$(printf 'x%.0s' $(seq 65))"
expect "unknown flag" 2 "--frob" "$CB" keygen dave --frob
expect "no command" 2 "" "$CB"
expect "unknown command" 2 "unknown command" "$CB" frobnicate
expect "help" 0 "" "$CB" help

# a key file readable by others is refused where keys are used
cp alice.key open.key && chmod 644 open.key
printf '\x92\xc4\x01\x00\x90' >x.cbe
expect "a world-readable key file is refused" 1 "open.key" "$CB" sign x.cbe --key open.key
expect "a missing key file" 1 "nokey.key" "$CB" sign x.cbe --key nokey.key

echo "cli/keygen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
