//! The encoder's tokenizer: byte-level BPE trained on our (normalized) training texts.
//!
//! Byte-level means the base alphabet is the 256 bytes, so every UTF-8 input tokenizes into known
//! ids: a payload in an alphabet never seen in training becomes byte tokens, never an `[UNK]`
//! storm. The pipeline is NFKC (full-width `＜script＞` reads as `<script>`), lowercase (case
//! games like `SeLeCt` change nothing) and every run of digits replaced by `0`, then the GPT-2
//! split into words, numbers and runs of punctuation, which keeps operator runs like `'--` or
//! `"><` together so BPE can learn them as units.
//!
//! Why digits collapse: in logs and payloads numbers are timestamps, PIDs, ports, addresses and
//! sqlmap's random `8302=8302`; memorized, they teach the model which data set a line came from.
//! Collapsed, `1=1` still reads `0=0` and an address still reads `0.0.0.0`, and a log line
//! costs a quarter fewer tokens (41 instead of 55 for a 100-byte line), which is speed.
//!
//! Why a small vocabulary (2,000 by default): trained on one payload list and tested on another
//! (leave-PayloadsAllTheThings-out on the shared data), 1-2k tokens kept binary F1 near 0.96
//! where 4-6k fell to 0.83-0.88: large vocabularies learn whole strings of one source.
//!
//! Two special tokens sit at fixed ids: `[PAD]` (0) and `[CLS]` (1). Every encoded text starts
//! with `[CLS]`, so even the empty text has one real token to pool over.

use crate::threat::ThreatError;
use std::borrow::Cow;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::normalizers::replace::{Replace, ReplacePattern};
use tokenizers::normalizers::{unicode::NFKC, utils::Lowercase, utils::Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::{byte_level::ByteLevel, digits::Digits, sequence::Sequence as PreSequence};
use tokenizers::{AddedToken, Tokenizer, TokenizerBuilder};

/// The padding token; id 0.
pub const PAD_TOKEN: &str = "[PAD]";
/// The token every encoding starts with; id 1.
pub const CLS_TOKEN: &str = "[CLS]";
/// Longest text tokenized whole, in bytes. A longer text is cut to its first and last
/// `MAX_TEXT_BYTES / 2` bytes before tokenizing: the model only keeps the head and the tail of
/// its tokens anyway, and a megabyte line must cost no more than a long one.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Longest token the BPE trainer may build, in characters. Short tokens keep the model reading
/// pieces (`union`, `select`, `../`) rather than memorizing whole payload strings.
const MAX_TOKEN_CHARS: usize = 16;
/// Smallest and largest vocabulary [`train_tokenizer`] accepts.
pub const VOCAB_RANGE: std::ops::RangeInclusive<usize> = 300..=65_536;

/// A trained tokenizer with the ids of its special tokens.
#[derive(Clone)]
pub struct ThreatTokenizer {
    inner: Tokenizer,
    vocab_size: usize,
}

impl std::fmt::Debug for ThreatTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreatTokenizer").field("vocab_size", &self.vocab_size).finish()
    }
}

/// Trains a byte-level BPE tokenizer of at most `vocab_size` tokens (special tokens included) on
/// `texts`. Deterministic for the same texts in the same order.
pub fn train_tokenizer(texts: &[&str], vocab_size: usize) -> Result<ThreatTokenizer, ThreatError> {
    if !VOCAB_RANGE.contains(&vocab_size) {
        return Err(ThreatError::Invalid(format!(
            "tokenizer vocabulary of {vocab_size} is outside {}..={}",
            VOCAB_RANGE.start(),
            VOCAB_RANGE.end()
        )));
    }
    let fail = |e: tokenizers::Error| ThreatError::Compute(format!("training the tokenizer: {e}"));
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(vocab_size)
        .min_frequency(2)
        .max_token_length(Some(MAX_TOKEN_CHARS))
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .special_tokens(vec![AddedToken::from(PAD_TOKEN, true), AddedToken::from(CLS_TOKEN, true)])
        .build();
    let digit_runs = Replace::new(ReplacePattern::Regex("[0-9]+".into()), "0").map_err(fail)?;
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(BPE::default())
        .with_normalizer(Some(NormalizerSequence::new(vec![NFKC.into(), Lowercase.into(), digit_runs.into()])))
        .with_pre_tokenizer(Some(PreSequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, false, true).into(),
        ])))
        .with_post_processor(None::<ByteLevel>)
        .with_decoder(Some(ByteLevel::default()))
        .build()
        .map_err(fail)?;
    tokenizer.train(&mut trainer, texts.iter().map(|t| clip_text(t))).map_err(fail)?;
    let json = tokenizer.to_string(false).map_err(fail)?;
    ThreatTokenizer::from_bytes(json.as_bytes())
}

