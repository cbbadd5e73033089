//! Fuzz target `pubsub_decode`: see `sockeye::__fuzz::pubsub_decode` and ../README.md.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockeye::__fuzz::pubsub_decode(data));
