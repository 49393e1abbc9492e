//! The model's tokenizer (a Hugging Face tokenizer.json) and the bytes each token stands for.
//!
//! Constrained decoding works on bytes, so every token id needs its exact byte string, including
//! tokens that are only part of a UTF-8 character. `Tokenizer::decode` cannot give that (it
//! returns a `String` and turns partial characters into U+FFFD), so the bytes are read from the
//! vocabulary the way the tokenizer's decoder would produce them:
//! - byte-level BPE (GPT-2, Llama 3, Qwen2): each character of a token is one byte through the
//!   GPT-2 byte-to-unicode table;
//! - SentencePiece style (Llama 2, Phi-3): `▁` is a space and `<0xNN>` byte-fallback tokens are
//!   the byte NN; other characters are their UTF-8.
//!
//! Special added tokens (`<|im_start|>`, `</s>`, ...) have no bytes: they are never text, so the
//! constraint never allows them, and text that spells them is encoded as plain text (see
//! [`ModelTokenizer::encode_content`]).

use std::collections::HashMap;
use std::path::Path;
use tokenizers::Tokenizer;

/// How vocabulary strings map to bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteScheme {
    /// GPT-2 byte-level BPE.
    ByteLevel,
    /// SentencePiece: `▁` for space, `<0xNN>` byte fallback.
    SentencePiece,
}

/// A tokenizer.json read for generation.
#[derive(Clone)]
pub struct ModelTokenizer {
    /// Encodes chat-template text: special tokens in it are recognized.
    template: Tokenizer,
    /// Encodes prompt content: a special token spelled in an incident's logs stays text, so an
    /// attacker cannot end the user turn or open an assistant turn from inside a log line.
    content: Tokenizer,
    /// The bytes of every id (empty for special tokens and unused ids).
    token_bytes: Vec<Vec<u8>>,
    /// Special added tokens by their text.
    special: HashMap<String, u32>,
    scheme: ByteScheme,
}

impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("ids", &self.token_bytes.len())
            .field("special", &self.special.len())
            .field("scheme", &self.scheme)
            .finish()
    }
}

impl ModelTokenizer {
    /// Reads a tokenizer.json file; the error says what is wrong (the caller adds the path).
    pub fn from_file(path: &Path) -> Result<ModelTokenizer, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        ModelTokenizer::from_bytes(&bytes)
    }

    pub fn from_bytes(json: &[u8]) -> Result<ModelTokenizer, String> {
        let template = Tokenizer::from_bytes(json).map_err(|e| format!("not a valid tokenizer.json: {e}"))?;
        let scheme = byte_scheme(&template)?;
        let mut content = template.clone();
        content.set_encode_special_tokens(true);
        let vocab = template.get_vocab(false);
        let added = template.get_added_tokens_decoder();
        let size = vocab.values().chain(added.keys()).map(|&id| id as usize + 1).max().unwrap_or(0);
        let mut token_bytes = vec![Vec::new(); size];
        let inverse = unicode_to_byte();
        for (text, id) in &vocab {
            token_bytes[*id as usize] = match scheme {
                ByteScheme::ByteLevel => byte_level_bytes(text, &inverse).unwrap_or_default(),
                ByteScheme::SentencePiece => sentencepiece_bytes(text),
            };
        }
        let mut special = HashMap::new();
        for (id, token) in &added {
            if token.special {
                token_bytes[*id as usize] = Vec::new();
                special.insert(token.content.clone(), *id);
            } else {
                // Non-special added tokens are matched in raw text, so their bytes are their text.
                token_bytes[*id as usize] = token.content.as_bytes().to_vec();
            }
        }
        Ok(ModelTokenizer { template, content, token_bytes, special, scheme })
    }

    /// One past the largest id.
    pub fn id_count(&self) -> usize {
        self.token_bytes.len()
    }

    pub fn scheme(&self) -> ByteScheme {
        self.scheme
    }

    /// The bytes of a token (empty for special and unknown ids).
    pub fn bytes(&self, id: u32) -> &[u8] {
        self.token_bytes.get(id as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The id of a special token, by its text.
    pub fn special_id(&self, text: &str) -> Option<u32> {
        self.special.get(text).copied()
    }

    /// Every token that stands for text, with its bytes.
    pub fn text_tokens(&self) -> Vec<(u32, Vec<u8>)> {
        self.token_bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(id, b)| (id as u32, b.clone()))
            .collect()
    }

    /// Ids of chat-template text (special tokens recognized).
    pub fn encode_template(&self, text: &str) -> Result<Vec<u32>, String> {
        encode(&self.template, text)
    }

    /// Ids of prompt content (special tokens are plain text).
    pub fn encode_content(&self, text: &str) -> Result<Vec<u32>, String> {
        encode(&self.content, text)
    }
}

