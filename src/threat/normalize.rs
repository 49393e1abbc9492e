//! Input normalization before the models (placeholder: identity until the decoder lands).

/// A text as the models see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The decoded text the models read.
    pub text: String,
}

/// Normalizes `text` for the models.
pub fn normalize(text: &str) -> Normalized {
    Normalized { text: text.to_string() }
}
