// verify checks a running credbank node with Go's golang.org/x/mod/sumdb
// packages, an implementation independent of credbank's (DESIGN 3.2-3.5):
//
//   - GET /v1/checkpoint: the note verifies with note.Open under the
//     members' verifier keys (-vkeys, one per line), with at least
//     cosign_quorum signatures (GET /v1/status); its body parses as a tlog
//     tree (origin line checked, then tlog.ParseTree on the size and root);
//   - every leaf below the checkpoint size (GET /v1/entries/{i}, Accept:
//     application/msgpack) hashed with tlog.RecordHash; the tree hash
//     recomputed from them with tlog.StoredHashes / tlog.TreeHash equals the
//     note's root;
//   - for every index, GET /v1/proof/inclusion?index=&size= checked with
//     tlog.CheckRecord against the note's root;
//   - GET /v1/proof/consistency from several earlier sizes (and from each
//     earlier checkpoint note given with -old) checked with tlog.CheckTree;
//   - the learner bundle (GET /v1/accounts/{id}/bundle, decoded with the
//     small msgpack reader below): its note verifies (note.Open, quorum),
//     the seal is its last leaf, every item's proof (seal, governance,
//     entries) passes tlog.CheckRecord against the note's root with the
//     entry bytes the node serves at that index, the account leaf's proof
//     passes tlog.CheckRecord against the seal's accounts_root, the chains
//     and counts match the seal and the leaf, and the seal's log_root is
//     the tree hash of the leaves before it.
//
// It prints "PASS name" or "FAIL name: why" per check and exits 1 on any
// failure. Only 127.0.0.1 is contacted.
//
//	GOCACHE=/tmp/gocache GO111MODULE=off GOPATH=/usr/share/gocode \
//	  go run verify.go -api http://127.0.0.1:PORT -vkeys demo/vkeys \
//	  -ledger HEX -account HEX [-old a.note,b.note] [-key ISSUER.key]
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var failed int

func check(name string, err error) bool {
	if err != nil {
		failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return false
	}
	fmt.Printf("PASS %s\n", name)
	return true
}

func fatal(name string, err error) {
	check(name, err)
	os.Exit(1)
}

// ---- HTTP (loopback only) ----

var api string
var client = &http.Client{Timeout: 10 * time.Second}

