//! Features of a command line or log line for the learned mapping model: hashed word, flag,
//! word-pair, character n-gram and shape features, each remembering the token it came from so the
//! model can point at the spans that drove its ranking.
//!
//! Hashing (FNV-1a, one namespace byte per feature kind) keeps the model a fixed-size table with no
//! vocabulary to ship, and lets unseen words still share character n-grams with seen ones
//! (`mimikatz` and `mimikatz64`, `-EncodedCommand` and `-enc`). Everything here is byte-level on
//! ASCII-lowercased text, so it never allocates per token and costs about a microsecond per 100
//! bytes of input.

/// How the text is cut and hashed. Part of a model's identity: a model only works with the
/// configuration it was trained with, so the configuration is stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeatureConfig {
    /// log2 of the number of hash buckets.
    pub bucket_bits: u32,
    /// Shortest and longest character n-gram taken from each token.
    pub ngram_min: usize,
    pub ngram_max: usize,
    /// Longest input considered, in bytes; the rest of a longer text is ignored (the tells of a
    /// command line are near its start, and this bounds the cost of a huge line).
    pub max_bytes: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig { bucket_bits: 18, ngram_min: 3, ngram_max: 5, max_bytes: 4096 }
    }
}

/// A token: a maximal run of word bytes, as a byte span of the (lowercased) text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
}

/// The features of one text: bucket ids with the token each came from, and the tokens.
#[derive(Debug, Default, Clone)]
pub struct Features {
    /// (bucket, token index). A bucket may repeat; the model counts each occurrence once.
    pub items: Vec<(u32, u32)>,
    pub tokens: Vec<Token>,
    /// The lowercased text the spans refer to (same byte offsets as the input: ASCII lowercasing
    /// keeps lengths).
    pub lower: String,
}

/// Bytes that belong to a token. `-`, `.`, `$`, `%` and `_` stay inside tokens because they carry
/// meaning in commands (`-enc`, `lsass.exe`, `admin$`, `%temp%`, `sam_dump`).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'$' | b'%' | b'_') || b >= 0x80
}

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over `bytes`, continuing from `h` (start with [`FNV_OFFSET`]).
#[inline]
pub(crate) fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Feature kinds, hashed in as a first byte so a word and a same-looking n-gram never collide by
/// construction.
mod kind {
    pub const WORD: u8 = 1;
    pub const STEM: u8 = 2;
    pub const FLAG: u8 = 3;
    pub const PAIR: u8 = 4;
    pub const NGRAM: u8 = 5;
    pub const SHAPE: u8 = 6;
    pub const BIAS: u8 = 7;
}

impl FeatureConfig {
    fn bucket(&self, h: u64) -> u32 {
        // Fold the high bits in: FNV's low bits are weak for short inputs.
        let h = h ^ (h >> 29) ^ (h >> 47);
        (h & ((1u64 << self.bucket_bits) - 1)) as u32
    }

    fn hash(&self, kind: u8, parts: &[&[u8]]) -> u32 {
        let mut h = fnv(FNV_OFFSET, &[kind]);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                h = fnv(h, b" ");
            }
            h = fnv(h, p);
        }
        self.bucket(h)
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        1usize << self.bucket_bits
    }

    /// Extracts the features of `text` into `out` (cleared first; reuse it to avoid allocations).
    pub fn extract_into(&self, text: &str, out: &mut Features) {
        out.items.clear();
        out.tokens.clear();
        out.lower.clear();
        let mut end = text.len().min(self.max_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.lower.push_str(&text[..end]);
        out.lower.make_ascii_lowercase();
        let bytes = out.lower.as_bytes();

        let mut i = 0;
        while i < bytes.len() {
            if !is_word_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            // Trailing dots and dashes are punctuation ("done." "--"), not part of the word.
            let mut stop = i;
            while stop > start && matches!(bytes[stop - 1], b'.' | b'-') {
                stop -= 1;
            }
            if stop > start {
                out.tokens.push(Token { start, end: stop });
            }
        }

        out.items.push((self.hash(kind::BIAS, &[]), 0));
        for (ti, tok) in out.tokens.iter().enumerate() {
            let t = ti as u32;
            let word = &bytes[tok.start..tok.end];
            out.items.push((self.hash(kind::WORD, &[word]), t));
            // `whoami.exe` and `whoami` are the same program; `-enc` and `/enc` the same flag.
            let stem = strip_extension(word);
            if stem.len() != word.len() {
                out.items.push((self.hash(kind::STEM, &[stem]), t));
            }
            let flag_body = &word[word.iter().take_while(|&&b| b == b'-').count()..];
            let slash_flag = tok.start > 0 && bytes[tok.start - 1] == b'/' && word.len() <= 24;
            if (flag_body.len() != word.len() || slash_flag) && !flag_body.is_empty() {
                out.items.push((self.hash(kind::FLAG, &[flag_body]), t));
            }
            if let Some(next) = out.tokens.get(ti + 1) {
                let next_word = strip_extension(&bytes[next.start..next.end]);
                out.items.push((self.hash(kind::PAIR, &[stem, next_word]), t));
            }
            if let Some(shape) = shape_of(word, bytes, tok) {
                out.items.push((self.hash(kind::SHAPE, &[shape]), t));
            }
            self.push_ngrams(word, t, &mut out.items);
        }
    }

    /// Character n-grams of `<word>` (with boundary marks), for words short enough to be names;
    /// long opaque blobs (base64, hex) get a shape feature instead.
    fn push_ngrams(&self, word: &[u8], t: u32, items: &mut Vec<(u32, u32)>) {
        if word.len() > 40 {
            return;
        }
        let mut padded = [0u8; 42];
        padded[0] = b'<';
        padded[1..=word.len()].copy_from_slice(word);
        padded[word.len() + 1] = b'>';
        let padded = &padded[..word.len() + 2];
        for n in self.ngram_min..=self.ngram_max {
            if padded.len() < n {
                break;
            }
            for w in padded.windows(n) {
                items.push((self.hash(kind::NGRAM, &[w]), t));
            }
        }
    }

    /// Convenience: the features of one text in a fresh buffer.
    pub fn extract(&self, text: &str) -> Features {
        let mut f = Features::default();
        self.extract_into(text, &mut f);
        f
    }
}

