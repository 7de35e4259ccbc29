//! `host-train`: the Fashion-MNIST LR-schedule benchmark (`bench`, `report`) and `curve`, which prints
//! or plots the learning rate and momentum any schedule gives, step by step.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench;
mod config;
mod conv;
mod curve;
mod data;
mod model;
mod plot;
mod report;
mod train;

#[derive(Parser)]
#[command(name = "host-train", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print (CSV or JSON) or plot the lr and momentum a schedule gives at every optimizer step.
    Curve(curve::CurveArgs),
    /// Train the study's CNN on Fashion-MNIST under every run of a run config.
    Bench(bench::BenchArgs),
    /// Merge result folders (e.g. shards) into one results set with tables and plots.
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Curve(args) => curve::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, naming the parameter: scripts and people both read it.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
