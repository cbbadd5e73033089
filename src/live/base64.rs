//! `#[serde(with = "sockeye::live::base64")]`: a `Vec<u8>` field written as standard base64
//! (padded), the form a live model's bytes column has on the wire. `Option<Vec<u8>>` takes
//! `sockeye::live::base64::option`.
//!
//! ```
//! use sockeye::{live::Model, prelude::*};
//!
//! #[derive(Model, Serialize, Deserialize, Clone, Debug)]
//! struct Avatar {
//!     id: i64,
//!     #[serde(with = "sockeye::live::base64")]
//!     image: Vec<u8>,
//!     #[serde(with = "sockeye::live::base64::option", default)]
//!     thumbnail: Option<Vec<u8>>,
//! }
//!
//! let a = Avatar { id: 1, image: b"hi".to_vec(), thumbnail: None };
//! assert_eq!(serde_json::to_value(&a).unwrap()["image"], "aGk=");
//! ```

use ::base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// Writes the bytes as base64.
pub fn serialize<T: AsRef<[u8]>, S: Serializer>(bytes: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes.as_ref()))
}

/// Reads base64 (a string that is not base64 is an error naming the field).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    STANDARD.decode(text.as_bytes()).map_err(|_| D::Error::custom("expected base64 (standard alphabet, padded)"))
}

/// The same for `Option<Vec<u8>>`: `null` is `None`.
pub mod option {
    use super::*;

    /// Writes the bytes as base64, `None` as `null`.
    pub fn serialize<T: AsRef<[u8]>, S: Serializer>(bytes: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::serialize(b, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads base64 or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|t| {
            STANDARD.decode(t.as_bytes()).map_err(|_| D::Error::custom("expected base64 (standard alphabet, padded)"))
        })
        .transpose()
    }
}
