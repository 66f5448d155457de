// Command verify checks the interop vectors Micropay.Core.Interop writes (vectors.json) with an implementation that
// shares no code with the library: Go's golang.org/x/mod/sumdb/note (C2SP signed notes) and sumdb/tlog (RFC 6962
// Merkle trees, hashes and proofs), plus the standard library.
//
// What it checks, for every vector that must verify:
//   - the ledger's verifier key parses with note.NewVerifier, and note.NewEd25519VerifierKey writes it back identically;
//     the test signer key (PRIVATE+KEY+...) parses with note.NewSigner, and note.Sign of each checkpoint body writes
//     the ledger's signed note byte for byte;
//   - every signed note opens with note.Open and the ledger's key (a witness's extra cosignature line is ignored);
//     its body is a C2SP tlog-checkpoint (parsed strictly here: origin, decimal size without leading zeros, canonical
//     base64 of a 32-byte root, non-empty extension lines) whose origin is the key's name;
//   - the witness's cosignature (C2SP tlog-cosignature, cosignature/v1) verifies with crypto/ed25519;
//   - the leaves: Go hashes each (tlog.RecordHash, SHA-256(0x00 || data)) and builds its own tree (tlog.StoredHashes);
//     every signed root is tlog.TreeHash of its size;
//   - every receipt: the hash of its leaf bytes is its leaf hash, the leaf is that leaf of Go's tree, and
//     tlog.CheckRecord accepts its proof against the root of its own signed checkpoint; the proof is, byte for byte,
//     tlog.ProveRecord's;
//   - every inclusion and consistency proof: tlog.CheckRecord / tlog.CheckTree accept it (roots from the signed notes,
//     or from Go's own tree), and it equals tlog.ProveRecord / tlog.ProveTree byte for byte.
//
// Every vector that must fail must be rejected, and by the check its "fail_at" names.
//
// Usage (Go 1.19, GOPATH mode): GO111MODULE=off GOPATH=/usr/share/gocode go run verify.go <directory with vectors.json>
// Exits 0 only when every vector that must verify does and every vector that must fail does, at its check.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type vectors struct {
	Format       string `json:"format"`
	Vkey         string `json:"vkey"`
	Skey         string `json:"skey"`
	CosignerVkey string `json:"cosigner_vkey"`
	Leaves       []struct {
		Index int64  `json:"index"`
		Data  string `json:"data"`
	} `json:"leaves"`
	Notes       []noteVector        `json:"notes"`
	Receipts    []receiptVector     `json:"receipts"`
	Inclusion   []inclusionVector   `json:"inclusion"`
	Consistency []consistencyVector `json:"consistency"`
}

type expectation struct {
	Name   string `json:"name"`
	Expect string `json:"expect"`
	FailAt string `json:"fail_at"`
}

type noteVector struct {
	expectation
	Note        string `json:"note"`
	Size        *int64 `json:"size"`
	Root        string `json:"root"`
	Cosignature string `json:"cosignature"`
}

type receiptVector struct {
	expectation
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	LeafData  string   `json:"leaf_data"`
	LeafHash  string   `json:"leaf_hash"`
	Proof     []string `json:"proof"`
	Note      string   `json:"note"`
}

type inclusionVector struct {
	expectation
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	Proof     []string `json:"proof"`
}

type consistencyVector struct {
	expectation
	Size1 int64    `json:"size1"`
	Size2 int64    `json:"size2"`
	Note1 string   `json:"note1"`
	Note2 string   `json:"note2"`
	Proof []string `json:"proof"`
}

// A checkFailure is a vector rejected by one named check.
type checkFailure struct {
	at  string
	err error
}

func (f *checkFailure) Error() string { return f.at + ": " + f.err.Error() }

func fail(at string, format string, args ...interface{}) error {
	return &checkFailure{at, fmt.Errorf(format, args...)}
}

// The checkpoint body of a C2SP tlog-checkpoint.
type checkpoint struct {
	origin     string
	size       int64
	root       tlog.Hash
	extensions []string
}

