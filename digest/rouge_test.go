package digest

import (
	"math"
	"testing"
)

func TestRouge(t *testing.T) {
	// Hand-computed scores. "the cat sat on the mat" against "the cat lay
	// on the mat":
	//   unigrams: candidate {the:2 cat sat on mat}, reference {the:2 cat
	//   lay on mat}; overlap the:2 + cat + on + mat = 5 of 6 each way,
	//   p = r = f = 5/6.
	//   bigrams: candidate "the cat", "cat sat", "sat on", "on the", "the
	//   mat"; reference "the cat", "cat lay", "lay on", "on the", "the
	//   mat"; overlap 3 of 5, p = r = f = 0.6.
	//   LCS: the cat on the mat = 5 of 6, p = r = f = 5/6.
	// "police killed the gunman" against "the gunman was killed by
	// police" (the ROUGE paper's example):
	//   unigrams: overlap police, killed, the, gunman = 4; p = 4/4,
	//   r = 4/6, f = 2·1·(2/3)/(1+2/3) = 0.8.
	//   bigrams: candidate "police killed", "killed the", "the gunman";
	//   only "the gunman" matches: p = 1/3, r = 1/5, f = 0.25.
	//   LCS: "the gunman" (or "killed ... police" orders cannot both
	//   hold) = 2; p = 2/4, r = 2/6, f = 0.4.
	tests := []struct {
		name      string
		cand, ref string
		n         int // 0 means ROUGE-L
		p, r, f   float64
	}{
		{"rouge-1 one word changed", "The cat sat on the mat.", "the cat lay on the mat", 1, 5.0 / 6, 5.0 / 6, 5.0 / 6},
		{"rouge-2 one word changed", "The cat sat on the mat.", "the cat lay on the mat", 2, 0.6, 0.6, 0.6},
		{"rouge-l one word changed", "The cat sat on the mat.", "the cat lay on the mat", 0, 5.0 / 6, 5.0 / 6, 5.0 / 6},
		{"rouge-1 reordered", "police killed the gunman", "the gunman was killed by police", 1, 1, 2.0 / 3, 0.8},
		{"rouge-2 reordered", "police killed the gunman", "the gunman was killed by police", 2, 1.0 / 3, 0.2, 0.25},
		{"rouge-l reordered", "police killed the gunman", "the gunman was killed by police", 0, 0.5, 1.0 / 3, 0.4},
		{"rouge-1 clipped counts", "the the the the", "the cat", 1, 0.25, 0.5, 1.0 / 3},
		{"rouge-1 identical", "Envoys met in Geneva.", "envoys met in geneva", 1, 1, 1, 1},
		{"rouge-2 too short", "Envoys", "envoys met", 2, 0, 0, 0},
		{"rouge-1 empty candidate", "", "envoys met", 1, 0, 0, 0},
		{"rouge-l empty reference", "envoys met", "", 0, 0, 0, 0},
		{"rouge-1 disjoint", "alpha beta", "gamma delta", 1, 0, 0, 0},
		{"rouge-0 is nothing", "alpha beta", "alpha beta", -1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p, r, f float64
			switch tt.n {
			case 0:
				p, r, f = RougeL(tt.cand, tt.ref)
			case -1:
				p, r, f = RougeN(tt.cand, tt.ref, 0)
			default:
				p, r, f = RougeN(tt.cand, tt.ref, tt.n)
			}
			const eps = 1e-9
			if math.Abs(p-tt.p) > eps || math.Abs(r-tt.r) > eps || math.Abs(f-tt.f) > eps {
				t.Errorf("got p=%.4f r=%.4f f=%.4f, want p=%.4f r=%.4f f=%.4f", p, r, f, tt.p, tt.r, tt.f)
			}
		})
	}
}