impl ThreatTokenizer {
    /// Reads a tokenizer.json, checking the special tokens sit at their ids.
    pub fn from_bytes(json: &[u8]) -> Result<ThreatTokenizer, ThreatError> {
        let mut inner = Tokenizer::from_bytes(json)
            .map_err(|e| ThreatError::Invalid(format!("tokenizer.json is not a valid tokenizer: {e}")))?;
        // A text that spells `[CLS]` or `[PAD]` gets the bytes' tokens, not the special ids.
        inner.set_encode_special_tokens(true);
        for (token, id) in [(PAD_TOKEN, 0), (CLS_TOKEN, 1)] {
            if inner.token_to_id(token) != Some(id) {
                return Err(ThreatError::Invalid(format!("tokenizer.json: {token} must have id {id}")));
            }
        }
        let vocab_size = inner.get_vocab_size(true);
        // Byte-level BPE needs all 256 byte symbols, or some input would have no token.
        if ByteLevel::alphabet().iter().any(|c| inner.token_to_id(&c.to_string()).is_none()) {
            return Err(ThreatError::Invalid("tokenizer.json lacks byte-level base tokens".into()));
        }
        Ok(ThreatTokenizer { inner, vocab_size })
    }

    /// The tokenizer.json text.
    pub fn to_json(&self) -> Result<String, ThreatError> {
        self.inner.to_string(false).map_err(|e| ThreatError::Compute(format!("serializing the tokenizer: {e}")))
    }

    /// Number of ids, special tokens included; every id is below it.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn pad_id(&self) -> u32 {
        0
    }

    pub fn cls_id(&self) -> u32 {
        1
    }

    /// Ids of `text`: `[CLS]` then the tokens, at most `max_len` in all. A longer text keeps its
    /// first and its last tokens (half each): attacks sit at either end of a long line.
    pub fn encode(&self, text: &str, max_len: usize) -> Result<Vec<u32>, ThreatError> {
        let encoding = self
            .inner
            .encode(clip_text(text).as_ref(), false)
            .map_err(|e| ThreatError::Compute(format!("tokenizing: {e}")))?;
        Ok(self.frame(encoding.get_ids(), max_len))
    }

    /// [`ThreatTokenizer::encode`] over many texts (in parallel where the machine allows).
    pub fn encode_batch(&self, texts: &[&str], max_len: usize) -> Result<Vec<Vec<u32>>, ThreatError> {
        let clipped: Vec<Cow<str>> = texts.iter().map(|t| clip_text(t)).collect();
        let inputs: Vec<&str> = clipped.iter().map(|c| c.as_ref()).collect();
        let encodings =
            self.inner.encode_batch(inputs, false).map_err(|e| ThreatError::Compute(format!("tokenizing: {e}")))?;
        Ok(encodings.iter().map(|e| self.frame(e.get_ids(), max_len)).collect())
    }

    /// The token strings of `text` (without `[CLS]`), for inspection.
    pub fn tokens(&self, text: &str) -> Result<Vec<String>, ThreatError> {
        let encoding = self
            .inner
            .encode(clip_text(text).as_ref(), false)
            .map_err(|e| ThreatError::Compute(format!("tokenizing: {e}")))?;
        Ok(encoding.get_tokens().to_vec())
    }

    /// `[CLS]` + head and tail of `ids` within `max_len`.
    fn frame(&self, ids: &[u32], max_len: usize) -> Vec<u32> {
        let room = max_len.saturating_sub(1);
        let mut out = Vec::with_capacity(ids.len().min(room) + 1);
        out.push(self.cls_id());
        if ids.len() <= room {
            out.extend_from_slice(ids);
        } else {
            let head = room.div_ceil(2);
            let tail = room - head;
            out.extend_from_slice(&ids[..head]);
            out.extend_from_slice(&ids[ids.len() - tail..]);
        }
        out
    }
}

