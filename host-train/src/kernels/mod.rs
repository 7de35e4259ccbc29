//! The CPU trainer's kernels: the vector paths chosen at run time ([`simd`]) and the direct 3x3
//! convolutions written once over them ([`direct`]).

pub mod direct;
pub mod simd;
