//! Test support shared by cohort's tests, benches and example generator. Not published.
//!
//! * [`fleet`]: a seeded generator of realistic machines (the shipped example fleet is
//!   `fleet::generate(1000, fleet::EXAMPLE_SEED)`).
//! * [`reference`]: a deliberately simple evaluator that interprets syntax trees directly,
//!   written apart from the engine, to test the engine against.
//! * [`strategies`]: proptest strategies for groups and machines.
//! * [`workload`]: benchmark group sets of any size drawn from the example styles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fleet;
pub mod reference;
pub mod strategies;
pub mod workload;
