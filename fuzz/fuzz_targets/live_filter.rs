//! Fuzz target `live_filter`: see `sockeye::__fuzz::live_filter` and ../README.md.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockeye::__fuzz::live_filter(data));
