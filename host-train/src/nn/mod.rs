//! The network: its CPU trainer ([`cpu`], on [`crate::kernels`]) and where models train
//! ([`backend`]: that trainer, or candle's tensors on CUDA).

pub mod backend;
pub mod cpu;
pub mod tensors;
