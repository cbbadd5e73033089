//! Fuzz target `jwt_extract`: see `sockeye::__fuzz::jwt_extract` and ../README.md.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockeye::__fuzz::jwt_extract(data));
