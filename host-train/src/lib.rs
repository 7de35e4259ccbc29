//! host-train as a library: train the study's CNN (or another layer list) on Fashion-MNIST under every
//! run of a run config, run the LR range test, read and merge results sets, print a schedule's curve.
//! The `host-train` binary ([`cli`]) parses arguments and calls these.
//!
//! From Rust, a command runs as on the command line, and a results set reads back typed:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! host_train::cli::run(["bench", "--config", "runs.toml", "--epochs", "2", "--out", "runs/a"])?;
//! let set = host_train::results::set::ResultsSet::read("runs/a".as_ref())?;
//! for run in &set.runs {
//!     println!("{} seed {}: {:.4}", run.result.name, run.result.seed, run.result.final_accuracy);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The pieces underneath are public too: a run config ([`config::RunConfig`]), the data set
//! ([`data`]), a network ([`nn::net::Net`]) trained by [`nn::backend::Backend`] with the optimizers of
//! [`optim`], a group of fused runs ([`train::train_group`]), the range test
//! ([`train::range_test`]), merging and writing results sets ([`report::write_all`]).
//!
//! Data flows one way (config -> data -> network -> optimizer -> train -> results -> report and
//! plots), and each module imports only those below it in this table: no import circles.
//!
//! | layer | what it holds |
//! |---|---|
//! | [`cli`] | the commands: argument parsing and the set-up they share (`bench`, `lr-find`, `curve`) |
//! | [`report`], [`plot`] | the tables and figures of a results set |
//! | [`train`] | the batch and epoch loop of a group of fused models, their checkpoints |
//! | [`results`] | the results set's types and files, its statistics, the study's own numbers |
//! | [`schedules`] | a run's schedules as it trains: lr over its param groups, hyperparameters |
//! | [`config`] | run configs: runs, schedules, optimizers, param groups, the network's layer list |
//! | [`nn`] | the network, its CPU trainer, candle's (CUDA) path, `state_dict` tensors |
//! | [`optim`] | the optimizers, one file each, and the block-parallel driver they share |
//! | [`kernels`] | the SIMD paths and the 3x3 convolutions: direct and Winograd |
//! | [`data`] | the Fashion-MNIST data set |

pub mod cli;
pub mod config;
pub mod data;
pub mod kernels;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod report;
pub mod results;
pub mod schedules;
pub mod train;
