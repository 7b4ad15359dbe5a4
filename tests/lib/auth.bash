# Signed requests for the shell tests (spec/security.md): reads of accounts,
# the log and the members need an HTTP message signature. Source it; needs
# CB_SOURCE_DIR or finds tests/lib beside itself.
#   scurl KEYFILE CURL-ARGS... URL   curl with the signature headers of a GET
#                                     of URL (the last argument) by KEYFILE
#   sighdrs KEYFILE URL [httpsig.py options]   the two header lines
CB_HTTPSIG_PY=${CB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib/httpsig.py
sighdrs() { /usr/bin/python3 "$CB_HTTPSIG_PY" "$@"; }
scurl() {
    local key=$1; shift
    local url=${!#} h=() l
    while IFS= read -r l; do h+=(-H "$l"); done < <(sighdrs "$key" "$url")
    curl "${h[@]}" "$@"
}
