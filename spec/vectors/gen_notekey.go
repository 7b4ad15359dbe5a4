// gen_notekey checks the signed-note key strings of crypto.json with Go's
// golang.org/x/mod/sumdb/note, an implementation independent of credbank's
// and of gen_crypto.py, and writes notekey.json: for each key, the verifier
// and private key strings as Go makes them from the same seed.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run spec/vectors/gen_notekey.go
package main

import (
	"bytes"
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
	Seed string `json:"seed"`
	VKey string `json:"vkey"`
	SKey string `json:"skey"`
}

func main() {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	raw, err := os.ReadFile(filepath.Join(dir, "crypto.json"))
	if err != nil {
		panic(err)
	}
	var in struct {
		Keys []key `json:"keys"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		panic(err)
	}
	var out []key
	for _, k := range in.Keys {
		seed, _ := hex.DecodeString(k.Seed)
		// GenerateKey reads its 32-byte seed from the reader.
		skey, vkey, err := note.GenerateKey(bytes.NewReader(seed), k.Name)
		if err != nil {
			panic(err)
		}
		if vkey != k.VKey || skey != k.SKey {
			fmt.Fprintf(os.Stderr, "mismatch for %s:\n go %s\n py %s\n", k.Name, vkey, k.VKey)
			os.Exit(1)
		}
		if _, err := note.NewVerifier(vkey); err != nil {
			panic(err)
		}
		out = append(out, key{k.Name, k.Seed, vkey, skey})
	}
	b, _ := json.MarshalIndent(map[string]interface{}{
		"generator": "spec/vectors/gen_notekey.go (golang.org/x/mod/sumdb/note)",
		"keys":      out,
	}, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "notekey.json"), append(b, '\n'), 0644); err != nil {
		panic(err)
	}
	fmt.Println("wrote notekey.json; Go agrees with gen_crypto.py on", len(out), "keys")
}
