//! The network as a list of layers ([`net`], [`layers`]), its CPU trainer ([`cpu`], on
//! [`crate::kernels`]), where models train ([`backend`]: that trainer, or candle's tensors on CUDA),
//! and its parameters as `state_dict` tensors ([`tensors`]).

pub mod backend;
pub mod cpu;
pub mod layers;
pub mod net;
pub mod tensors;