type verifier struct {
	ledger   note.Verifier
	signer   note.Signer
	cosigner *cosignerKey
	leaves   [][]byte
	stored   []tlog.Hash
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run verify.go <directory with vectors.json>")
		os.Exit(2)
	}
	raw, err := os.ReadFile(filepath.Join(os.Args[1], "vectors.json"))
	if err != nil {
		fatal(err)
	}
	var v vectors
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		fatal(fmt.Errorf("vectors.json: %v", err))
	}
	if v.Format != "micropay-interop/1" {
		fatal(fmt.Errorf("vectors.json: unknown format %q", v.Format))
	}

	vf, err := newVerifier(&v)
	if err != nil {
		fatal(err)
	}

	var passed, rejected, unexpected int
	failedAt := map[string]int{}
	report := func(section string, e expectation, err error) {
		var at string
		if err != nil {
			var cf *checkFailure
			if errors.As(err, &cf) {
				at = cf.at
			} else {
				at = "?"
			}
		}
		switch {
		case e.Expect == "ok" && err == nil:
			passed++
		case e.Expect == "fail" && err != nil && at == e.FailAt:
			rejected++
			failedAt[at]++
			if os.Getenv("VERBOSE") != "" {
				fmt.Printf("rejected as expected: %s/%s: %v\n", section, e.Name, err)
			}
		case e.Expect == "ok":
			unexpected++
			fmt.Printf("FAIL %s/%s: must verify, but %v\n", section, e.Name, err)
		case err == nil:
			unexpected++
			fmt.Printf("FAIL %s/%s: must fail at %q, but verified\n", section, e.Name, e.FailAt)
		default:
			unexpected++
			fmt.Printf("FAIL %s/%s: must fail at %q, but failed at %v\n", section, e.Name, e.FailAt, err)
		}
	}

	for _, x := range v.Notes {
		report("notes", x.expectation, vf.checkNote(x))
	}
	for _, x := range v.Receipts {
		report("receipts", x.expectation, vf.checkReceipt(x))
	}
	for _, x := range v.Inclusion {
		report("inclusion", x.expectation, vf.checkInclusion(x))
	}
	for _, x := range v.Consistency {
		report("consistency", x.expectation, vf.checkConsistency(x))
	}

	fmt.Printf("Go x/mod sumdb/note + sumdb/tlog: %d leaves rebuilt; %d notes, %d receipts, %d inclusion proofs, %d consistency proofs\n",
		len(vf.leaves), len(v.Notes), len(v.Receipts), len(v.Inclusion), len(v.Consistency))
	fmt.Printf("rejected at: %s\n", formatCounts(failedAt))
	fmt.Printf("interop: %d verified, %d rejected as expected, %d unexpected\n", passed, rejected, unexpected)
	if unexpected != 0 || passed == 0 || rejected == 0 {
		os.Exit(1)
	}
}

func newVerifier(v *vectors) (*verifier, error) {
	ledger, err := note.NewVerifier(v.Vkey)
	if err != nil {
		return nil, fmt.Errorf("note.NewVerifier(%q): %v", v.Vkey, err)
	}

	// The key text is the one Go writes for the same name and public key.
	keyBytes, _ := base64.StdEncoding.DecodeString(v.Vkey[strings.LastIndex(v.Vkey, "+")+1:])
	again, err := note.NewEd25519VerifierKey(ledger.Name(), ed25519.PublicKey(keyBytes[1:]))
	if err != nil || again != v.Vkey {
		return nil, fmt.Errorf("note.NewEd25519VerifierKey gives %q, the ledger %q (%v)", again, v.Vkey, err)
	}

	signer, err := note.NewSigner(v.Skey)
	if err != nil {
		return nil, fmt.Errorf("note.NewSigner(the test key): %v", err)
	}
	if signer.Name() != ledger.Name() || signer.KeyHash() != ledger.KeyHash() {
		return nil, fmt.Errorf("the test signer key is %s+%08x, the verifier key %s+%08x", signer.Name(), signer.KeyHash(), ledger.Name(), ledger.KeyHash())
	}

	cosigner, err := parseCosignerKey(v.CosignerVkey)
	if err != nil {
		return nil, fmt.Errorf("cosigner key %q: %v", v.CosignerVkey, err)
	}

	vf := &verifier{ledger: ledger, signer: signer, cosigner: cosigner}
	for i, leaf := range v.Leaves {
		if leaf.Index != int64(i) {
			return nil, fmt.Errorf("leaf %d has index %d", i, leaf.Index)
		}
		data, err := hex.DecodeString(leaf.Data)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %v", i, err)
		}
		hashes, err := tlog.StoredHashes(int64(i), data, vf)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: tlog.StoredHashes: %v", i, err)
		}
		vf.leaves = append(vf.leaves, data)
		vf.stored = append(vf.stored, hashes...)
	}
	return vf, nil
}

