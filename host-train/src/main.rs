//! `host-train`: the Fashion-MNIST LR-schedule benchmark (`bench`, `report`) and `curve`, which prints
//! or plots the learning rate and momentum any schedule gives, step by step.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use host_train::{
    cli::{bench, curve, lr_find},
    report,
};

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
    /// The LR range test (fastai's lr_find) on a run's model, or `lr-find suggest` for a recorded curve.
    LrFind(lr_find::LrFindArgs),
}

/// clap's own errors, folded onto one line like ours: scripts read the first line of stderr.
fn parse_args() -> Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            Err(ExitCode::SUCCESS)
        }
        Err(err) => {
            let text = err.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|line| {
                    !line.starts_with("Usage:") && !line.starts_with("For more information")
                })
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!("{} (see --help)", message.join(" "));
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::Curve(args) => curve::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Report(args) => report::run(args),
        Command::LrFind(args) => lr_find::run(args),
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
