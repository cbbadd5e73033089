//! A build without the `openapi` feature renders no document, so types are not traced (and
//! serde-reflection is not compiled): every schema is `{}`, any value.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// `{}`: types are traced only with the `openapi` feature.
pub fn of<T: DeserializeOwned>() -> Value {
    json!({})
}

/// None: types are traced only with the `openapi` feature.
pub fn fields<T: DeserializeOwned>() -> Option<Vec<(String, Value, bool)>> {
    None
}
