package org.eoffice.analysis;

import java.io.IOException;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Latin letters find Hindi: each word, Devanagari or Latin, becomes the same rough Latin
 * "consonant key", so that प्रशिक्षण and prashikshan are both "prsksn", पेंशन and pension both
 * "pnsn". Hindi typed in Latin letters has no standard spelling: vowel length, the final
 * schwa, aspiration, sh/s, z/j, ph/f and an anusvara typed as n or m all vary from writer to
 * writer, so the key keeps only what they agree on: the consonants in order, a word's first
 * vowel, and ऋ/ृ as r. It matches loosely by design; queries rank such matches below the
 * words themselves. Expects lower case, after eoffice_hindi_normalization.
 */
@NamedComponent("eoffice_latin_key")
public class LatinKey implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new Filter(input);
    }

    static final class Filter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);

        Filter(TokenStream input) {
            super(input);
        }

        @Override
        public boolean incrementToken() throws IOException {
            if (!input.incrementToken()) {
                return false;
            }
            String key = key(term.toString());
            if (!key.isEmpty()) {
                term.setEmpty().append(key);
            }
            return true;
        }
    }

    // Devanagari consonants U+0915..U+0939 in order; aspirates and retroflexes fold into their
    // plain Latin letter, as people type them.
    private static final String CONSONANTS = "kkggnccjjnttddnttddnnppbbmyrrlllvsssh";
    // Letters with a nukta, U+0958..U+095F: क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़.
    private static final String NUKTA_LETTERS = "kkgjddpy";
    // Latin letters an "h" after which only marks aspiration (and a doubled h).
    private static final String ASPIRATED = "kgcjtdpbsh";

    static String key(String word) {
        StringBuilder out = new StringBuilder(word.length());
        int n = word.length();
        for (int i = 0; i < n; i++) {
            char c = word.charAt(i);
            boolean initial = i == 0;
            if (c >= '\u0915' && c <= '\u0939') {
                out.append(CONSONANTS.charAt(c - '\u0915'));
            } else if (c >= '\u0958' && c <= '\u095F') {
                out.append(NUKTA_LETTERS.charAt(c - '\u0958'));
            } else if (c >= '\u0905' && c <= '\u0914') {
                // An independent vowel: kept at the start of a word, where writers type it too.
                if (c == '\u090B' || c == '\u0960') {
                    out.append('r');
                } else if (initial) {
                    out.append(initialVowel(c));
                }
            } else if (c == '\u0943' || c == '\u0944') {
                out.append('r'); // ृ, typed "ri" or "ru"
            } else if (c == '\u0901' || c == '\u0902') {
                out.append('n'); // chandrabindu, anusvara: typed n (or m, folded below)
            } else if (c >= '\u0966' && c <= '\u096F') {
                out.append((char) ('0' + (c - '\u0966')));
            } else if (c >= '\u0900' && c <= '\u097F') {
                // vowel signs, virama, nukta, visarga: writers disagree, so they do not count
            } else if (c >= 'a' && c <= 'z') {
                latin(word, i, out);
            } else {
                out.append(c);
            }
        }
        return collapse(out);
    }

    private static char initialVowel(char c) {
        switch (c) {
            case '\u0907': case '\u0908': return 'i';
            case '\u0909': case '\u090A': return 'u';
            case '\u090F': case '\u090E': case '\u090D': return 'e';
            case '\u0913': case '\u0912': case '\u0911': return 'o';
            default: return 'a'; // अ आ ऐ औ
        }
    }

    private static void latin(String word, int i, StringBuilder out) {
        char c = word.charAt(i);
        char prev = i > 0 ? word.charAt(i - 1) : 0;
        char next = i + 1 < word.length() ? word.charAt(i + 1) : 0;
        switch (c) {
            case 'a': case 'e': case 'i': case 'o': case 'u':
                if (i == 0) {
                    out.append(c);
                }
                return;
            case 'h':
                // kh, gh, ch, jh, th, dh, ph, bh, sh: the h is aspiration, never a letter of its own.
                if (ASPIRATED.indexOf(prev) < 0) {
                    out.append('h');
                }
                return;
            case 'm':
                out.append(next == 'b' || next == 'p' ? 'n' : 'm'); // sambandh = संबंध
                return;
            case 'x': out.append("ks"); return;
            case 'q': out.append('k'); return;
            case 'z': out.append('j'); return;
            case 'f': out.append('p'); return;
            case 'w': out.append('v'); return;
            default: out.append(c);
        }
    }

    private static String collapse(StringBuilder s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            // Doubled letters are one sound (tt, ss); doubled digits are two digits.
            if (out.length() == 0 || out.charAt(out.length() - 1) != c || Character.isDigit(c)) {
                out.append(c);
            }
        }
        return out.toString();
    }
}