// ReadHashes makes the verifier Go's own tree store (tlog.HashReader).
func (vf *verifier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(vf.stored)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = vf.stored[x]
	}
	return out, nil
}

// treeHash is the root of the first n leaves of Go's own tree.
func (vf *verifier) treeHash(n int64) (tlog.Hash, error) {
	if n < 1 || n > int64(len(vf.leaves)) {
		return tlog.Hash{}, fmt.Errorf("size %d is outside the %d leaves", n, len(vf.leaves))
	}
	return tlog.TreeHash(n, vf)
}

// openCheckpoint opens a signed note with the ledger's key and parses its checkpoint: the checks "open", "body", "origin".
func (vf *verifier) openCheckpoint(b64 string) (*note.Note, *checkpoint, error) {
	msg, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, fmt.Errorf("the note's base64: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(vf.ledger))
	if err != nil {
		return nil, nil, &checkFailure{"open", fmt.Errorf("note.Open: %v", err)}
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != vf.ledger.Name() || n.Sigs[0].Hash != vf.ledger.KeyHash() {
		return nil, nil, fail("open", "note.Open verified %d signatures", len(n.Sigs))
	}
	c, err := parseCheckpoint(n.Text)
	if err != nil {
		return nil, nil, &checkFailure{"body", err}
	}
	if c.origin != vf.ledger.Name() {
		return nil, nil, fail("origin", "the origin %q is not the key's name %q", c.origin, vf.ledger.Name())
	}
	return n, c, nil
}

// checkRoot: a signed root is the root of Go's own tree of that size (the check "tree").
func (vf *verifier) checkRoot(c *checkpoint) error {
	root, err := vf.treeHash(c.size)
	if err != nil {
		return fail("tree", "%v", err)
	}
	if root != c.root {
		return fail("tree", "the signed root of size %d is %v; Go's tree gives %v", c.size, c.root, root)
	}
	return nil
}

func (vf *verifier) checkNote(x noteVector) error {
	n, c, err := vf.openCheckpoint(x.Note)
	if err != nil {
		return err
	}
	if x.Size != nil && *x.Size != c.size {
		return fail("claims", "the note's size is %d; the vector says %d", c.size, *x.Size)
	}
	if x.Root != "" && x.Root != hex.EncodeToString(c.root[:]) {
		return fail("claims", "the note's root is %x; the vector says %s", c.root[:], x.Root)
	}

	if x.Cosignature != "" || x.FailAt == "cosignature" {
		// The witness's line is one note.Open did not know, and ignored; its cosignature is checked here.
		if len(n.UnverifiedSigs) != 1 {
			return fail("cosignature", "%d unverified signature lines; the witness's is one", len(n.UnverifiedSigs))
		}
		if err := vf.cosigner.verify(n); err != nil {
			return &checkFailure{"cosignature", err}
		}
	} else if len(n.UnverifiedSigs) != 0 {
		return fail("open", "%d unexpected unverified signature lines", len(n.UnverifiedSigs))
	}

	if err := vf.checkRoot(c); err != nil {
		return err
	}

	// Go signs the same body with the same (test) key into the same bytes: Ed25519 is deterministic.
	if len(n.UnverifiedSigs) == 0 {
		msg, _ := base64.StdEncoding.DecodeString(x.Note)
		signed, err := note.Sign(&note.Note{Text: n.Text}, vf.signer)
		if err != nil {
			return fail("sign", "note.Sign: %v", err)
		}
		if !bytes.Equal(signed, msg) {
			return fail("sign", "note.Sign writes\n%s\nthe ledger wrote\n%s", signed, msg)
		}
	}
	return nil
}

func (vf *verifier) checkReceipt(x receiptVector) error {
	_, c, err := vf.openCheckpoint(x.Note)
	if err != nil {
		return err
	}
	if c.size != x.TreeSize {
		return fail("claims", "the receipt's checkpoint has size %d; the vector says %d", c.size, x.TreeSize)
	}
	data, err := hex.DecodeString(x.LeafData)
	if err != nil {
		return fail("parse", "leaf data: %v", err)
	}
	claimed, err := parseHash(x.LeafHash)
	if err != nil {
		return fail("parse", "leaf hash: %v", err)
	}
	if h := tlog.RecordHash(data); h != claimed {
		return fail("leaf_hash", "tlog.RecordHash of the leaf is %v; the receipt says %v", h, claimed)
	}
	proof, err := parseHashes(x.Proof)
	if err != nil {
		return fail("parse", "proof: %v", err)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), c.size, c.root, x.LeafIndex, claimed); err != nil {
		return fail("proof", "tlog.CheckRecord(leaf %d, size %d): %v", x.LeafIndex, c.size, err)
	}

	// Past the proof: the receipt agrees with Go's own tree.
	if x.LeafIndex >= int64(len(vf.leaves)) || !bytes.Equal(data, vf.leaves[x.LeafIndex]) {
		return fail("tree", "the receipt's leaf is not leaf %d of the log", x.LeafIndex)
	}
	if err := vf.checkRoot(c); err != nil {
		return err
	}
	return vf.sameRecordProof(proof, c.size, x.LeafIndex)
}

func (vf *verifier) checkInclusion(x inclusionVector) error {
	root, err := vf.treeHash(x.TreeSize)
	if err != nil {
		return fail("tree", "%v", err)
	}
	if x.LeafIndex < 0 || x.LeafIndex >= int64(len(vf.leaves)) {
		return fail("parse", "no leaf %d", x.LeafIndex)
	}
	proof, err := parseHashes(x.Proof)
	if err != nil {
		return fail("parse", "proof: %v", err)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), x.TreeSize, root, x.LeafIndex, tlog.RecordHash(vf.leaves[x.LeafIndex])); err != nil {
		return fail("proof", "tlog.CheckRecord(leaf %d, size %d): %v", x.LeafIndex, x.TreeSize, err)
	}
	return vf.sameRecordProof(proof, x.TreeSize, x.LeafIndex)
}

