package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Words splits text into lower-case words of letters and digits. It is the
// one tokenizer used for hashing and fingerprints, so that formatting
// differences (punctuation, case, spacing) never change identity.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// ContentHash returns a hex SHA-256 of the normalized title and text.
func ContentHash(title, text string) string {
	h := sha256.New()
	h.Write([]byte(strings.Join(Words(title), " ")))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(Words(text), " ")))
	return hex.EncodeToString(h.Sum(nil))
}

// ArticleID returns a stable article ID from the first non-empty identity:
// canonical URL, else source-scoped GUID, else content hash.
func ArticleID(canonicalURL, sourceURL, guid, contentHash string) string {
	var key string
	switch {
	case canonicalURL != "":
		key = "url:" + canonicalURL
	case guid != "":
		key = "guid:" + sourceURL + "\x00" + guid
	default:
		key = "hash:" + contentHash
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:10])
}

// MinSignatureWords is the fewest words a text needs for its signature to
// be meaningful; shorter texts get no signature and are never
// near-duplicates of anything.
const MinSignatureWords = 30

// NearDuplicateSimilarity is the smallest estimated Jaccard similarity of
// two texts' word 3-grams that counts as the same text lightly edited (a
// wire copy re-published with a new headline, a trimmed paragraph, a
// changed word). Different articles about the same event score far lower.
const NearDuplicateSimilarity = 0.5

// Signature sizes: SignatureBands bands of SignatureRows MinHash values.
// Texts with similarity 0.5 share a band with probability 0.64, at 0.7
// with 0.98, at 0.2 with 0.03.
const (
	SignatureBands = 16
	SignatureRows  = 4
	signatureSize  = SignatureBands * SignatureRows
)

// Signature is a MinHash signature of a text's word 3-grams: similar texts
// have similar signatures. A nil Signature means the text was too short.
type Signature []uint32

// Sign returns the MinHash signature of text, or nil when the text has
// fewer than MinSignatureWords words.
func Sign(text string) Signature {
	words := Words(text)
	if len(words) < MinSignatureWords {
		return nil
	}
	sig := make(Signature, signatureSize)
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	h := fnv.New64a()
	for i := 0; i+3 <= len(words); i++ {
		h.Reset()
		for _, w := range words[i : i+3] {
			h.Write([]byte(w))
			h.Write([]byte{' '})
		}
		base := h.Sum64()
		for j := range sig {
			if v := uint32(mix64(base^seeds[j]) >> 32); v < sig[j] {
				sig[j] = v
			}
		}
	}
	return sig
}

// seeds make one hash function per signature slot out of one shingle hash.
var seeds = func() (s [signatureSize]uint64) {
	x := uint64(0x9e3779b97f4a7c15)
	for i := range s {
		x = mix64(x + uint64(i))
		s[i] = x
	}
	return s
}()

// mix64 is the splitmix64 finalizer: a fast, well-spread 64-bit mix.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Similarity estimates the Jaccard similarity of the two signed texts'
// word 3-grams, from 0 to 1; it is 0 when either has no signature.
func (s Signature) Similarity(o Signature) float64 {
	if len(s) != signatureSize || len(o) != signatureSize {
		return 0
	}
	same := 0
	for i := range s {
		if s[i] == o[i] {
			same++
		}
	}
	return float64(same) / signatureSize
}

// IsNearDuplicate reports whether two signed texts are near-duplicates.
func IsNearDuplicate(a, b Signature) bool {
	return a.Similarity(b) >= NearDuplicateSimilarity
}

// BandKeys returns one key per band: the band number in the high 32 bits
// and a hash of its rows in the low 32. Two texts are near-duplicate
// candidates when they share a key, so an index on keys finds them. It
// returns nil for a nil signature.
func (s Signature) BandKeys() []int64 {
	if len(s) != signatureSize {
		return nil
	}
	keys := make([]int64, SignatureBands)
	for b := range keys {
		x := uint64(b)
		for _, v := range s[b*SignatureRows : (b+1)*SignatureRows] {
			x = mix64(x ^ uint64(v))
		}
		keys[b] = int64(uint64(b)<<32 | x&math.MaxUint32)
	}
	return keys
}
