// tlogcheck: checks a dauys transparency log with Go's own sumdb code
// (golang.org/x/mod/sumdb/tlog and sumdb/note), not with dauys's.
//
// It reads what a node (or a static mirror) serves: the checkpoint, hash
// tiles, entry bundles, and receipts from /v1/proof, and checks that
//
//   - the checkpoint opens with note.NewVerifier of the log's verifier key;
//   - each witness cosignature (C2SP tlog-cosignature, type 0x04, which this
//     version of sumdb/note does not know) verifies with crypto/ed25519 over
//     the cosignature/v1 message;
//   - tlog.TileHashReader over the served tiles reproduces the root;
//   - for random entries, the entry in its bundle hashes to the stored leaf
//     hash, tlog.ProveRecord from tiles passes tlog.CheckRecord, and so does
//     the node's own receipt for it (C2SP tlog-proof);
//   - tlog.CheckTree accepts a consistency proof (tlog.ProveTree from the
//     tiles) from an older checkpoint to the newer one, and the older root is
//     reproduced from the narrower partial tiles still served.
//
// Known differences of this Go version, handled here and not in the log:
// tlog.TreeHash(0) is the zero hash where RFC 6962 (and C2SP) say
// SHA-256(""); sumdb tile paths carry the height (tile/8/L/N) where C2SP
// tlog-tiles has none (tile/L/N) and calls data tiles "entries" (the Go
// "data" tiles hold the records themselves, C2SP entry bundles prefix each
// entry with a big-endian u16 length).
//
// Usage (GOPATH mode, with Debian's golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run tests/interop/tlogcheck.go \
//	    -url http://127.0.0.1:8080 [-tiles URL] -log-key VKEY [-witness VKEY] \
//	    [-old CHECKPOINT_FILE] [-receipts] [-samples 32]
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

var failures int

func ok(format string, args ...interface{}) { fmt.Printf("ok: "+format+"\n", args...) }

func fail(format string, args ...interface{}) {
	failures++
	fmt.Printf("FAIL: "+format+"\n", args...)
}

func get(url string) ([]byte, error) {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// c2spPath maps a sumdb tile to its C2SP tlog-tiles path.
func c2spPath(t tlog.Tile) string {
	rest := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
	if strings.HasPrefix(rest, "data/") {
		rest = "entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type tileReader struct {
	base    string
	fetched int
}

func (r *tileReader) Height() int { return height }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := get(r.base + "/" + c2spPath(t))
		if err != nil {
			return nil, err
		}
		r.fetched++
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
	note   *note.Note
}

func openCheckpoint(msg []byte, log note.Verifier) (*checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(log))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return nil, fmt.Errorf("checkpoint text is not three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("bad size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return nil, err
	}
	return &checkpoint{origin: lines[0], size: size, root: root, note: n}, nil
}

// treeHash is tlog.TreeHash with RFC 6962's empty tree.
func treeHash(n int64, r tlog.HashReader) (tlog.Hash, error) {
	if n == 0 {
		return tlog.Hash(sha256.Sum256(nil)), nil
	}
	return tlog.TreeHash(n, r)
}

// checkCosignature verifies a C2SP tlog-cosignature/v1 line by the witness
// with verifier key vkey (name+hex id+base64(0x04 || key)).
func checkCosignature(n *note.Note, vkey string) error {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return errors.New("malformed witness key")
	}
	name := parts[0]
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return errors.New("malformed witness key id")
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 33 || key[0] != 0x04 {
		return errors.New("the witness key is not an Ed25519 cosignature key (type 0x04)")
	}
	// The key id is SHA-256(name || "\n" || 0x04 || key)[:4].
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	if uint32(id) != binary.BigEndian.Uint32(h[:4]) {
		return errors.New("the witness key id does not match its name and key")
	}
	for _, sig := range n.UnverifiedSigs {
		if sig.Name != name || sig.Hash != uint32(id) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig.Base64)
		if err != nil || len(raw) != 4+8+64 {
			return errors.New("malformed cosignature")
		}
		timestamp := binary.BigEndian.Uint64(raw[4:12])
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", timestamp, n.Text)
		if !ed25519.Verify(ed25519.PublicKey(key[1:]), []byte(msg), raw[12:]) {
			return errors.New("the cosignature does not verify")
		}
		return nil
	}
	return errors.New("no cosignature by this witness")
}