func (vf *verifier) checkConsistency(x consistencyVector) error {
	var root1, root2 tlog.Hash
	if x.Note1 != "" || x.Note2 != "" {
		_, c1, err := vf.openCheckpoint(x.Note1)
		if err != nil {
			return err
		}
		_, c2, err := vf.openCheckpoint(x.Note2)
		if err != nil {
			return err
		}
		if c1.size != x.Size1 || c2.size != x.Size2 {
			return fail("claims", "the notes' sizes are %d and %d; the vector says %d and %d", c1.size, c2.size, x.Size1, x.Size2)
		}
		root1, root2 = c1.root, c2.root
	} else {
		var err1, err2 error
		root1, err1 = vf.treeHash(x.Size1)
		root2, err2 = vf.treeHash(x.Size2)
		if err1 != nil || err2 != nil {
			return fail("tree", "%v %v", err1, err2)
		}
	}
	proof, err := parseHashes(x.Proof)
	if err != nil {
		return fail("parse", "proof: %v", err)
	}

	// tlog.CheckTree takes the newer tree first: (proof, newer size, newer root, older size, older root).
	if err := tlog.CheckTree(tlog.TreeProof(proof), x.Size2, root2, x.Size1, root1); err != nil {
		return fail("proof", "tlog.CheckTree(%d -> %d): %v", x.Size1, x.Size2, err)
	}

	// Past the proof: the roots are Go's tree's, and the proof is the one Go writes.
	for _, s := range []struct {
		size int64
		root tlog.Hash
	}{{x.Size1, root1}, {x.Size2, root2}} {
		if err := vf.checkRoot(&checkpoint{size: s.size, root: s.root}); err != nil {
			return err
		}
	}
	want, err := tlog.ProveTree(x.Size2, x.Size1, vf)
	if err != nil {
		return fail("tree", "tlog.ProveTree: %v", err)
	}
	if !sameHashes(proof, want) {
		return fail("bytes", "the proof %d -> %d differs from tlog.ProveTree's", x.Size1, x.Size2)
	}
	return nil
}

