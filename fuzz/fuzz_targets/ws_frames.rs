//! Fuzz target `ws_frames`: see `sockeye::__fuzz::ws_frames` and ../README.md.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockeye::__fuzz::ws_frames(data));
