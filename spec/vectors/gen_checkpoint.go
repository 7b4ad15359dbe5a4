// gen_checkpoint signs fixed checkpoint bodies (spec/checkpoints.md) with
// Go's golang.org/x/mod/sumdb/note, an implementation independent of
// credbank's, and writes checkpoint.json: the keys (seed, public key,
// verifier key string), the body, each signer's signature and the signed
// note text exactly as Go's note.Sign writes it. tests/unit/test_seal.c
// checks that credbank formats the same note byte for byte from the same
// body, names, keys and signatures, that its own Ed25519 signatures equal
// Go's (Ed25519 is deterministic), and that Go's signatures verify with
// cy_verify.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run spec/vectors/gen_checkpoint.go
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

	"golang.org/x/mod/sumdb/note"
)

type key struct {
	Name string `json:"name"`
	Seed string `json:"seed"` // hex, 32 bytes
	PK   string `json:"pk"`   // hex, 32 bytes
	VKey string `json:"vkey"` // signed-note verifier key string
	Sig  string `json:"sig"`  // hex, 64 bytes: Ed25519 over the body
}

type notecase struct {
	Signers []string `json:"signers"` // key names, in line order
	Note    string   `json:"note"`    // body, blank line, signature lines
}

func main() {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)

	origin := "credbank/0123456789abcdef"
	size := uint64(1234) // a seal at index 1233: the tree of 1234 leaves
	root := sha256.Sum256([]byte("credbank checkpoint vector root"))
	body := fmt.Sprintf("%s\n%d\n%s\n", origin, size,
		base64.StdEncoding.EncodeToString(root[:]))

	names := []string{"bank", "university"}
	var keys []key
	signers := map[string]note.Signer{}
	var verifiers []note.Verifier
	for _, name := range names {
		seed := sha256.Sum256([]byte("credbank checkpoint vector " + name))
		skey, vkey, err := note.GenerateKey(bytes.NewReader(seed[:]), name)
		if err != nil {
			panic(err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			panic(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			panic(err)
		}
		signers[name] = s
		verifiers = append(verifiers, v)
		priv := ed25519.NewKeyFromSeed(seed[:])
		pub := priv.Public().(ed25519.PublicKey)
		sig, err := s.Sign([]byte(body))
		if err != nil {
			panic(err)
		}
		if !ed25519.Verify(pub, []byte(body), sig) {
			panic("signer and crypto/ed25519 disagree")
		}
		keys = append(keys, key{name, hex.EncodeToString(seed[:]),
			hex.EncodeToString(pub), vkey, hex.EncodeToString(sig)})
	}

	var cases []notecase
	for _, order := range [][]string{{"bank", "university"}, {"university", "bank"}} {
		var ss []note.Signer
		for _, name := range order {
			ss = append(ss, signers[name])
		}
		msg, err := note.Sign(&note.Note{Text: body}, ss...)
		if err != nil {
			panic(err)
		}
		// A verifier knowing both keys accepts both signatures.
		n, err := note.Open(msg, note.VerifierList(verifiers...))
		if err != nil || len(n.Sigs) != 2 || n.Text != body {
			panic(fmt.Sprintf("note does not open: %v", err))
		}
		cases = append(cases, notecase{order, string(msg)})
	}

	b, _ := json.MarshalIndent(map[string]interface{}{
		"generator": "spec/vectors/gen_checkpoint.go (golang.org/x/mod/sumdb/note)",
		"origin":    origin,
		"size":      size,
		"root":      hex.EncodeToString(root[:]),
		"body":      body,
		"keys":      keys,
		"notes":     cases,
	}, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "checkpoint.json"), append(b, '\n'), 0644); err != nil {
		panic(err)
	}
	fmt.Println("wrote checkpoint.json:", len(keys), "keys,", len(cases), "notes")
}
