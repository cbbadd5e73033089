//! Route path templates: the `sockeye-path` crate, whose parser the route macros also run at
//! compile time (one parser, two users).

pub(crate) use sockeye_path::{Segment, display, encode_literal, join, params, parse, poem_pattern, shape};
