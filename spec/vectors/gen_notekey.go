// gen_notekey checks credbank's signed-note key strings against Go's
// golang.org/x/mod/sumdb/note, an implementation independent of credbank's
// and of gen_crypto.py, and writes notekey.json beside this file:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run spec/vectors/gen_notekey.go
//
// Run gen_crypto.py first: this program reads crypto.json. It writes
//
//   - keys: for each key of crypto.json, the verifier key Go builds from the
//     public key alone (note.NewEd25519VerifierKey), the verifier and private
//     key strings Go builds from the seed (note.GenerateKey reads its 32-byte
//     seed from the reader it is given, so it is deterministic here), and a
//     C2SP checkpoint signed by Go with that key (note.Sign), whose signature
//     line credbank must reproduce byte for byte;
//   - pk_vkeys: verifier keys for the public-key encodings of crypto.json's
//     pk_cases (small-order, non-canonical, mixed-order...), as Go writes
//     them; Go accepts every one of them, credbank only those cy_pk_check
//     accepts;
//   - vkey_cases, skey_cases: malformed or unusual key strings and Go's
//     verdict (note.NewVerifier / note.NewSigner: "ok" or Go's error).
//     credbank's own verdicts are in tests/unit/test_notekey.c; it is never
//     more lenient than Go.
//
// The program exits non-zero, writing nothing, if Go disagrees with
// crypto.json about any key string.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type pyKey struct {
	Name string `json:"name"`
	Seed string `json:"seed"`
	PK   string `json:"pk"`
	VKey string `json:"vkey"`
	SKey string `json:"skey"`
}

type pkCase struct {
	PK     string `json:"pk"`
	Accept bool   `json:"accept"`
	Why    string `json:"why"`
}

type outKey struct {
	Name       string `json:"name"`
	PK         string `json:"pk"`
	VKeyFromPK string `json:"vkey_from_pk"`
	VKey       string `json:"vkey"`
	SKey       string `json:"skey"`
	NoteText   string `json:"note_text"`
	Signed     string `json:"signed_note"`
}

type outPK struct {
	PK     string `json:"pk"`
	VKey   string `json:"vkey"`
	Accept bool   `json:"accept"`
	Why    string `json:"why"`
}

type verdict struct {
	ID  string `json:"id"`
	Key string `json:"key"`
	Go  string `json:"go"`
}

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gen_notekey: "+format+"\n", args...)
	os.Exit(1)
}

