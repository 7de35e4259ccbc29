//! The `host-train` command line: each command parses its arguments and calls the library.

pub mod bench;
pub mod curve;
pub mod lr_find;
pub mod report;
pub mod setup;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::ffi::OsString;

/// The command line.
#[derive(Parser, Debug)]
#[command(name = "host-train", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// A command with its arguments.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print (CSV or JSON) or plot the lr and momentum a schedule gives at every optimizer step.
    Curve(curve::CurveArgs),
    /// Train the study's CNN on Fashion-MNIST under every run of a run config.
    Bench(bench::BenchArgs),
    /// Merge result folders (e.g. shards) into one results set with tables and plots.
    Report(report::ReportArgs),
    /// The LR range test (fastai's lr_find) on a run's model, or `lr-find suggest` for a recorded curve.
    LrFind(lr_find::LrFindArgs),
}

impl Command {
    pub fn run(self) -> Result<()> {
        match self {
            Command::Curve(args) => curve::run(args),
            Command::Bench(args) => bench::run(args),
            Command::Report(args) => report::run(args),
            Command::LrFind(args) => lr_find::run(args),
        }
    }
}

/// Runs a command as the binary would, from its arguments (those after the program's name), e.g.
/// `["bench", "--config", "runs.toml", "--epochs", "2", "--out", "runs/a"]`; clap's errors (and
/// `--help`) come back as errors.
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let program = std::iter::once(OsString::from("host-train"));
    let cli = Cli::try_parse_from(program.chain(args.into_iter().map(Into::into)))?;
    cli.command.run()
}
