//! JSON objects as the readers see them: [`JsonValue`] and [`JsonObject`] give the readers one
//! view of `serde_json`'s tree and of [`Lite`], a tree that borrows its text from the input.
//!
//! A JSON log line parsed into `serde_json::Value` allocates every key and every string and hashes
//! every key (its maps keep their order in an `IndexMap`): about three times the cost of the same
//! line as a [`Lite`], whose strings are slices of the line unless they hold escapes. Line-oriented
//! JSON (JSON Lines, JSON lines of a mixed log) is read as [`Lite`]; whole JSON documents keep
//! `serde_json`'s tree, which their readers also clone into [`Incident::free`](crate::incident::Incident::free).
//!
//! A [`Lite`] reads exactly as the `Value` of the same text: the same parser reports the same
//! errors, numbers are `serde_json` numbers, and a key given twice keeps its first place and its
//! last value, as in `serde_json`'s ordered map.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Read access to a JSON value.
pub(crate) trait JsonValue: Sized {
    type Object: JsonObject<Value = Self>;
    fn as_str(&self) -> Option<&str>;
    fn as_object(&self) -> Option<&Self::Object>;
    fn as_array(&self) -> Option<&[Self]>;
    /// A number or a boolean as the JSON text `serde_json` writes for it.
    fn scalar_text(&self) -> Option<String>;
    /// What kind of value this is, for messages (`an object`, `a list`, ...).
    fn shape(&self) -> &'static str;
}

/// Read access to a JSON object, in the order of its keys.
pub(crate) trait JsonObject {
    type Value: JsonValue<Object = Self>;
    fn get(&self, key: &str) -> Option<&Self::Value>;
    fn len(&self) -> usize;
    fn entries(&self) -> impl Iterator<Item = (&str, &Self::Value)>;
}

impl JsonValue for Value {
    type Object = Map<String, Value>;

    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_object(&self) -> Option<&Map<String, Value>> {
        Value::as_object(self)
    }
    fn as_array(&self) -> Option<&[Value]> {
        Value::as_array(self).map(Vec::as_slice)
    }
    fn scalar_text(&self) -> Option<String> {
        matches!(self, Value::Number(_) | Value::Bool(_)).then(|| self.to_string())
    }
    fn shape(&self) -> &'static str {
        super::shape(self)
    }
}

impl JsonObject for Map<String, Value> {
    type Value = Value;

    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
    fn len(&self) -> usize {
        Map::len(self)
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// A JSON value whose strings borrow from the text it was read from where they can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lite<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array(Vec<Lite<'a>>),
    Object(LiteObject<'a>),
}

/// The members of a [`Lite`] object, in order, each key once.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct LiteObject<'a>(Vec<(Cow<'a, str>, Lite<'a>)>);

impl<'a> JsonValue for Lite<'a> {
    type Object = LiteObject<'a>;

    fn as_str(&self) -> Option<&str> {
        match self {
            Lite::Str(s) => Some(s),
            _ => None,
        }
    }
    fn as_object(&self) -> Option<&LiteObject<'a>> {
        match self {
            Lite::Object(o) => Some(o),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Lite<'a>]> {
        match self {
            Lite::Array(items) => Some(items),
            _ => None,
        }
    }
    fn scalar_text(&self) -> Option<String> {
        match self {
            Lite::Number(n) => Some(Value::Number(n.clone()).to_string()),
            Lite::Bool(b) => Some(Value::Bool(*b).to_string()),
            _ => None,
        }
    }
    fn shape(&self) -> &'static str {
        match self {
            Lite::Null => "null",
            Lite::Bool(_) => "a boolean",
            Lite::Number(_) => "a number",
            Lite::Str(_) => "a string",
            Lite::Array(_) => "a list",
            Lite::Object(_) => "an object",
        }
    }
}

impl<'a> JsonObject for LiteObject<'a> {
    type Value = Lite<'a>;

