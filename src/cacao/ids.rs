//! CACAO identifiers: `<object-type>--<UUID>`.
//!
//! The spec (section 10.10) requires the prefix to name the object type (lower-case letters, digits
//! and hyphens) and the suffix to be an RFC 4122 UUID of version 1 to 5. New ids are minted as v4.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use thiserror::Error;
use uuid::Uuid;

/// Why a string is not a CACAO identifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("identifier `{0}` has no `--` between the object type and the UUID")]
    NoSeparator(String),
    #[error("identifier `{id}` has an invalid object type `{prefix}` (lower-case letters, digits and hyphens, starting with a letter)")]
    BadPrefix { id: String, prefix: String },
    #[error("identifier `{id}` has an invalid UUID `{uuid}` (expected 8-4-4-4-12 hex digits, version 1-5, RFC 4122 variant)")]
    BadUuid { id: String, uuid: String },
    #[error("identifier `{id}` has object type `{found}` where `{expected}` is required")]
    WrongType { id: String, found: String, expected: String },
}

/// A checked CACAO identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier(String);

impl Identifier {
    /// Mints a fresh v4 identifier for `object_type` (e.g. `"action"`, `"playbook"`).
    ///
    /// Panics only if `object_type` is not a valid prefix, which is a programming error.
    pub fn new_v4(object_type: &str) -> Identifier {
        assert!(valid_prefix(object_type), "invalid CACAO object type `{object_type}`");
        Identifier(format!("{object_type}--{}", Uuid::new_v4()))
    }

    /// Builds an identifier from a type and a given UUID (deterministic ids for tests and fixtures).
    pub fn with_uuid(object_type: &str, uuid: Uuid) -> Result<Identifier, IdError> {
        Identifier::parse(&format!("{object_type}--{uuid}"))
    }

    /// Checks `s` and returns it as an identifier.
    pub fn parse(s: &str) -> Result<Identifier, IdError> {
        check(s)?;
        Ok(Identifier(s.to_owned()))
    }

    /// Checks `s` and that its object type is `expected`.
    pub fn parse_typed(s: &str, expected: &str) -> Result<Identifier, IdError> {
        let id = Identifier::parse(s)?;
        if id.object_type() != expected {
            return Err(IdError::WrongType {
                id: s.to_owned(),
                found: id.object_type().to_owned(),
                expected: expected.to_owned(),
            });
        }
        Ok(id)
    }

    /// The object type, e.g. `action` for `action--…`.
    pub fn object_type(&self) -> &str {
        split(&self.0).map(|(p, _)| p).unwrap_or("")
    }

    /// The UUID part, when the identifier is well-formed.
    pub fn uuid(&self) -> Option<Uuid> {
        split(&self.0).and_then(|(_, u)| Uuid::parse_str(u).ok())
    }

    /// Checks the form of an identifier that came from a document.
    pub fn check(&self) -> Result<(), IdError> {
        check(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Splits at the LAST `--`: object types may contain single hyphens (`net-address`) and, in custom
/// vocabularies, even double ones, but a UUID never contains `--`.
fn split(s: &str) -> Option<(&str, &str)> {
    s.rfind("--").map(|i| (&s[..i], &s[i + 2..]))
}

fn valid_prefix(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// True when `u` is an RFC 4122 UUID of version 1 to 5 in canonical 8-4-4-4-12 form.
pub fn valid_uuid(u: &str) -> bool {
    let b = u.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    matches!(b[14], b'1'..=b'5') && matches!(b[19].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b')
}

/// Checks the form of an identifier without allocating.
pub fn check(s: &str) -> Result<(), IdError> {
    let (prefix, uuid) = split(s).ok_or_else(|| IdError::NoSeparator(s.to_owned()))?;
    if !valid_prefix(prefix) {
        return Err(IdError::BadPrefix { id: s.to_owned(), prefix: prefix.to_owned() });
    }
    if !valid_uuid(uuid) {
        return Err(IdError::BadUuid { id: s.to_owned(), uuid: uuid.to_owned() });
    }
    Ok(())
}

/// The object type of an identifier-looking string, without checking the UUID.
pub fn object_type_of(s: &str) -> Option<&str> {
    split(s).map(|(p, _)| p)
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Identifier {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Identifier::parse(s)
    }
}

impl AsRef<str> for Identifier {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Deserialization keeps whatever string the document holds, well-formed or not: a playbook with a
/// placeholder id (`organization--abc`) must still load so the validator can point at the id and
/// repair can fix it. Use [`Identifier::check`] or the validator to judge the form.
impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Identifier(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_are_valid_v4() {
        let id = Identifier::new_v4("action");
        assert_eq!(id.object_type(), "action");
        assert_eq!(id.uuid().unwrap().get_version_num(), 4);
        assert!(Identifier::parse(id.as_str()).is_ok());
        assert_ne!(Identifier::new_v4("action"), id);
    }

    #[test]
    fn parses_multi_hyphen_prefixes() {
        let id: Identifier = "net-address--0115a514-7a79-4c3f-8d87-77d5e52fabab".parse().unwrap();
        assert_eq!(id.object_type(), "net-address");
        let id: Identifier = "soarca-manual-capability--7b0e98db-fa93-42aa-8511-e871c65131b1".parse().unwrap();
        assert_eq!(id.object_type(), "soarca-manual-capability");
    }

    #[test]
    fn rejects_bad_forms() {
        assert!(matches!(Identifier::parse("organization--abc"), Err(IdError::BadUuid { .. })));
        assert!(matches!(
            Identifier::parse("action-0115a514-7a79-4c3f-8d87-77d5e52fabab"),
            Err(IdError::NoSeparator(_))
        ));
        assert!(matches!(
            Identifier::parse("Action--0115a514-7a79-4c3f-8d87-77d5e52fabab"),
            Err(IdError::BadPrefix { .. })
        ));
        // version nibble 0 and 6 are outside 1-5; variant nibble c is not RFC 4122
        assert!(Identifier::parse("action--0115a514-7a79-0c3f-8d87-77d5e52fabab").is_err());
        assert!(Identifier::parse("action--0115a514-7a79-6c3f-8d87-77d5e52fabab").is_err());
        assert!(Identifier::parse("action--0115a514-7a79-4c3f-cd87-77d5e52fabab").is_err());
        assert!(Identifier::parse("action--0115a514-7a79-4c3f-8d87-77d5e52fabaZ").is_err());
        assert!(Identifier::parse("--0115a514-7a79-4c3f-8d87-77d5e52fabab").is_err());
    }

    #[test]
    fn typed_parse_checks_the_object_type() {
        let s = "end--0115a514-7a79-4c3f-8d87-77d5e52fabab";
        assert!(Identifier::parse_typed(s, "end").is_ok());
        let err = Identifier::parse_typed(s, "start").unwrap_err();
        assert!(err.to_string().contains("`end` where `start` is required"));
    }

    #[test]
    fn serde_round_trips_and_keeps_malformed_ids_for_the_validator() {
        let s = "\"playbook--0115a514-7a79-4c3f-8d87-77d5e52fabab\"";
        let id: Identifier = serde_json::from_str(s).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), s);
        assert!(id.check().is_ok());
        let bad: Identifier = serde_json::from_str("\"playbook--nope\"").unwrap();
        assert!(matches!(bad.check(), Err(IdError::BadUuid { .. })));
        assert_eq!(bad.uuid(), None);
    }
}
