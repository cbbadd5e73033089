//! Fuzz target `route_path`: see `sockeye::__fuzz::route_path` and ../README.md.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockeye::__fuzz::route_path(data));