// bundleEntries splits a C2SP entry bundle.
func bundleEntries(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("bundle ends inside a length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("bundle ends inside an entry")
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	return entries, nil
}

func readEntry(tiles *tileReader, size, index int64) ([]byte, error) {
	n := index / (1 << height)
	w := int64(1 << height)
	if (n+1)*w > size {
		w = size - n*w
	}
	t := tlog.Tile{H: height, L: -1, N: n, W: int(w)}
	data, err := tiles.ReadTiles([]tlog.Tile{t})
	if err != nil {
		return nil, err
	}
	entries, err := bundleEntries(data[0])
	if err != nil {
		return nil, err
	}
	if int64(len(entries)) != w {
		return nil, fmt.Errorf("bundle %s holds %d entries, not %d", c2spPath(t), len(entries), w)
	}
	return entries[index%(1<<height)], nil
}

// checkReceipt checks the node's C2SP tlog-proof for entry index.
func checkReceipt(url string, index int64, log note.Verifier) error {
	body, err := get(fmt.Sprintf("%s/v1/proof?index=%d", url, index))
	if err != nil {
		return err
	}
	head, noteText, found := strings.Cut(string(body), "\n\n")
	if !found {
		return errors.New("no blank line")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") {
		return errors.New("not a c2sp.org/tlog-proof@v1 with extra data")
	}
	entry, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	if err != nil {
		return err
	}
	if lines[2] != fmt.Sprintf("index %d", index) {
		return fmt.Errorf("index line %q", lines[2])
	}
	var proof tlog.RecordProof
	for _, line := range lines[3:] {
		h, err := tlog.ParseHash(line)
		if err != nil {
			return err
		}
		proof = append(proof, h)
	}
	c, err := openCheckpoint([]byte(noteText), log)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(proof, c.size, c.root, index, tlog.RecordHash(entry))
}

func main() {
	url := flag.String("url", "", "node URL (receipts at /v1/proof)")
	tilesURL := flag.String("tiles", "", "tile prefix (default URL/tlog)")
	logKey := flag.String("log-key", "", "the log's verifier key")
	witness := flag.String("witness", "", "a witness's verifier key (type 0x04)")
	oldFile := flag.String("old", "", "an older checkpoint of the same log, to check consistency")
	receipts := flag.Bool("receipts", true, "check the node's receipts (off for a static mirror)")
	samples := flag.Int("samples", 32, "random entries to prove")
	flag.Parse()
	if *tilesURL == "" {
		*tilesURL = strings.TrimSuffix(*url, "/") + "/tlog"
	}
	verifier, err := note.NewVerifier(*logKey)
	if err != nil {
		fmt.Println("FAIL: note.NewVerifier:", err)
		os.Exit(1)
	}
	tiles := &tileReader{base: strings.TrimSuffix(*tilesURL, "/")}
	msg, err := get(tiles.base + "/checkpoint")
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	c, err := openCheckpoint(msg, verifier)
	if err != nil {
		fmt.Println("FAIL: note.Open of the checkpoint:", err)
		os.Exit(1)
	}
	ok("checkpoint %s, %d entries, opens with note.NewVerifier of the log key", c.origin, c.size)
	if c.origin != verifier.Name() {
		fail("the checkpoint's origin %q is not the key name %q", c.origin, verifier.Name())
	}
	if *witness != "" {
		if err := checkCosignature(c.note, *witness); err != nil {
			fail("witness cosignature: %v", err)
		} else {
			ok("the witness's cosignature (cosignature/v1) verifies with crypto/ed25519")
		}
	}

	reader := tlog.TileHashReader(tlog.Tree{N: c.size, Hash: c.root}, tiles)
	root, err := treeHash(c.size, reader)
	if err != nil || root != c.root {
		fail("tlog.TreeHash over the served tiles: %v (root %v, checkpoint %v)", err, root, c.root)
	} else {
		ok("tlog.TileHashReader over the served tiles reproduces the root (%d tiles fetched)", tiles.fetched)
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	indexes := []int64{0, c.size - 1}
	for i := 0; i < *samples && c.size > 0; i++ {
		indexes = append(indexes, rng.Int63n(c.size))
	}
	records, nodeReceipts := 0, 0
	for _, index := range indexes {
		if index < 0 {
			continue
		}
		entry, err := readEntry(tiles, c.size, index)
		if err != nil {
			fail("entry %d from its bundle: %v", index, err)
			continue
		}
		leaf := tlog.RecordHash(entry)
		stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
		if err != nil || stored[0] != leaf {
			fail("entry %d: its bundle's bytes do not hash to the leaf in the tiles (%v)", index, err)
			continue
		}
		proof, err := tlog.ProveRecord(c.size, index, reader)
		if err == nil {
			err = tlog.CheckRecord(proof, c.size, c.root, index, leaf)
		}
		if err != nil {
			fail("entry %d: ProveRecord/CheckRecord: %v", index, err)
			continue
		}
		records++
		if *receipts {
			if err := checkReceipt(strings.TrimSuffix(*url, "/"), index, verifier); err != nil {
				fail("entry %d: the node's receipt: %v", index, err)
				continue
			}
			nodeReceipts++
		}
	}
	ok("tlog.CheckRecord accepts %d inclusion proofs built from tiles over bundle entries", records)
	if *receipts {
		ok("tlog.CheckRecord accepts the node's own receipts for %d entries", nodeReceipts)
	}

	if *oldFile != "" {
		msg, err := os.ReadFile(*oldFile)
		if err != nil {
			fail("%v", err)
		} else if old, err := openCheckpoint(msg, verifier); err != nil {
			fail("note.Open of the old checkpoint: %v", err)
		} else if old.size > c.size {
			fail("the old checkpoint (%d) is larger than the new (%d)", old.size, c.size)
		} else {
			proof, err := tlog.ProveTree(c.size, old.size, reader)
			if err == nil {
				err = tlog.CheckTree(proof, c.size, c.root, old.size, old.root)
			}
			if err != nil {
				fail("ProveTree/CheckTree %d -> %d: %v", old.size, c.size, err)
			} else {
				ok("tlog.CheckTree accepts consistency from %d to %d entries (%d hashes)", old.size, c.size, len(proof))
			}
			oldTiles := &tileReader{base: tiles.base}
			oldRoot, err := treeHash(old.size, tlog.TileHashReader(tlog.Tree{N: old.size, Hash: old.root}, oldTiles))
			if err != nil || oldRoot != old.root {
				fail("the old root from the tiles of its size: %v", err)
			} else {
				ok("the old checkpoint's root is reproduced from the tiles of its size (%d fetched)", oldTiles.fetched)
			}
		}
	}

	// A tampered checkpoint must not open.
	tampered := bytes.Replace(msg, []byte(fmt.Sprintf("\n%d\n", c.size)), []byte(fmt.Sprintf("\n%d\n", c.size+1)), 1)
	if _, err := openCheckpoint(tampered, verifier); err == nil {
		fail("a checkpoint with its size changed still opens")
	} else {
		ok("a checkpoint with its size changed does not open")
	}

	if failures > 0 {
		fmt.Printf("%d checks failed\n", failures)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}
