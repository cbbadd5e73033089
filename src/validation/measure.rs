//! What a constraint measures: a number, a length, a text. Implemented for the types a
//! parameter or field usually has; `Option<T>` measures its value and skips `None`.

use serde_json::{Value, json};

/// A value with numeric bounds (`gt`, `ge`, `lt`, `le`).
#[diagnostic::on_unimplemented(
    message = "`gt`, `ge`, `lt` and `le` apply to numbers, not to `{Self}`",
    label = "not a number"
)]
pub trait Number {
    /// The value as a float, `None` for an absent optional value.
    fn number(&self) -> Option<f64>;
    /// The value as JSON, for the error's `input`.
    fn input(&self) -> Value;
}

/// A value with a length (`min_length`, `max_length`): characters of a string, items of a list.
#[diagnostic::on_unimplemented(
    message = "`min_length` and `max_length` apply to strings and lists, not to `{Self}`",
    label = "has no length"
)]
pub trait Length {
    /// The length and whether it counts characters (else items); `None` when absent.
    fn length(&self) -> Option<(usize, bool)>;
    /// The value as JSON, for the error's `input`.
    fn input(&self) -> Value;
}

/// A value a `pattern` applies to.
#[diagnostic::on_unimplemented(message = "`pattern` applies to strings, not to `{Self}`", label = "not a string")]
pub trait Text {
    /// The text; `None` when absent.
    fn text(&self) -> Option<&str>;
    /// The value as JSON, for the error's `input`.
    fn input(&self) -> Value;
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Number for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
            fn input(&self) -> Value {
                json!(self)
            }
        }
    )*};
}
numbers!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl Length for str {
    fn length(&self) -> Option<(usize, bool)> {
        Some((self.chars().count(), true))
    }
    fn input(&self) -> Value {
        Value::from(self)
    }
}

impl Length for String {
    fn length(&self) -> Option<(usize, bool)> {
        self.as_str().length()
    }
    fn input(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl<T: serde::Serialize> Length for Vec<T> {
    fn length(&self) -> Option<(usize, bool)> {
        Some((self.len(), false))
    }
    fn input(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Text for str {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
    fn input(&self) -> Value {
        Value::from(self)
    }
}

impl Text for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
    fn input(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl<T: Number> Number for Option<T> {
    fn number(&self) -> Option<f64> {
        self.as_ref()?.number()
    }
    fn input(&self) -> Value {
        self.as_ref().map_or(Value::Null, Number::input)
    }
}

impl<T: Length> Length for Option<T> {
    fn length(&self) -> Option<(usize, bool)> {
        self.as_ref()?.length()
    }
    fn input(&self) -> Value {
        self.as_ref().map_or(Value::Null, Length::input)
    }
}

impl<T: Text> Text for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref()?.text()
    }
    fn input(&self) -> Value {
        self.as_ref().map_or(Value::Null, Text::input)
    }
}