fn strip_extension(word: &[u8]) -> &[u8] {
    for ext in [&b".exe"[..], b".ps1", b".dll", b".bat", b".cmd", b".vbs", b".sh", b".py"] {
        if word.len() > ext.len() && word.ends_with(ext) {
            return &word[..word.len() - ext.len()];
        }
    }
    word
}

/// A coarse shape for tokens whose exact value says little but whose kind says a lot.
fn shape_of(word: &[u8], text: &[u8], tok: &Token) -> Option<&'static [u8]> {
    let after = &text[tok.end..];
    if after.starts_with(b"://") {
        return Some(b"scheme");
    }
    if word.len() >= 40 && word.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b'_' | b'-')) {
        return Some(if word.iter().all(u8::is_ascii_hexdigit) { b"long-hex" } else { b"long-blob" });
    }
    if word.iter().filter(|&&b| b == b'.').count() == 3 && word.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return Some(b"ipv4");
    }
    if word.len() >= 2 && word[0] == b'%' && word[word.len() - 1] == b'%' {
        return Some(b"env-var");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let f = FeatureConfig::default().extract(text);
        f.tokens.iter().map(|t| f.lower[t.start..t.end].to_string()).collect()
    }

    #[test]
    fn tokens_keep_flags_and_file_names_whole() {
        assert_eq!(
            words(r#"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoP -enc SQBFAFgA"#),
            ["c", "windows", "system32", "windowspowershell", "v1.0", "powershell.exe", "-nop", "-enc", "sqbfafga"]
        );
        assert_eq!(words("net user admin$ /add --"), ["net", "user", "admin$", "add"]);
        assert_eq!(words(""), Vec::<String>::new());
    }

    #[test]
    fn spelling_variants_share_features() {
        let cfg = FeatureConfig::default();
        let a = cfg.extract("whoami.exe /all");
        let b = cfg.extract("WHOAMI -all");
        let set = |f: &Features| f.items.iter().map(|i| i.0).collect::<std::collections::HashSet<_>>();
        let shared = set(&a).intersection(&set(&b)).count();
        // bias, stem/word `whoami`, flag `all`, the pair, most n-grams of whoami
        assert!(shared >= 10, "only {shared} shared features");
    }

    #[test]
    fn long_and_odd_input_is_bounded_and_safe() {
        let cfg = FeatureConfig::default();
        let long = "é".repeat(10_000);
        let f = cfg.extract(&long);
        assert!(f.lower.len() <= cfg.max_bytes);
        let f = cfg.extract("\u{0}\u{1}|||;;;");
        assert_eq!(f.tokens.len(), 0);
        assert_eq!(f.items.len(), 1, "only the bias feature");
        let blob = "A".repeat(300);
        let f = cfg.extract(&blob);
        assert!(f.items.len() < 5, "a long blob is one word and a shape, not hundreds of n-grams");
    }

    #[test]
    fn buckets_stay_in_range() {
        let cfg = FeatureConfig { bucket_bits: 10, ..FeatureConfig::default() };
        let f = cfg.extract("rundll32.exe comsvcs.dll, MiniDump 624 C:\\temp\\lsass.dmp full");
        assert!(f.items.iter().all(|&(b, _)| (b as usize) < cfg.buckets()));
    }
}
