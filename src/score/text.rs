//! Text similarity for matching steps: a token set per text and the Jaccard index of two sets.
//!
//! Tokenization, decided once for every score:
//! - the text is cut on whitespace into chunks; each chunk loses the punctuation around it (quotes,
//!   brackets, commas, a sentence-ending full stop);
//! - words are the maximal runs of alphanumeric characters of a chunk, lower-cased; words of one
//!   character and words of the fixed English [`STOPWORDS`] list are dropped;
//! - an IPv4 address (with an optional `/prefix` or `:port`) is one token, `203.0.113.45`, and is not
//!   cut into its numbers, which mean nothing alone;
//! - a path or URL (a chunk of path characters with at least two `/` or `\` separated parts, such as
//!   `/etc/ssh/sshd_config` or `C:\Windows\Temp`) is kept whole as a token *and* gives its words, so
//!   the same path counts strongly and a sibling path still shares its parts.
//!
//! The result is a set: repeating a word does not weigh it more.

use std::collections::BTreeSet;

/// A set of tokens, ordered so that anything derived from it is deterministic.
pub type TokenSet = BTreeSet<String>;

/// English words that carry no meaning for matching steps. Sorted, for binary search.
pub const STOPWORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "down", "during", "each", "either", "etc", "every", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "if", "in", "into", "is", "it", "its", "itself",
    "just", "may", "me", "might", "more", "most", "must", "my", "no", "nor", "not", "of", "off", "on", "once", "only",
    "or", "other", "our", "ours", "out", "over", "own", "same", "shall", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to",
    "too", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "were", "what", "when", "where",
    "whether", "which", "while", "who", "whom", "why", "will", "with", "within", "would", "you", "your", "yours",
];

/// Whether `word` (already lower-cased) is in [`STOPWORDS`].
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// The token set of `text` (see the module documentation for the rules).
pub fn tokens(text: &str) -> TokenSet {
    let mut out = TokenSet::new();
    for chunk in text.split_whitespace() {
        let chunk = trim_chunk(chunk);
        if chunk.is_empty() {
            continue;
        }
        if is_ipv4(chunk) {
            out.insert(chunk.to_owned());
            continue;
        }
        if is_path(chunk) {
            out.insert(chunk.to_lowercase());
        }
        for word in chunk.split(|c: char| !c.is_alphanumeric()) {
            if word.chars().nth(1).is_none() {
                continue; // empty or one character
            }
            let word = word.to_lowercase();
            if !is_stopword(&word) {
                out.insert(word);
            }
        }
    }
    out
}

/// The Jaccard index |a ∩ b| / |a ∪ b|. Two empty sets give 0.0: with no words there is no
/// evidence that two texts say the same thing.
pub fn jaccard(a: &TokenSet, b: &TokenSet) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let common = small.iter().filter(|t| large.contains(*t)).count();
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// [`jaccard`] of the token sets of two texts.
pub fn similarity(a: &str, b: &str) -> f64 {
    jaccard(&tokens(a), &tokens(b))
}

/// Drops punctuation around a chunk; a leading `/`, `\`, `.` or `~` belongs to a path and stays.
fn trim_chunk(chunk: &str) -> &str {
    chunk
        .trim_start_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '/' | '\\' | '.' | '~')))
        .trim_end_matches(|c: char| !c.is_alphanumeric())
}

/// `a.b.c.d`, each part 1-3 digits, optionally followed by `/prefix` or `:port` digits.
fn is_ipv4(chunk: &str) -> bool {
    let (addr, suffix) = match chunk.find(['/', ':']) {
        Some(i) => (&chunk[..i], Some(&chunk[i + 1..])),
        None => (chunk, None),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(suffix) = suffix {
        if !digits(suffix) {
            return false;
        }
    }
    let parts: Vec<&str> = addr.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| p.len() <= 3 && digits(p))
}

/// Path characters only, and at least two `/`- or `\`-separated parts with an alphanumeric in them.
fn is_path(chunk: &str) -> bool {
    let path_chars =
        chunk.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '\\' | '.' | '_' | '-' | ':' | '~' | '$' | '%'));
    path_chars
        && chunk.contains(['/', '\\'])
        && chunk.split(['/', '\\']).filter(|part| part.chars().any(char::is_alphanumeric)).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> TokenSet {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn stopwords_are_sorted_and_unique() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]), "STOPWORDS must stay sorted for binary search");
        assert!(is_stopword("the") && is_stopword("from") && !is_stopword("block"));
    }

    #[test]
    fn words_are_lowercased_without_stopwords_and_short_tokens() {
        assert_eq!(
            tokens("Terminate the attacker's active sessions"),
            set(&["active", "attacker", "sessions", "terminate"])
        );
        assert_eq!(tokens("  "), TokenSet::new());
        assert_eq!(tokens("Stop the encrypting process."), set(&["encrypting", "process", "stop"]));
    }

    #[test]
    fn ip_addresses_stay_whole() {
        assert_eq!(
            tokens("iptables -A INPUT -s 203.0.113.45 -j DROP"),
            set(&["203.0.113.45", "drop", "input", "iptables"])
        );
        assert_eq!(tokens("block (10.0.0.0/8)"), set(&["10.0.0.0/8", "block"]));
        assert_eq!(tokens("ssh 10.1.2.3:22"), set(&["10.1.2.3:22", "ssh"]));
        // Four dotted parts of more than three digits are not an address.
        assert_eq!(tokens("v1234.1.1.1"), set(&["v1234"]));
    }

    #[test]
    fn paths_give_the_whole_path_and_its_words() {
        assert_eq!(
            tokens("cat '/etc/ssh/sshd_config'"),
            set(&["/etc/ssh/sshd_config", "cat", "config", "ssh", "sshd"])
        );
        assert_eq!(tokens(r"del C:\Temp\x.exe"), set(&[r"c:\temp\x.exe", "del", "exe", "temp"]));
        // A switch such as /F is not a path.
        assert_eq!(tokens("taskkill /F /IM svc_upd.exe"), set(&["exe", "im", "svc", "taskkill", "upd"]));
    }

    #[test]
    fn jaccard_by_hand() {
        let a = set(&["block", "ip", "firewall"]);
        let b = set(&["block", "ip", "address"]);
        assert_eq!(jaccard(&a, &b), 0.5); // 2 common of 4
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&a, &TokenSet::new()), 0.0);
        assert_eq!(jaccard(&TokenSet::new(), &TokenSet::new()), 0.0);
        assert_eq!(similarity("Block the IP", "block ip at the firewall"), 2.0 / 3.0);
    }
}
