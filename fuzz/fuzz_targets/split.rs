#![no_main]
//! See `pingan::fuzz_targets::split` for what this target feeds Pingan and what it checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pingan::fuzz_targets::split(data));
