//! The commands of the `host-train` binary: each parses its arguments and calls the library.

pub mod bench;
pub mod curve;
pub mod lr_find;
pub mod setup;
