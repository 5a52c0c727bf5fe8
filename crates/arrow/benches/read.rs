//! Reading benchmarks (placeholder).
fn main() {}