fn encode(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).map_err(|e| format!("tokenizing the prompt: {e}"))
}

/// Reads the decoder (as its JSON form, which names every component) to tell the byte scheme.
fn byte_scheme(tokenizer: &Tokenizer) -> Result<ByteScheme, String> {
    let decoder = serde_json::to_value(tokenizer.get_decoder()).map_err(|e| e.to_string())?;
    let text = decoder.to_string();
    if text.contains("\"ByteLevel\"") {
        Ok(ByteScheme::ByteLevel)
    } else if text.contains("\"ByteFallback\"") || text.contains("\"Metaspace\"") || text.contains('▁') {
        Ok(ByteScheme::SentencePiece)
    } else {
        Err(format!(
            "unsupported tokenizer decoder {}: expected byte-level BPE or SentencePiece (Metaspace, ByteFallback)",
            if decoder.is_null() { "(none)".to_owned() } else { text }
        ))
    }
}

/// GPT-2's table: bytes that are printable Latin-1 map to themselves, the others to U+0100 on.
fn byte_to_unicode() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        table[b as usize] = if printable {
            b as char
        } else {
            let c = char::from_u32(next).unwrap_or('\0');
            next += 1;
            c
        };
    }
    table
}

fn unicode_to_byte() -> HashMap<char, u8> {
    byte_to_unicode().iter().enumerate().map(|(b, c)| (*c, b as u8)).collect()
}

/// The bytes of a byte-level token; `None` when a character is outside the table (not a
/// byte-level token).
fn byte_level_bytes(token: &str, inverse: &HashMap<char, u8>) -> Option<Vec<u8>> {
    token.chars().map(|c| inverse.get(&c).copied()).collect()
}

/// The bytes of a SentencePiece token.
fn sentencepiece_bytes(token: &str) -> Vec<u8> {
    if let Some(hex) = token.strip_prefix("<0x").and_then(|t| t.strip_suffix('>')) {
        if hex.len() == 2 {
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                return vec![b];
            }
        }
    }
    token.replace('▁', " ").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_level_table_is_gpt2s() {
        let table = byte_to_unicode();
        assert_eq!(table[b' ' as usize], 'Ġ');
        assert_eq!(table[b'\n' as usize], 'Ċ');
        assert_eq!(table[b'A' as usize], 'A');
        let inverse = unicode_to_byte();
        assert_eq!(inverse.len(), 256, "the table is a bijection");
        assert_eq!(byte_level_bytes("Ġ{\"", &inverse), Some(b" {\"".to_vec()));
        // A token holding half of "é" (0xC3 0xA9) is the single byte 0xC3.
        assert_eq!(byte_level_bytes(&table[0xC3].to_string(), &inverse), Some(vec![0xC3]));
        assert_eq!(byte_level_bytes("€", &inverse), None);
    }

    #[test]
    fn sentencepiece_tokens_read_as_bytes() {
        assert_eq!(sentencepiece_bytes("▁name"), b" name");
        assert_eq!(sentencepiece_bytes("<0x0A>"), b"\n");
        assert_eq!(sentencepiece_bytes("<0xE2>"), vec![0xE2]);
        assert_eq!(sentencepiece_bytes("<0xZZ>"), b"<0xZZ>");
    }

    #[test]
    fn a_sentencepiece_tokenizer_json_reads() {
        let json = serde_json::json!({
            "version": "1.0",
            "added_tokens": [{"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                              "normalized": false, "special": true}],
            "normalizer": null, "pre_tokenizer": null, "post_processor": null,
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}]},
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": true,
                      "vocab": {"<s>": 0, "<0x41>": 1, "▁a": 2, "b": 3}, "merges": []}
        });
        let t = ModelTokenizer::from_bytes(json.to_string().as_bytes()).unwrap();
        assert_eq!(t.scheme(), ByteScheme::SentencePiece);
        assert_eq!(t.bytes(0), b"");
        assert_eq!(t.bytes(1), b"A");
        assert_eq!(t.bytes(2), b" a");
        assert_eq!(t.special_id("<s>"), Some(0));
        assert_eq!(t.text_tokens().len(), 3);
    }
}