func (vf *verifier) sameRecordProof(proof []tlog.Hash, size, index int64) error {
	want, err := tlog.ProveRecord(size, index, vf)
	if err != nil {
		return fail("tree", "tlog.ProveRecord: %v", err)
	}
	if !sameHashes(proof, want) {
		return fail("bytes", "the proof of leaf %d in size %d differs from tlog.ProveRecord's", index, size)
	}
	return nil
}

// parseCheckpoint reads a C2SP tlog-checkpoint body strictly: the origin line (non-empty), the tree size in ASCII
// decimal without leading zeros, the root hash in standard base64 of exactly 32 bytes, then optional non-empty
// extension lines; every line ends in a newline. Two rules are this verifier's, stricter than the specification's
// words: the size must fit an int64 (tlog's, and the library's, limit), and the root's base64 must be canonical (the
// only text that base64-encoding the hash gives, so no two bodies carry the same root).
func parseCheckpoint(text string) (*checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("the checkpoint does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("the checkpoint has %d lines; at least origin, size and root", len(lines))
	}
	for i, line := range lines {
		if line == "" {
			return nil, fmt.Errorf("line %d of the checkpoint is empty", i+1)
		}
	}
	size := lines[1]
	for _, r := range size {
		if r < '0' || r > '9' {
			return nil, fmt.Errorf("the size %q is not ASCII decimal", size)
		}
	}
	if len(size) > 1 && size[0] == '0' {
		return nil, fmt.Errorf("the size %q has a leading zero", size)
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("the size %q: %v", size, err)
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return nil, fmt.Errorf("the root %q is not the canonical base64 of %d bytes (%v)", lines[2], tlog.HashSize, err)
	}
	c := &checkpoint{origin: lines[0], size: n, extensions: lines[3:]}
	copy(c.root[:], root)
	return c, nil
}

// A C2SP tlog-cosignature verifier key for Ed25519 (cosignature/v1): name+hash+base64(0x04 || key), the hash being the
// first 4 bytes of SHA-256(name || "\n" || 0x04 || key).
type cosignerKey struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func parseCosignerKey(text string) (*cosignerKey, error) {
	parts := strings.SplitN(text, "+", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 {
		return nil, errors.New("not name+hash+base64")
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return nil, errors.New("the key is not 0x04 and 32 bytes")
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	if binary.BigEndian.Uint32(sum[:4]) != uint32(hash) {
		return nil, errors.New("the key hash does not match")
	}
	return &cosignerKey{name: parts[0], hash: uint32(hash), key: ed25519.PublicKey(raw[1:])}, nil
}

// verify checks the cosigner's line among the note's unverified ones: key id, 8-byte big-endian timestamp, Ed25519
// signature of "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body.
func (k *cosignerKey) verify(n *note.Note) error {
	for _, sig := range n.UnverifiedSigs {
		if sig.Name != k.name || sig.Hash != k.hash {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig.Base64)
		if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
			return errors.New("the cosignature is not key id, timestamp and signature")
		}
		timestamp := binary.BigEndian.Uint64(raw[4:12])
		if timestamp > 1<<63-1 {
			return fmt.Errorf("the cosignature's timestamp %d is over 2^63-1", timestamp)
		}
		msg := "cosignature/v1\ntime " + strconv.FormatUint(timestamp, 10) + "\n" + n.Text
		if !ed25519.Verify(k.key, []byte(msg), raw[12:]) {
			return fmt.Errorf("the cosignature of %s (time %d) does not verify", k.name, timestamp)
		}
		return nil
	}
	return fmt.Errorf("no line of %s+%08x", k.name, k.hash)
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%q is not a %d-byte hex hash", s, tlog.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func sameHashes(a, b []tlog.Hash) bool {
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

func formatCounts(m map[string]int) string {
	var keys []string
	for at := range m {
		keys = append(keys, at)
	}
	sort.Strings(keys)
	var parts []string
	for _, at := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", at, m[at]))
	}
	return strings.Join(parts, ", ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "verify:", err)
	os.Exit(1)
}
