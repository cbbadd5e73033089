//! Route path templates: the `sockeye-path` crate, whose parser the route macros also run at
//! compile time (one parser, two users).

#[cfg(feature = "__fuzz")]
pub(crate) use sockeye_path::encode_literal;
pub(crate) use sockeye_path::{display, join, params, parse, poem_param_name, poem_pattern, shape};
