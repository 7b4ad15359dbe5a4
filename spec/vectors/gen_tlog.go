// gen_tlog writes spec/vectors/tlog.json: RFC 6962 / RFC 9162 leaf hashes,
// tree hashes, inclusion proofs and consistency proofs, and the stored-hash
// numbering of the log's LMDB layout, all made by Go's
// golang.org/x/mod/sumdb/tlog -- an implementation independent of
// credbank's (crypto/merkle.c, ledger/log.c).
//
// Run (Debian golang-go and golang-golang-x-mod-dev, GOPATH mode, no
// network):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run spec/vectors/gen_tlog.go > spec/vectors/tlog.json
//
// The output is deterministic. Leaves are the ASCII text "leaf-<i>" except
// a few binary ones (see binaryLeaf), all listed in hex in "leaves".
// Every emitted proof is checked with tlog.CheckRecord / tlog.CheckTree, and
// every tree hash and proof is computed twice -- from the stored hashes and
// through tlog's tile reader (TileHashReader, ReadTileData, HashFromTile) --
// before it is written.
//
// JSON fields:
//
//	leaves         hex of every leaf, index order
//	leaf_hashes    tlog.RecordHash(leaf) = SHA-256(0x00 || leaf), hex
//	empty_root     SHA-256 of nothing (RFC 9162 MTH of the empty tree; from
//	               crypto/sha256, since tlog does not define size 0)
//	roots          tree hash of the first n leaves for every n >= 1, index
//	               n-1
//	stored_hashes  tlog's stored hashes of the first stored_leaves leaves,
//	               in stored-hash number order
//	stored_index   [level, n, tlog.StoredHashIndex(level, n)] triples
//	inclusion      {index, size, proof}: tlog.ProveRecord(size, index)
//	consistency    {from, to, proof}: tlog.ProveTree(to, from)
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

const (
	numLeaves    = 1100
	storedLeaves = 70
	tileHeight   = 3
)

// binaryLeaf gives the leaves that are not "leaf-<i>": the empty leaf, all
// byte values, bytes that look like a node hash's input (0x01 || 64 bytes)
// and like a leaf hash's (0x00 ...), an embedded NUL, a large leaf.
func binaryLeaf(i int64) ([]byte, bool) {
	switch i {
	case 5:
		return []byte{}, true
	case 13:
		b := make([]byte, 256)
		for k := range b {
			b[k] = byte(k)
		}
		return b, true
	case 64:
		return append([]byte{0x01}, bytes.Repeat([]byte{0xab}, 64)...), true
	case 100:
		return []byte{0x00}, true
	case 200:
		return []byte("leaf\x00-200"), true
	case 1024:
		return bytes.Repeat([]byte{0xff, 0x00, 0x5a}, 700), true
	}
	return nil, false
}

func leaf(i int64) []byte {
	if b, ok := binaryLeaf(i); ok {
		return b
	}
	return []byte(fmt.Sprintf("leaf-%d", i))
}

type hashes []tlog.Hash

func (h hashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

// tiles serves tlog tiles of tileHeight cut from the stored hashes.
type tiles struct{ stored hashes }

func (t tiles) Height() int { return tileHeight }

func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		data, err := tlog.ReadTileData(tile, t.stored)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

type inclusion struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Proof []string `json:"proof"`
}

type consistency struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof"`
}

type out struct {
	Generator    string        `json:"generator"`
	Leaves       []string      `json:"leaves"`
	LeafHashes   []string      `json:"leaf_hashes"`
	EmptyRoot    string        `json:"empty_root"`
	Roots        []string      `json:"roots"`
	StoredLeaves int64         `json:"stored_leaves"`
	Stored       []string      `json:"stored_hashes"`
	StoredIndex  [][3]int64    `json:"stored_index"`
	Inclusion    []inclusion   `json:"inclusion"`
	Consistency  []consistency `json:"consistency"`
}

