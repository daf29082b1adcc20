package digest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Skeleton returns s as a reader sees it, for matching hostile text: with
// invisible characters (format and control characters: zero-width
// spaces and joiners, bidirectional controls, soft hyphens) removed,
// full-width forms and letters that look like Latin ones (Cyrillic е,
// Greek ο, the small and full-width commercial at) mapped to ASCII, and
// in lower case. "@\u200beveryone", "@еveryone" (Cyrillic е) and
// "＠EVERYONE" all have the skeleton "@everyone". A skeleton is for
// comparison only, never for display.
func Skeleton(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		c := s[i]
		ascii = c < utf8.RuneSelf && (c >= ' ' || c == '\n' || c == '\t') && c != 0x7f
	}
	if ascii {
		return strings.ToLower(s) // most text: nothing to remove or map
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case unicode.Is(unicode.Cf, r), unicode.IsControl(r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		}
		if c, ok := skeletonMap[r]; ok {
			r = c
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// skeletonMap maps characters that look like ASCII ones to them: the
// Cyrillic and Greek letters of Unicode's confusables list that are
// indistinguishable from Latin letters in common fonts, and look-alikes
// of the at sign, dot and slash that mentions and addresses are made of.
var skeletonMap = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'і': 'i', 'ї': 'i', 'ј': 'j', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o',
	'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ո': 'n', 'ս': 'u',
	'А': 'a', 'В': 'b', 'Е': 'e', 'Ё': 'e', 'І': 'i', 'Ј': 'j', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p',
	'С': 'c', 'Т': 't', 'У': 'y', 'Х': 'x', 'Ѕ': 's', 'Һ': 'h',
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
	'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ζ': 'z', 'Η': 'h', 'Ι': 'i', 'Κ': 'k', 'Μ': 'm', 'Ν': 'n', 'Ο': 'o', 'Ρ': 'p',
	'Τ': 't', 'Υ': 'y', 'Χ': 'x',
	'﹫': '@', '＠': '@', '․': '.', '﹒': '.', '。': '.', '｡': '.', '⁄': '/', '∕': '/', '⧸': '/',
}

// Injected reports whether s reads as an instruction to a language model
// or a bot rather than as news: an order to ignore, disregard or override
// instructions, rules or prompts; talk of the system prompt or new
// instructions; a note addressed to AI summarizers or chatbots; role
// prompts ("You are now …", "As an AI, …"); chat-template tokens
// (<|im_start|>, [INST], <<SYS>>, "### Instruction:"); a line that
// starts with a role ("SYSTEM:", "assistant:"); or a forged fence of
// briefbot's prompts ("<<<end …"). It compares skeletons (see Skeleton),
// so invisible characters and look-alike letters do not hide an
// instruction.
//
// Such text is never part of a briefing: the sources package drops it
// from articles, the extractive summarizer never picks it, and a
// language model's reply that contains it is rejected. A news sentence
// that quotes an injection ("the page said 'ignore previous
// instructions'") is dropped too; that is the price of the guarantee.
func Injected(s string) bool {
	if s == "" {
		return false
	}
	sk := Skeleton(s)
	for _, w := range injectedWords {
		if strings.Contains(sk, w) {
			return injectedRE.MatchString(sk)
		}
	}
	return false
}

// injectedWords are words one of which every match of injectedRE
// contains; text without any is not matched against it.
var injectedWords = []string{"instruction", "prompt", "rule", "direction", "guideline", "directive", "guardrail",
	"system", "assistant", "developer", "note ", "message ", "you are", "as an ai", "do anything", "<|", "inst]", "<<", "##"}

// injectedRE matches the skeleton of an injected instruction.
var injectedRE = regexp.MustCompile(
	// "Ignore all previous instructions", "disregard your rules".
	`\b(?:ignore|disregard|forget|override|bypass)\b[^.;!?\n]{0,40}\b(?:previous|prior|above|earlier|preceding|all|your|these|system|safety)\b[^.;!?\n]{0,20}\b(?:instructions?|prompts?|rules|directions|guidelines|directives|guardrails)\b` +
		// Talk of prompts, and notes to the machine.
		`|\b(?:system|developer|hidden|secret|initial) prompts?\b|\bprompt (?:override|injection)\b|\bnew instructions\b` +
		`|\b(?:note|message|instructions?) (?:to|for) (?:the )?(?:ai|llms?|bots?|chatbots?|assistants?|language models?|summari[sz]ers?)\b` +
		// Role play.
		`|\bas an ai(?: language model| assistant| model)?,|\byou are now\b|\byou are (?:dan|chatgpt|an? (?:ai|assistant|language model))\b|\bdo anything now\b` +
		// Chat templates, roles and forged fences.
		`|<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?inst\]|<</?sys>>|(?:^|\n)\s*#{2,}\s*(?:instruction|system|response)\b` +
		`|(?:^|\n)\s*(?:[\[(](?:system|assistant|developer)[\])]|(?:system|assistant|developer)\s*:)|<<<\s*(?:end|article)\b`)
