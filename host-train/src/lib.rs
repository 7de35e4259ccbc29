//! host-train as a library: train the study's CNN (or another layer list) on Fashion-MNIST under every
//! run of a run config, run the LR range test, read and merge results sets, print a schedule's curve.
//! The `host-train` binary ([`cli`]) parses arguments and calls these.
//!
//! Data flows one way, and each module imports only those below it in this list:
//!
//! | layer | what it holds |
//! |---|---|
//! | [`cli`] | the commands: argument parsing and the shared set-up (`bench`, `lr-find`, `curve`, `report`) |
//! | [`report`], [`plot`] | the tables and figures of a results set |
//! | [`train`] | the batch and epoch loop of a group of fused models, checkpoints |
//! | [`results`] | the typed results set, its files, checkpoints' tensors |
//! | [`nn`] | the network (a layer list), its CPU trainer and candle (CUDA) path |
//! | [`optim`] | the optimizers, one file each, and the block-parallel driver they share |
//! | [`kernels`] | the SIMD paths and the direct 3x3 convolution |
//! | [`config`], [`data`] | run configs; the Fashion-MNIST data set |

pub mod cli;
pub mod config;
pub mod data;
pub mod kernels;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod report;
pub mod results;
pub mod train;