func get(path, accept string) ([]byte, error) {
	req, err := http.NewRequest("GET", api+path, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if signKey != nil {
		signRequest(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b, nil
}

// ---- request signatures (spec/security.md), written here from RFC 9421
// independently of credbank's C code: "@method" "@authority" "@path"
// "@query", created/expires/nonce/keyid/alg ----

var signKey ed25519.PrivateKey

// loadKey reads a credbank key file:
// PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>.
func loadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(strings.TrimSpace(string(b)), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return nil, fmt.Errorf("%s: not a key file", path)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return ed25519.NewKeyFromSeed(raw[1:]), nil
}

func signRequest(req *http.Request) {
	created := time.Now().Unix()
	nonce := make([]byte, 16)
	rand.Read(nonce)
	pub := signKey.Public().(ed25519.PublicKey)
	params := fmt.Sprintf(`("@method" "@authority" "@path" "@query");created=%d;expires=%d;nonce="%x";keyid="%x";alg="ed25519"`,
		created, created+300, nonce, []byte(pub))
	base := fmt.Sprintf("\"@method\": %s\n\"@authority\": %s\n\"@path\": %s\n\"@query\": ?%s\n\"@signature-params\": %s",
		req.Method, req.URL.Host, req.URL.EscapedPath(), req.URL.RawQuery, params)
	sig := ed25519.Sign(signKey, []byte(base))
	req.Header.Set("Signature-Input", "cb="+params)
	req.Header.Set("Signature", "cb=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

func getJSON(path string, v interface{}) error {
	b, err := get(path, "application/json")
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// ---- a small msgpack reader (the subset credbank writes) ----

type mpReader struct {
	b []byte
	p int
}

func (r *mpReader) need(n int) ([]byte, error) {
	if n < 0 || r.p+n > len(r.b) {
		return nil, errors.New("msgpack: truncated")
	}
	s := r.b[r.p : r.p+n]
	r.p += n
	return s, nil
}

func (r *mpReader) uintN(n int) (uint64, error) {
	s, err := r.need(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range s {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// value decodes one object: uint64, string, []byte, bool,
// []interface{} or map[string]interface{} (str keys only).
func (r *mpReader) value(depth int) (interface{}, error) {
	if depth > 32 {
		return nil, errors.New("msgpack: too deep")
	}
	t, err := r.uintN(1)
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case t <= 0x7f:
		return t, nil
	case t >= 0x80 && t <= 0x8f:
		return r.mapN(int(t&0x0f), depth)
	case t >= 0x90 && t <= 0x9f:
		return r.arrayN(int(t&0x0f), depth)
	case t >= 0xa0 && t <= 0xbf:
		s, err := r.need(int(t & 0x1f))
		return string(s), err
	case t == 0xc2:
		return false, nil
	case t == 0xc3:
		return true, nil
	case t >= 0xc4 && t <= 0xc6: // bin 8/16/32
		if n, err = r.uintN(1 << (t - 0xc4)); err != nil {
			return nil, err
		}
		s, err := r.need(int(n))
		return append([]byte(nil), s...), err
	case t >= 0xcc && t <= 0xcf: // uint 8..64
		return r.uintN(1 << (t - 0xcc))
	case t >= 0xd9 && t <= 0xdb: // str 8/16/32
		if n, err = r.uintN(1 << (t - 0xd9)); err != nil {
			return nil, err
		}
		s, err := r.need(int(n))
		return string(s), err
	case t == 0xdc || t == 0xdd:
		if n, err = r.uintN(2 << (t - 0xdc)); err != nil {
			return nil, err
		}
		return r.arrayN(int(n), depth)
	case t == 0xde || t == 0xdf:
		if n, err = r.uintN(2 << (t - 0xde)); err != nil {
			return nil, err
		}
		return r.mapN(int(n), depth)
	}
	return nil, fmt.Errorf("msgpack: type byte 0x%02x not used by credbank", t)
}

func (r *mpReader) arrayN(n int, depth int) (interface{}, error) {
	if n > len(r.b) {
		return nil, errors.New("msgpack: array too long")
	}
	a := make([]interface{}, n)
	for i := range a {
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	return a, nil
}

func (r *mpReader) mapN(n int, depth int) (interface{}, error) {
	if n > len(r.b) {
		return nil, errors.New("msgpack: map too long")
	}
	m := make(map[string]interface{}, n)
	for i := 0; i < n; i++ {
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, errors.New("msgpack: map key not a str")
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
	return m, nil
}

func decode(b []byte) (interface{}, error) {
	r := &mpReader{b: b}
	v, err := r.value(0)
	if err == nil && r.p != len(b) {
		err = errors.New("msgpack: trailing bytes")
	}
	return v, err
}

// ---- entries ----

type entry struct {
	signed []byte // the leaf: signed-entry bytes
	id     [32]byte
	typ    string
	body   map[string]interface{}
	acct   []byte // the entry's `account`, or nil
}

func parseEntry(signed []byte) (*entry, error) {
	v, err := decode(signed)
	if err != nil {
		return nil, err
	}
	a, ok := v.([]interface{})
	if !ok || len(a) != 2 {
		return nil, errors.New("signed entry: not [entry, sigs]")
	}
	eb, ok := a[0].([]byte)
	if !ok {
		return nil, errors.New("signed entry: entry not bin")
	}
	ev, err := decode(eb)
	if err != nil {
		return nil, err
	}
	m, ok := ev.(map[string]interface{})
	if !ok {
		return nil, errors.New("entry: not a map")
	}
	e := &entry{signed: signed, id: sha256.Sum256(eb)}
	e.typ, _ = m["type"].(string)
	e.body, _ = m["body"].(map[string]interface{})
	e.acct, _ = m["account"].([]byte)
	if e.typ == "" || e.body == nil {
		return nil, errors.New("entry: no type or body")
	}
	return e, nil
}

var governanceTypes = map[string]bool{"genesis": true, "member.add": true,
	"member.update": true, "member.remove": true, "key.rotate": true,
	"policy.set": true}

// ---- notes ----

var verifiers note.Verifiers

// openNote verifies a checkpoint note (quorum signatures by known keys)
// and returns its tree.
func openNote(text []byte, origin string, quorum int) (tlog.Tree, error) {
	n, err := note.Open(text, verifiers)
	if err != nil {
		return tlog.Tree{}, err
	}
	if len(n.Sigs) < quorum {
		return tlog.Tree{}, fmt.Errorf("%d verified signatures, quorum %d",
			len(n.Sigs), quorum)
	}
	lines := strings.SplitN(n.Text, "\n", 2)
	if len(lines) != 2 || lines[0] != origin {
		return tlog.Tree{}, fmt.Errorf("origin line %q, want %q", lines[0],
			origin)
	}
	if strings.Count(n.Text, "\n") != 3 {
		return tlog.Tree{}, errors.New("body is not exactly three lines")
	}
	// tlog.ParseTree reads the size and root lines after its own first
	// line; the origin was checked above.
	return tlog.ParseTree([]byte("go.sum database tree\n" + lines[1]))
}

// ---- the log as the node serves it ----

var leaves [][]byte      // signed-entry bytes by index
var leafHash []tlog.Hash // tlog.RecordHash of each
var stored []tlog.Hash   // tlog.StoredHashes of all leaves, in order

var hashReader = tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(stored)) {
			return nil, fmt.Errorf("stored hash %d not computed", x)
		}
		out[i] = stored[x]
	}
	return out, nil
})

func fetchLeaves(n int64) error {
	for i := int64(len(leaves)); i < n; i++ {
		b, err := get(fmt.Sprintf("/v1/entries/%d", i), "application/msgpack")
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashes(i, b, hashReader)
		if err != nil {
			return err
		}
		stored = append(stored, hs...)
		leaves = append(leaves, b)
		leafHash = append(leafHash, tlog.RecordHash(b))
	}
	return nil
}

type proofJSON struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Root     string   `json:"root"`
	Proof    []string `json:"proof"`
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
}

func hashes(hx []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(hx))
	for i, s := range hx {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("proof[%d]: not 32 bytes of hex", i)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func hexHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("%q: not a hash", s)
	}
	copy(h[:], b)
	return h, nil
}

func inclusion(i, n int64, root tlog.Hash) error {
	var pj proofJSON
	if err := getJSON(fmt.Sprintf("/v1/proof/inclusion?index=%d&size=%d", i, n), &pj); err != nil {
		return err
	}
	p, err := hashes(pj.Proof)
	if err != nil {
		return err
	}
	if pj.Index != i || pj.Size != n {
		return fmt.Errorf("answer for index %d size %d", pj.Index, pj.Size)
	}
	if err := tlog.CheckRecord(p, n, root, i, leafHash[i]); err != nil {
		return fmt.Errorf("index %d: %v", i, err)
	}
	// a tampered proof must fail (the check is real)
	if len(p) > 0 {
		p[len(p)/2][7] ^= 1
		if tlog.CheckRecord(p, n, root, i, leafHash[i]) == nil {
			return fmt.Errorf("index %d: a tampered proof verified", i)
		}
	}
	return nil
}

func consistency(m, n int64, root tlog.Hash) error {
	var pj proofJSON
	if err := getJSON(fmt.Sprintf("/v1/proof/consistency?from=%d&to=%d", m, n), &pj); err != nil {
		return err
	}
	p, err := hashes(pj.Proof)
	if err != nil {
		return err
	}
	old, err := tlog.TreeHash(m, hashReader)
	if err != nil {
		return err
	}
	fr, err := hexHash(pj.FromRoot)
	if err != nil {
		return err
	}
	if fr != old {
		return fmt.Errorf("from_root %v, recomputed %v", fr, old)
	}
	if err := tlog.CheckTree(p, n, root, m, old); err != nil {
		return fmt.Errorf("%d -> %d: %v", m, n, err)
	}
	return nil
}

// ---- the bundle ----

type item struct {
	index int64
	e     *entry
	proof []tlog.Hash
}

func parseItem(v interface{}) (*item, error) {
	a, ok := v.([]interface{})
	if !ok || len(a) != 3 {
		return nil, errors.New("item not [index, entry, proof]")
	}
	idx, ok1 := a[0].(uint64)
	b, ok2 := a[1].([]byte)
	ps, ok3 := a[2].([]interface{})
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("item: wrong types")
	}
	e, err := parseEntry(b)
	if err != nil {
		return nil, err
	}
	it := &item{index: int64(idx), e: e}
	for _, x := range ps {
		h, ok := x.([]byte)
		if !ok || len(h) != 32 {
			return nil, errors.New("item: proof hash not bin 32")
		}
		var hh tlog.Hash
		copy(hh[:], h)
		it.proof = append(it.proof, hh)
	}
	return it, nil
}

func chainStep(chain *[32]byte, h tlog.Hash) {
	*chain = sha256.Sum256(append(append([]byte(nil), chain[:]...), h[:]...))
}

func checkBundle(b []byte, origin string, quorum int, n int64, root tlog.Hash, acct []byte) {
	v, err := decode(b)
	if err != nil {
		fatal("bundle: msgpack", err)
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		fatal("bundle: msgpack", errors.New("not a map"))
	}
	check("bundle: decoded (v 1)", func() error {
		if m["v"] != uint64(1) {
			return fmt.Errorf("v = %v", m["v"])
		}
		return nil
	}())
	cp, _ := m["checkpoint"].(string)
	tree, err := openNote([]byte(cp), origin, quorum)
	if !check("bundle: checkpoint note verifies (sumdb/note, quorum) and parses (tlog)", err) {
		return
	}
	check("bundle: its checkpoint is the node's or consistent with it", func() error {
		if tree.N > n {
			return fmt.Errorf("bundle tree %d newer than the node's %d", tree.N, n)
		}
		if tree.N == n {
			if tree.Hash != root {
				return errors.New("same size, other root")
			}
			return nil
		}
		return consistency(tree.N, n, root)
	}())
	seal, err := parseItem(m["seal"])
	if !check("bundle: seal item", err) {
		return
	}
	var gov, ents []*item
	for _, list := range []struct {
		key string
		out *[]*item
	}{{"governance", &gov}, {"entries", &ents}} {
		arr, _ := m[list.key].([]interface{})
		for _, x := range arr {
			it, err := parseItem(x)
			if err != nil {
				check("bundle: "+list.key+" items", err)
				return
			}
			*list.out = append(*list.out, it)
		}
	}
	all := append(append([]*item{seal}, gov...), ents...)
	check(fmt.Sprintf("bundle: %d inclusion proofs (seal, %d governance, %d entries) pass tlog.CheckRecord against the note's root",
		len(all), len(gov), len(ents)), func() error {
		if seal.index != tree.N-1 || seal.e.typ != "seal" {
			return fmt.Errorf("seal at %d (%s), tree of %d", seal.index, seal.e.typ, tree.N)
		}
		for k, it := range all {
			if it.index >= tree.N {
				return fmt.Errorf("item %d: index %d beyond the tree", k, it.index)
			}
			if !bytes.Equal(it.e.signed, leaves[it.index]) {
				return fmt.Errorf("item %d: bytes differ from /v1/entries/%d", k, it.index)
			}
			if err := tlog.CheckRecord(it.proof, tree.N, tree.Hash, it.index, tlog.RecordHash(it.e.signed)); err != nil {
				return fmt.Errorf("item %d (index %d): %v", k, it.index, err)
			}
		}
		return nil
	}())
	sb := seal.e.body
	u := func(k string) uint64 { x, _ := sb[k].(uint64); return x }
	h := func(k string) (out tlog.Hash) { x, _ := sb[k].([]byte); copy(out[:], x); return }
	check("bundle: governance count and chain equal the seal's", func() error {
		var chain [32]byte
		for k, it := range gov {
			if !governanceTypes[it.e.typ] {
				return fmt.Errorf("governance[%d] is a %s", k, it.e.typ)
			}
			chainStep(&chain, tlog.RecordHash(it.e.signed))
		}
		if uint64(len(gov)) != u("governance") || tlog.Hash(chain) != h("governance_chain") {
			return fmt.Errorf("%d entries; seal says %d", len(gov), u("governance"))
		}
		return nil
	}())
	check("bundle: the seal's log_root is the tree hash of the leaves before it", func() error {
		r, err := tlog.TreeHash(seal.index, hashReader)
		if err != nil {
			return err
		}
		if u("size") != uint64(seal.index) || r != h("log_root") {
			return errors.New("log_root or size differ")
		}
		return nil
	}())
	check("bundle: account leaf proof passes tlog.CheckRecord against the seal's accounts_root", func() error {
		a, ok := m["account"].([]interface{})
		if !ok || len(a) != 3 {
			return errors.New("account not [number, leaf, proof]")
		}
		num, _ := a[0].(uint64)
		leaf, _ := a[1].([]byte)
		ps, _ := a[2].([]interface{})
		if len(leaf) != 73 || !bytes.Equal(leaf[:32], acct) {
			return errors.New("leaf is not 73 bytes of this account")
		}
		var p []tlog.Hash
		for _, x := range ps {
			hb, _ := x.([]byte)
			var hh tlog.Hash
			copy(hh[:], hb)
			p = append(p, hh)
		}
		if err := tlog.CheckRecord(p, int64(u("accounts")), h("accounts_root"), int64(num), tlog.RecordHash(leaf)); err != nil {
			return err
		}
		var chain [32]byte
		for k, it := range ents {
			if k == 0 && (it.e.typ != "account.open" || !bytes.Equal(it.e.id[:], acct)) {
				return errors.New("entries[0] is not the account's account.open")
			}
			if k > 0 && !bytes.Equal(it.e.acct, acct) {
				return fmt.Errorf("entries[%d] names another account", k)
			}
			chainStep(&chain, tlog.RecordHash(it.e.signed))
		}
		if binary.BigEndian.Uint64(leaf[32:40]) != uint64(len(ents)) || !bytes.Equal(leaf[40:72], chain[:]) {
			return errors.New("count or chain differ from the leaf")
		}
		return nil
	}())
}

func main() {
	vkeys := flag.String("vkeys", "", "file of verifier keys, one per line")
	ledger := flag.String("ledger", "", "ledger id (hex)")
	account := flag.String("account", "", "account id (hex) for the bundle")
	oldNotes := flag.String("old", "", "comma-separated earlier checkpoint notes")
	flag.StringVar(&api, "api", "", "node API URL (http://127.0.0.1:PORT)")
	keyFile := flag.String("key", "", "key file to sign reads with (an issuer key)")
	flag.Parse()
	if *keyFile != "" {
		k, err := loadKey(*keyFile)
		if err != nil {
			fatal("-key", err)
		}
		signKey = k
	}
	if !strings.HasPrefix(api, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "verify: -api must be http://127.0.0.1:PORT")
		os.Exit(2)
	}
	vk, err := os.ReadFile(*vkeys)
	if err != nil {
		fatal("read -vkeys", err)
	}
	var vs []note.Verifier
	for _, line := range strings.Split(strings.TrimSpace(string(vk)), "\n") {
		v, err := note.NewVerifier(strings.TrimSpace(line))
		if err != nil {
			fatal("verifier key "+line, err)
		}
		vs = append(vs, v)
	}
	verifiers = note.VerifierList(vs...)
	lid, err := hex.DecodeString(*ledger)
	acct, err2 := hex.DecodeString(*account)
	if err != nil || err2 != nil || len(lid) != 32 || len(acct) != 32 {
		fmt.Fprintln(os.Stderr, "verify: -ledger and -account: 64 hex digits")
		os.Exit(2)
	}

	var st struct {
		CosignQuorum int `json:"cosign_quorum"`
	}
	if err := getJSON("/v1/status", &st); err != nil || st.CosignQuorum < 1 {
		fatal("GET /v1/status (cosign_quorum)", fmt.Errorf("%v (quorum %d)", err, st.CosignQuorum))
	}
	if err := fetchLeaves(1); err != nil {
		fatal("GET /v1/entries/0", err)
	}
	gen, err := parseEntry(leaves[0])
	if err != nil || gen.typ != "genesis" || !bytes.Equal(gen.id[:], lid) {
		fatal("genesis entry id is the ledger id", fmt.Errorf("%v", err))
	}
	origin := "credbank/" + (*ledger)[:16]
	if o, ok := gen.body["origin"].(string); ok {
		origin = o
	}

	cp, err := get("/v1/checkpoint", "")
	if err != nil {
		fatal("GET /v1/checkpoint", err)
	}
	tree, err := openNote(cp, origin, st.CosignQuorum)
	if !check(fmt.Sprintf("checkpoint note verifies with sumdb/note (quorum %d) and parses as a tlog tree", st.CosignQuorum), err) {
		os.Exit(1)
	}
	fmt.Printf("     checkpoint: origin %s, size %d, root %v\n", origin, tree.N, tree.Hash)
	check("the note with a signature byte changed is refused", func() error {
		bad := append([]byte(nil), cp...)
		bad[len(bad)-10] ^= 1
		if _, err := note.Open(bad, verifiers); err == nil {
			return errors.New("accepted")
		}
		return nil
	}())

	if err := fetchLeaves(tree.N); err != nil {
		fatal("GET /v1/entries/{i} (msgpack)", err)
	}
	check(fmt.Sprintf("tree hash of the %d leaves (tlog.RecordHash, StoredHashes, TreeHash) equals the note's root", tree.N), func() error {
		r, err := tlog.TreeHash(tree.N, hashReader)
		if err == nil && r != tree.Hash {
			err = fmt.Errorf("recomputed %v", r)
		}
		return err
	}())
	check(fmt.Sprintf("inclusion proofs of all %d leaves pass tlog.CheckRecord (tampered ones fail)", tree.N), func() error {
		for i := int64(0); i < tree.N; i++ {
			if err := inclusion(i, tree.N, tree.Hash); err != nil {
				return err
			}
		}
		return nil
	}())
	sizes := []int64{1, 2, 3, tree.N / 2, tree.N - 1, tree.N}
	for i := int64(0); i < tree.N; i++ {
		if e, err := parseEntry(leaves[i]); err == nil && e.typ == "seal" {
			sizes = append(sizes, i+1) // every earlier checkpoint size
		}
	}
	check(fmt.Sprintf("consistency proofs from %d earlier sizes pass tlog.CheckTree", len(sizes)), func() error {
		for _, m := range sizes {
			if m < 1 || m > tree.N {
				continue
			}
			if err := consistency(m, tree.N, tree.Hash); err != nil {
				return err
			}
		}
		return nil
	}())
	if *oldNotes != "" {
		for _, f := range strings.Split(*oldNotes, ",") {
			text, err := os.ReadFile(f)
			if err != nil {
				check("earlier note "+f, err)
				continue
			}
			check("earlier checkpoint "+f+" verifies and is consistent with the latest (tlog.CheckTree)", func() error {
				old, err := openNote(text, origin, st.CosignQuorum)
				if err != nil {
					return err
				}
				r, err := tlog.TreeHash(old.N, hashReader)
				if err != nil {
					return err
				}
				if r != old.Hash {
					return errors.New("its root is not the tree hash of the leaves")
				}
				return consistency(old.N, tree.N, tree.Hash)
			}())
		}
	}

	b, err := get("/v1/accounts/"+*account+"/bundle", "application/msgpack")
	if !check("GET /v1/accounts/{id}/bundle", err) {
		os.Exit(1)
	}
	checkBundle(b, origin, st.CosignQuorum, tree.N, tree.Hash, acct)

	if failed > 0 {
		fmt.Printf("verify: %d check(s) failed\n", failed)
		os.Exit(1)
	}
}
