//! Placeholder until issue 3 lands its bench.
fn main() {}
