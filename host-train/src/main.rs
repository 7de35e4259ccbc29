//! `host-train`: the Fashion-MNIST LR-schedule benchmark (`bench`, `report`), the LR range test
//! (`lr-find`) and `curve`, which prints or plots the learning rate and momentum any schedule gives,
//! step by step. The commands are the library's ([`host_train::cli`]); this parses the command line
//! and turns errors into one line and exit status 2.

use clap::Parser;
use std::process::ExitCode;

use host_train::cli::Cli;

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
    let result = cli.command.run();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, naming the parameter: scripts and people both read it.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