func goVerdict(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func main() {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	raw, err := os.ReadFile(filepath.Join(dir, "crypto.json"))
	if err != nil {
		die("%v", err)
	}
	var in struct {
		Keys    []pyKey  `json:"keys"`
		PKCases []pkCase `json:"pk_cases"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		die("crypto.json: %v", err)
	}

	var keys []outKey
	for _, k := range in.Keys {
		seed, _ := hex.DecodeString(k.Seed)
		pk, _ := hex.DecodeString(k.PK)
		fromPK, err := note.NewEd25519VerifierKey(k.Name, ed25519.PublicKey(pk))
		if err != nil {
			die("%s: %v", k.Name, err)
		}
		skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), k.Name)
		if err != nil {
			die("%s: %v", k.Name, err)
		}
		if fromPK != k.VKey || vkey != k.VKey || skey != k.SKey {
			die("mismatch for %s:\n go  %s\n go  %s\n py  %s\n go  %s\n py  %s",
				k.Name, fromPK, vkey, k.VKey, skey, k.SKey)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			die("%s: %v", k.Name, err)
		}
		verifier, err := note.NewVerifier(vkey)
		if err != nil {
			die("%s: %v", k.Name, err)
		}
		// A checkpoint body as DESIGN section 3.4 writes it.
		root := make([]byte, 32)
		copy(root, pk)
		text := fmt.Sprintf("credbank/0123456789abcdef\n%d\n%s\n",
			len(keys)+2, base64.StdEncoding.EncodeToString(root))
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			die("%s: %v", k.Name, err)
		}
		if _, err := note.Open(signed, note.VerifierList(verifier)); err != nil {
			die("%s: %v", k.Name, err)
		}
		keys = append(keys, outKey{k.Name, k.PK, fromPK, vkey, skey, text, string(signed)})
	}

	// Verifier keys for every public-key encoding of pk_cases: Go writes
	// (and reads) them all; it does not look at the point.
	var pks []outPK
	for i, c := range in.PKCases {
		pk, _ := hex.DecodeString(c.PK)
		name := fmt.Sprintf("pk-case-%d", i)
		vkey, err := note.NewEd25519VerifierKey(name, ed25519.PublicKey(pk))
		if err != nil {
			die("%s: %v", name, err)
		}
		if _, err := note.NewVerifier(vkey); err != nil {
			die("Go refuses %s: %v", vkey, err)
		}
		pks = append(pks, outPK{c.PK, vkey, c.Accept, c.Why})
	}

	// Malformed and unusual strings, all derived from the first key.
	k0 := in.Keys[0]
	seed0, _ := hex.DecodeString(k0.Seed)
	pk0, _ := hex.DecodeString(k0.PK)
	name0 := k0.Name
	parts := strings.SplitN(k0.VKey, "+", 3)
	hash0, b640 := parts[1], parts[2]
	sparts := strings.SplitN(k0.SKey, "+", 5)
	sb640 := sparts[4]
	b64 := func(b ...[]byte) string {
		return base64.StdEncoding.EncodeToString(bytes.Join(b, nil))
	}
	// The key hash as note.go's keyHash computes it, for strings whose
	// hash must be right so that only their other defect is tested.
	withHash := func(name string, key []byte) string {
		h := sha256.Sum256(append(append([]byte(name), '\n'), key...))
		return hex.EncodeToString(h[:4])
	}
	// base64(0x01 || 32 bytes) is 44 characters with neither padding nor
	// unused bits, so the only non-canonical spellings Go's StdEncoding
	// reads are ones with CR or LF inside (it skips them).
	alg2 := append([]byte{2}, pk0...)
	short := append([]byte{1}, pk0[:31]...)
	long := append(append([]byte{1}, pk0...), 0)
	vcases := []struct{ id, s string }{
		{"valid", k0.VKey},
		{"upper_hash", name0 + "+" + strings.ToUpper(hash0) + "+" + b640},
		{"wrong_hash", name0 + "+00000000+" + b640},
		{"hash_7_digits", name0 + "+" + hash0[:7] + "+" + b640},
		{"hash_9_digits", name0 + "+" + hash0 + "0+" + b640},
		{"hash_not_hex", name0 + "+" + hash0[:7] + "g+" + b640},
		{"hash_with_sign", name0 + "+-" + hash0[1:] + "+" + b640},
		{"empty_name", "+" + withHash("", append([]byte{1}, pk0...)) + "+" + b640},
		{"name_with_space", "a b+" + withHash("a b", append([]byte{1}, pk0...)) + "+" + b640},
		{"name_unicode", "은행+" + withHash("은행", append([]byte{1}, pk0...)) + "+" + b640},
		{"name_slash", "example.com/log+" + withHash("example.com/log", append([]byte{1}, pk0...)) + "+" + b640},
		{"name_65_chars", strings.Repeat("n", 65) + "+" + withHash(strings.Repeat("n", 65), append([]byte{1}, pk0...)) + "+" + b640},
		{"alg_2", name0 + "+" + withHash(name0, alg2) + "+" + b64(alg2)},
		{"key_31_bytes", name0 + "+" + withHash(name0, short) + "+" + b64(short)},
		{"key_33_bytes", name0 + "+" + withHash(name0, long) + "+" + b64(long)},
		{"key_empty", name0 + "+" + hash0 + "+"},
		{"b64_extra_padding", name0 + "+" + hash0 + "+" + b640 + "===="},
		{"b64_truncated", name0 + "+" + hash0 + "+" + b640[:40]},
		{"b64_newline_inside", name0 + "+" + hash0 + "+" + b640[:10] + "\n" + b640[10:]},
		{"b64_urlsafe", name0 + "+" + hash0 + "+" + strings.NewReplacer("+", "-", "/", "_").Replace(b640)},
		{"trailing_newline", k0.VKey + "\n"},
		{"trailing_space", k0.VKey + " "},
		{"missing_key", name0 + "+" + hash0},
		{"only_name", name0},
		{"empty", ""},
		{"private_key", k0.SKey},
	}
	var vv []verdict
	for _, c := range vcases {
		_, err := note.NewVerifier(c.s)
		vv = append(vv, verdict{c.id, c.s, goVerdict(err)})
	}

	salg2 := append([]byte{2}, seed0...)
	sshort := append([]byte{1}, seed0[:31]...)
	scases := []struct{ id, s string }{
		{"valid", k0.SKey},
		{"lower_prefix", "private+key+" + name0 + "+" + hash0 + "+" + sb640},
		{"no_prefix", name0 + "+" + hash0 + "+" + sb640},
		{"upper_hash", "PRIVATE+KEY+" + name0 + "+" + strings.ToUpper(hash0) + "+" + sb640},
		{"wrong_hash", "PRIVATE+KEY+" + name0 + "+00000000+" + sb640},
		{"other_name", "PRIVATE+KEY+" + in.Keys[1].Name + "+" + hash0 + "+" + sb640},
		{"alg_2", "PRIVATE+KEY+" + name0 + "+" + hash0 + "+" + b64(salg2)},
		{"seed_31_bytes", "PRIVATE+KEY+" + name0 + "+" + hash0 + "+" + b64(sshort)},
		{"b64_crlf_inside", "PRIVATE+KEY+" + name0 + "+" + hash0 + "+" + sb640[:20] + "\r\n" + sb640[20:]},
		{"b64_extra_padding", "PRIVATE+KEY+" + name0 + "+" + hash0 + "+" + sb640 + "===="},
		{"name_with_space", "PRIVATE+KEY+a b+" + hash0 + "+" + sb640},
		{"trailing_newline", k0.SKey + "\n"},
		{"verifier_key", k0.VKey},
		{"empty", ""},
	}
	var sv []verdict
	for _, c := range scases {
		_, err := note.NewSigner(c.s)
		sv = append(sv, verdict{c.id, c.s, goVerdict(err)})
	}

	b, err := json.MarshalIndent(map[string]interface{}{
		"generator":  "spec/vectors/gen_notekey.go (golang.org/x/mod/sumdb/note)",
		"keys":       keys,
		"pk_vkeys":   pks,
		"vkey_cases": vv,
		"skey_cases": sv,
	}, "", " ")
	if err != nil {
		die("%v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notekey.json"), append(b, '\n'), 0644); err != nil {
		die("%v", err)
	}
	fmt.Printf("wrote notekey.json: Go agrees with gen_crypto.py on %d keys; "+
		"%d key encodings, %d verifier and %d private key verdicts\n",
		len(keys), len(pks), len(vv), len(sv))
}