func hx(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

func hxs(p []tlog.Hash) []string {
	s := []string{}
	for _, h := range p {
		s = append(s, hx(h))
	}
	return s
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func same(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sizes proofs are made for: every size up to 70, then sizes around powers
// of two and a few others.
func proofSizes() []int64 {
	s := []int64{}
	for n := int64(1); n <= 70; n++ {
		s = append(s, n)
	}
	return append(s, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000,
		1023, 1024, 1025, 1099, 1100)
}

// picked thins the pairs out to keep the file small: every value up to
// size 32, then every step-th (every 61st above size 100, a prime so that
// the picks fall at every alignment), the first two and the last two.
func picked(v, n, step int64) bool {
	if n > 100 {
		step = 61
	}
	return n <= 32 || v%step == 0 || v <= 1 || v >= n-2
}

func main() {
	var stored hashes
	o := out{
		Generator:    "spec/vectors/gen_tlog.go (golang.org/x/mod/sumdb/tlog)",
		StoredLeaves: storedLeaves,
	}
	for i := int64(0); i < numLeaves; i++ {
		data := leaf(i)
		hs, err := tlog.StoredHashes(i, data, stored)
		must(err)
		stored = append(stored, hs...)
		if int64(len(stored)) != tlog.StoredHashCount(i+1) {
			panic("stored hash count")
		}
		o.Leaves = append(o.Leaves, hex.EncodeToString(data))
		o.LeafHashes = append(o.LeafHashes, hx(tlog.RecordHash(data)))
	}
	empty := sha256.Sum256(nil)
	o.EmptyRoot = hex.EncodeToString(empty[:])
	o.Stored = hxs(stored[:tlog.StoredHashCount(storedLeaves)])
	for level := 0; level <= 12; level++ {
		for n := int64(0); n <= 24; n++ {
			o.StoredIndex = append(o.StoredIndex,
				[3]int64{int64(level), n, tlog.StoredHashIndex(level, n)})
		}
	}
	o.StoredIndex = append(o.StoredIndex,
		[3]int64{0, 1000000, tlog.StoredHashIndex(0, 1000000)},
		[3]int64{7, 123456, tlog.StoredHashIndex(7, 123456)},
		[3]int64{20, 3, tlog.StoredHashIndex(20, 3)})

	roots := make([]tlog.Hash, numLeaves+1)
	for n := int64(1); n <= numLeaves; n++ {
		h, err := tlog.TreeHash(n, stored)
		must(err)
		// through the tiles too (the tile reader checks each tile
		// against the tree it is given, so give it a wrong one first)
		thr := tlog.TileHashReader(tlog.Tree{N: n, Hash: tlog.Hash{1}},
			tiles{stored})
		if _, err := tlog.TreeHash(n, thr); err == nil && n > 1 {
			panic("tile reader accepted a wrong tree")
		}
		thr = tlog.TileHashReader(tlog.Tree{N: n, Hash: h}, tiles{stored})
		th, err := tlog.TreeHash(n, thr)
		must(err)
		if th != h {
			panic("tile tree hash")
		}
		roots[n] = h
		o.Roots = append(o.Roots, hx(h))
	}

	for _, n := range proofSizes() {
		// The same tree through tlog's tiles: proofs must agree.
		thr := tlog.TileHashReader(tlog.Tree{N: n, Hash: roots[n]},
			tiles{stored})
		for i := int64(0); i < n; i++ {
			if !picked(i, n, 9) {
				continue
			}
			p, err := tlog.ProveRecord(n, i, stored)
			must(err)
			pt, err := tlog.ProveRecord(n, i, thr)
			must(err)
			if !same(p, pt) {
				panic("tile record proof")
			}
			must(tlog.CheckRecord(p, n, roots[n], i, tlog.RecordHash(leaf(i))))
			o.Inclusion = append(o.Inclusion, inclusion{i, n, hxs(p)})
		}
		for m := int64(1); m <= n; m++ {
			if !picked(m, n, 7) {
				continue
			}
			p, err := tlog.ProveTree(n, m, stored)
			must(err)
			pt, err := tlog.ProveTree(n, m, thr)
			must(err)
			if !same(p, pt) {
				panic("tile tree proof")
			}
			must(tlog.CheckTree(p, n, roots[n], m, roots[m]))
			o.Consistency = append(o.Consistency, consistency{m, n, hxs(p)})
		}
	}

	// HashFromTile: every stored hash of the first leaves, read back out of
	// the tiles that hold it, is the stored one.
	for idx := int64(0); idx < tlog.StoredHashCount(storedLeaves); idx++ {
		t := tlog.TileForIndex(tileHeight, idx)
		data, err := tlog.ReadTileData(t, stored)
		must(err)
		h, err := tlog.HashFromTile(t, data, idx)
		must(err)
		if h != stored[idx] {
			panic("HashFromTile")
		}
	}

	enc := json.NewEncoder(os.Stdout)
	must(enc.Encode(o))
}
