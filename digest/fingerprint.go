package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math/bits"
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

// MinFingerprintWords is the fewest words a text needs for its fingerprint
// to be meaningful; shorter texts get fingerprint 0 and are never
// near-duplicates of anything.
const MinFingerprintWords = 40

// NearDuplicateDistance is the largest Hamming distance between two
// fingerprints that still counts as the same text lightly edited.
const NearDuplicateDistance = 3

// Fingerprint returns a 64-bit SimHash of the text over word 3-grams, or 0
// when the text has fewer than MinFingerprintWords words.
func Fingerprint(text string) uint64 {
	words := Words(text)
	if len(words) < MinFingerprintWords {
		return 0
	}
	var v [64]int
	h := fnv.New64a()
	for i := 0; i+3 <= len(words); i++ {
		h.Reset()
		for _, w := range words[i : i+3] {
			h.Write([]byte(w))
			h.Write([]byte{' '})
		}
		x := h.Sum64()
		for b := range 64 {
			if x&(1<<b) != 0 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	var fp uint64
	for b := range 64 {
		if v[b] > 0 {
			fp |= 1 << b
		}
	}
	if fp == 0 {
		fp = 1 // 0 means "no fingerprint"
	}
	return fp
}

// Distance returns the Hamming distance between two fingerprints.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// IsNearDuplicate reports whether two non-zero fingerprints are within
// NearDuplicateDistance of each other.
func IsNearDuplicate(a, b uint64) bool {
	return a != 0 && b != 0 && Distance(a, b) <= NearDuplicateDistance
}

// FingerprintBands splits a fingerprint into four 16-bit bands. Two
// fingerprints within distance 3 share at least one band exactly, so an
// index on the bands finds every near-duplicate candidate.
func FingerprintBands(fp uint64) [4]uint16 {
	return [4]uint16{uint16(fp), uint16(fp >> 16), uint16(fp >> 32), uint16(fp >> 48)}
}
