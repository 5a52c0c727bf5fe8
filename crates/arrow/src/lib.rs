#![doc = include_str!("../README.md")]

mod batch;
mod dates;
mod file;
mod ids;

pub use batch::{BatchError, append_batch};
pub use file::{Error, Format, Options, read_ipc, read_ipc_with, read_parquet, read_parquet_with};
pub use ids::Ids;