    fn get(&self, key: &str) -> Option<&Lite<'a>> {
        self.0.iter().find_map(|(k, v)| (k == key).then_some(v))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Lite<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'a> LiteObject<'a> {
    /// The members as `serde_json`'s ordered map keeps them: a repeated key keeps its first place
    /// and takes its last value.
    fn from_members(members: Vec<(Cow<'a, str>, Lite<'a>)>) -> Self {
        // Small objects (nearly all) are checked pair by pair, and kept as read when no key repeats;
        // large ones go through a map, so a hostile line with thousands of keys costs linear time.
        if members.len() <= 16 {
            let repeated = (1..members.len()).any(|i| members[..i].iter().any(|(k, _)| *k == members[i].0));
            if !repeated {
                return LiteObject(members);
            }
            let mut out: Vec<(Cow<'a, str>, Lite<'a>)> = Vec::with_capacity(members.len());
            for (k, v) in members {
                match out.iter_mut().find(|(seen, _)| *seen == k) {
                    Some(member) => member.1 = v,
                    None => out.push((k, v)),
                }
            }
            return LiteObject(out);
        }
        let mut place: HashMap<Cow<'a, str>, usize> = HashMap::with_capacity(members.len());
        let mut out: Vec<(Cow<'a, str>, Lite<'a>)> = Vec::with_capacity(members.len());
        for (k, v) in members {
            match place.get(&k) {
                Some(&i) => out[i].1 = v,
                None => {
                    place.insert(k.clone(), out.len());
                    out.push((k, v));
                }
            }
        }
        LiteObject(out)
    }
}

struct LiteVisitor;

impl<'de> Visitor<'de> for LiteVisitor {
    type Value = Lite<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Lite<'de>, E> {
        Ok(Lite::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Lite<'de>, E> {
        Ok(Lite::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Lite<'de>, E> {
        Ok(Lite::Number(n.into()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Lite<'de>, E> {
        Ok(Lite::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Lite<'de>, E> {
        // As `serde_json::Value`: a float without a JSON form is null.
        Ok(Number::from_f64(n).map_or(Lite::Null, Lite::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Lite<'de>, E> {
        Ok(Lite::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lite<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Lite::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lite<'de>, A::Error> {
        // A log line's object has a handful of keys: one allocation instead of two or three.
        let mut members = Vec::with_capacity(8);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            members.push((key.0, map.next_value()?));
        }
        Ok(Lite::Object(LiteObject::from_members(members)))
    }
}

impl<'de> Deserialize<'de> for Lite<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LiteVisitor)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Value` a `Lite` stands for.
    fn to_value(lite: &Lite<'_>) -> Value {
        match lite {
            Lite::Null => Value::Null,
            Lite::Bool(b) => Value::Bool(*b),
            Lite::Number(n) => Value::Number(n.clone()),
            Lite::Str(s) => Value::String(s.to_string()),
            Lite::Array(items) => Value::Array(items.iter().map(to_value).collect()),
            Lite::Object(o) => Value::Object(o.0.iter().map(|(k, v)| (k.to_string(), to_value(v))).collect()),
        }
    }

    #[test]
    fn lite_reads_as_serde_json_value() {
        let many_keys =
            format!("{{{}}}", (0..40).map(|i| format!("\"k{}\": {i}", i % 23)).collect::<Vec<_>>().join(", "));
        let texts = [
            r#"{"a": 1, "b": [true, null, -2, 3.5e2, 1e400], "a": "again", "c": {"x": "y\"z", "x": {}}}"#,
            r#"{"msg": "tab\there \u00e9 \ud83d\ude00", "n": 18446744073709551615, "m": -9223372036854775808}"#,
            r#"{"f": 0.1, "g": 1.0, "h": -0.0, "i": 12345678901234567890123}"#,
            r#"[1, {"k\"ey": "v"}]"#,
            "{\"a\": 1,}",
            "{\"a\" 1}",
            "{\"a\": 1} x",
            "{\"a\": tru}",
            "[",
            "\"only a string\"",
            &"[".repeat(200),
            &many_keys,
        ];
        for text in texts {
            let lite = serde_json::from_str::<Lite>(text).map_err(|e| e.to_string());
            let value = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
            // Compared as written out: the order of keys counts.
            let written = |v: &Value| serde_json::to_string(v).unwrap_or_default();
            assert_eq!(lite.as_ref().map(|l| written(&to_value(l))), value.as_ref().map(written), "{text}");
            if let (Ok(lite), Ok(value)) = (&lite, &value) {
                let texts = |l: Option<String>, v: Option<String>| assert_eq!(l, v, "{text}");
                if let (Some(l), Some(v)) = (lite.as_array(), value.as_array()) {
                    for (l, v) in l.iter().zip(v) {
                        texts(l.scalar_text(), JsonValue::scalar_text(v));
                    }
                }
            }
        }
    }
}