/// `text`, or its first and last `MAX_TEXT_BYTES / 2` bytes (on character boundaries) joined by
/// a space when it is longer than [`MAX_TEXT_BYTES`].
fn clip_text(text: &str) -> Cow<'_, str> {
    if text.len() <= MAX_TEXT_BYTES {
        return Cow::Borrowed(text);
    }
    let half = MAX_TEXT_BYTES / 2;
    let head_end = text.floor_char_boundary(half);
    let tail_start = text.ceil_char_boundary(text.len() - half);
    Cow::Owned(format!("{} {}", &text[..head_end], &text[tail_start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_tokenizer() -> ThreatTokenizer {
        let texts = [
            "GET /index.php?id=1 HTTP/1.1",
            "1' union select password from users--",
            "<script>alert(1)</script>",
            "../../../../etc/passwd",
            "Failed password for invalid user admin from 10.0.0.1 port 22 ssh2",
            "sudo find . -exec /bin/sh \\; -quit",
        ];
        let corpus: Vec<&str> = texts.iter().cycle().take(60).copied().collect();
        train_tokenizer(&corpus, 400).unwrap()
    }

    #[test]
    fn any_input_tokenizes_into_known_ids() {
        let tok = small_tokenizer();
        assert_eq!(tok.encode("", 16).unwrap(), vec![tok.cls_id()]);
        for text in ["日本語のテキスト 🦀", "\u{0}\u{1}\t\r\n", "ＳＥＬＥＣＴ ＊", "\u{202e}evil", "a\u{301}"]
        {
            let ids = tok.encode(text, 64).unwrap();
            assert!(ids.len() > 1, "{text:?} gave {ids:?}");
            assert!(ids.iter().all(|&i| (i as usize) < tok.vocab_size()));
            // Only [CLS] is special: the rest are real tokens, never padding.
            assert!(ids[1..].iter().all(|&i| i > 1), "{text:?} gave {ids:?}");
        }
        // Numbers read as their shape: a port, a PID or an address octet is noise to memorize.
        assert_eq!(
            tok.encode("port 40476 from 10.0.0.1", 64).unwrap(),
            tok.encode("port 22 from 1.2.3.4", 64).unwrap()
        );
        assert_ne!(tok.encode("id=1", 64).unwrap(), tok.encode("id=", 64).unwrap());
        // Special tokens spelled in the input are plain text.
        assert!(tok.encode("[PAD][CLS]", 64).unwrap()[1..].iter().all(|&i| i > 1));
        // NFKC and lowercase: full-width capitals read as the ASCII word.
        assert_eq!(tok.encode("ＳＥＬＥＣＴ", 64).unwrap(), tok.encode("select", 64).unwrap());
    }

    #[test]
    fn long_texts_keep_their_head_and_tail() {
        let tok = small_tokenizer();
        let text = format!("<script> {} </script>", "a b c d e f ".repeat(50));
        let ids = tok.encode(&text, 16).unwrap();
        assert_eq!(ids.len(), 16);
        let full = tok.encode(&text, 10_000).unwrap();
        assert_eq!(ids[1..9], full[1..9]);
        assert_eq!(ids[9..], full[full.len() - 7..]);
        // A megabyte line is clipped before tokenizing and still framed.
        let huge = "x".repeat(1 << 20) + "é";
        let ids = tok.encode(&huge, 32).unwrap();
        assert_eq!(ids.len(), 32);
        assert!(clip_text(&huge).len() <= MAX_TEXT_BYTES + 1);
        assert_eq!(tok.encode_batch(&[&huge, "", "abc"], 32).unwrap()[0], ids);
    }

    #[test]
    fn round_trips_through_json_and_rejects_foreign_files() {
        let tok = small_tokenizer();
        let back = ThreatTokenizer::from_bytes(tok.to_json().unwrap().as_bytes()).unwrap();
        assert_eq!(back.vocab_size(), tok.vocab_size());
        let text = "1' OR 1=1 -- <img src=x onerror=alert(1)>";
        assert_eq!(back.encode(text, 64).unwrap(), tok.encode(text, 64).unwrap());
        assert!(ThreatTokenizer::from_bytes(b"{}").is_err());
        assert!(ThreatTokenizer::from_bytes(b"not json").is_err());
        assert!(train_tokenizer(&["a"], 10).is_err());
    }
}
