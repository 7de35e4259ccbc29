//! `host-train report`: merges result folders (e.g. shards) into one results set, with its tables
//! and plots ([`crate::report::write_all`]).

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train report runs/sweep/shard0 runs/sweep/shard1 --out runs/sweep/all
  host-train report docs/results/tutorial-3ep-2seeds          # redraw a results set in place")]
pub struct ReportArgs {
    /// Bench output folders (bench.json and runs/), or results sets a report wrote (results.json and
    /// trace.csv).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged results (default: the folder itself when there is one).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Skip the plots (tables only).
    #[arg(long)]
    no_plots: bool,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let out = match (&args.out, args.dirs.len()) {
        (Some(o), _) => o.clone(),
        (None, 1) => args.dirs[0].clone(),
        (None, _) => bail!(
            "report: give --out DIR to merge {} folders",
            args.dirs.len()
        ),
    };
    let n = crate::report::write_all(&args.dirs, &out, !args.no_plots)?;
    eprintln!(
        "report: {n} result(s) -> {}",
        out.join("results.md").display()
    );
    Ok(())
}
