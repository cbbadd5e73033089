//! Every misuse of the route macros and of `#[derive(Model)]` is a compile error that points at the culprit and says how
//! to fix it. Each case's expected message is checked in beside it (tests/ui/*.stderr).

#[test]
fn route_macro_misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
