//! `host-train lr-find`: the LR range test (fastai's `lr_find`, [`crate::train::range_test`]) on
//! the study's CNN, with sched-core's [`sched_core::LrFinder`]; `lr-find suggest` analyses a curve
//! recorded anywhere. `bench` runs the same test for runs whose config says `lr = "find"` or
//! `max_lr = "find"`.

use crate::cli::setup::{ConfigSource, Engine, Machine};
use crate::config::Fill;

use crate::nn::backend::Target;
use crate::nn::net::Net;
use crate::results::{self, LrFindRecord, SuggestedLr};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Args, Subcommand, ValueEnum};
use sched_core::{Suggested, Suggestion, SweepMode};
use std::path::{Path, PathBuf};

use crate::train::range_test::{range_test, start_momentum, Finder, Setup, MAX_ITERS};

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:
  host-train lr-find --preset tutorial --run \"Constant Learning Rate\"
  host-train lr-find --preset tutorial --run \"One Cycle LR Scheduler Batches\" --iters 200 --out runs/lr-find
  host-train lr-find suggest --csv runs/lr-find/lr_find.csv --format json

In a run config, `lr = \"find\"` (or `max_lr = \"find\"` inside a schedule) makes `bench` run this
test first, per seed, and train at its valley suggestion (`\"find:steep\"` etc. for the others)."
)]
pub struct LrFindArgs {
    #[command(subcommand)]
    command: Option<LrFindCommand>,
    #[command(flatten)]
    source: ConfigSource,
    /// The run whose model, batch size and momentum the test trains with (its exact name).
    #[arg(long, required = true)]
    run: Option<String>,
    #[command(flatten)]
    sweep: SweepArgs,
    /// The seed of the initial weights and of the data order (default: the config's `seed`; a
    /// config without `seed` needs it).
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only.
    #[arg(long)]
    subset: Option<usize>,
    /// Output folder (default: `runs/lr-find-<timestamp>`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    machine: Machine,
}

/// The sweep's arguments, fastai's defaults.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// The lr of the first step.
    #[arg(long, default_value_t = sched_core::defaults::LR_FINDER_START_LR, allow_negative_numbers = true)]
    start_lr: f64,
    /// The lr the sweep reaches after --iters steps.
    #[arg(long, default_value_t = sched_core::defaults::LR_FINDER_END_LR, allow_negative_numbers = true)]
    end_lr: f64,
    /// Steps of the sweep (fastai's `num_it`).
    #[arg(long, default_value_t = sched_core::defaults::LR_FINDER_NUM_ITER)]
    iters: u32,
    /// How the lr grows.
    #[arg(long, value_enum, default_value_t = Mode::Exp)]
    mode: Mode,
}

impl Default for SweepArgs {
    fn default() -> Self {
        SweepArgs {
            start_lr: sched_core::defaults::LR_FINDER_START_LR,
            end_lr: sched_core::defaults::LR_FINDER_END_LR,
            iters: sched_core::defaults::LR_FINDER_NUM_ITER,
            mode: Mode::Exp,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
pub enum Mode {
    /// start * (end/start)^(i/iters), fastai's.
    Exp,
    /// start + (i/iters) * (end - start).
    Linear,
}

#[derive(Subcommand, Debug)]
enum LrFindCommand {
    /// The suggestions for a recorded curve: a CSV with columns `lr` and `loss` (raw per-step
    /// losses, in step order; others ignored), smoothed, stopped and trimmed exactly as the range
    /// test does, with `num_iter` = the number of rows.
    Suggest(SuggestArgs),
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train lr-find suggest --csv lr_find.csv
  host-train lr-find suggest --csv lr_find.csv --format json")]
struct SuggestArgs {
    /// The recorded curve.
    #[arg(long)]
    csv: PathBuf,
    /// `table`, or `json`: {"valley": LR, "steep": LR, ...} with null where a rule has no suggestion.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also draw the curve (raw and smoothed loss, every suggestion) to this file (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// The plot's title.
    #[arg(long, default_value = "LR range test")]
    title: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// `lr-find`'s `lr_find.json`.
#[derive(serde::Serialize)]
struct LrFindFile<'a> {
    run: &'a str,
    seed: u64,
    batch_size: usize,
    train_images: usize,
    range_test: &'a LrFindRecord,
}

/// A finder for `sweep`, its errors in the CLI's words.
pub fn new_finder(sweep: &SweepArgs, momentum: f32) -> Result<Box<Finder>> {
    let mode = match sweep.mode {
        Mode::Exp => SweepMode::Exponential,
        Mode::Linear => SweepMode::Linear,
    };
    let finder = Finder::new(sweep.start_lr, sweep.end_lr, sweep.iters)
        .and_then(|f| f.mode(mode).momentum(momentum))
        .map_err(cli_error)?;
    Ok(Box::new(finder))
}

/// sched-core's parameter names as the CLI's flags.
fn cli_error(e: sched_core::Error) -> anyhow::Error {
    if let sched_core::Error::InvalidParameter {
        parameter, rule, ..
    } = e
    {
        let (flag, rule) = match (parameter, rule) {
            ("num_iter", r) if r.contains("capacity") => {
                ("--iters", format!("must be <= {MAX_ITERS}"))
            }
            ("num_iter", r) => ("--iters", r.to_string()),
            ("start_lr", r) => ("--start-lr", r.to_string()),
            ("end_lr", r) => ("--end-lr", r.replace("start_lr", "--start-lr")),
            (p, r) => (p, r.to_string()),
        };
        return anyhow::anyhow!("{flag} {rule}");
    }
    anyhow::anyhow!("{e}")
}

/// The record of a finished range test (`lr_find.json`, results.json).
pub fn record(finder: &Finder, sweep: &SweepArgs, raw: &[f32]) -> LrFindRecord {
    let finite = |v: f32| v.is_finite().then_some(v);
    LrFindRecord {
        start_lr: sweep.start_lr,
        end_lr: sweep.end_lr,
        iters: sweep.iters,
        mode: format!("{:?}", sweep.mode).to_lowercase(),
        momentum: finder.momentum_value().unwrap_or(0.0),
        stopped: finder.status().to_string(),
        suggestions: suggestions(finder)
            .into_iter()
            .map(|(rule, s)| {
                let s = s.ok().map(|s| SuggestedLr {
                    lr: s.lr,
                    step: s.index,
                });
                (rule.name().to_string(), s)
            })
            .collect(),
        lr: finder.lrs().to_vec(),
        loss: raw.iter().copied().map(finite).collect(),
        smoothed_loss: finder
            .smoothed_losses()
            .iter()
            .copied()
            .map(finite)
            .collect(),
    }
}

fn suggestions(finder: &Finder) -> Vec<(Suggestion, Result<Suggested, sched_core::Error>)> {
    Suggestion::ALL
        .into_iter()
        .zip(finder.suggestions())
        .collect()
}

/// `lr_find.csv`: `step,lr,loss,smoothed_loss`.
fn csv_text(finder: &Finder, raw: &[f32]) -> String {
    let mut s = String::from("step,lr,loss,smoothed_loss\n");
    for (i, ((lr, loss), sm)) in finder
        .lrs()
        .iter()
        .zip(raw)
        .zip(finder.smoothed_losses())
        .enumerate()
    {
        s.push_str(&format!("{i},{lr:e},{loss},{sm}\n"));
    }
    s
}

/// The suggestions as a short table.
fn table(finder: &Finder) -> String {
    let mut s = format!(
        "{:<10} {:>11} {:>5} {:>14}\n",
        "suggestion", "lr", "step", "smoothed loss"
    );
    for (rule, r) in suggestions(finder) {
        match r {
            Ok(x) => s.push_str(&format!(
                "{:<10} {:>11.4e} {:>5} {:>14.4}\n",
                rule.name(),
                x.lr,
                x.index,
                finder.smoothed_losses()[x.index]
            )),
            Err(e) => s.push_str(&format!(
                "{:<10} {:>11} {:>5} {:>14}  ({e})\n",
                rule.name(),
                "-",
                "-",
                "-"
            )),
        }
    }
    s
}

/// Fails when no rule suggests anything, naming why (the loss was never finite, the test diverged
/// at once).
fn require_any(finder: &Finder, raw: &[f32]) -> Result<()> {
    if finder.suggestions().iter().any(Result::is_ok) {
        return Ok(());
    }
    if raw.first().is_some_and(|l| !l.is_finite()) {
        bail!("the loss was not a finite number from the first step (lr {:e}): nothing to suggest; lower --start-lr", finder.lrs()[0]);
    }
    bail!(
        "the range test stopped after {} step(s) ({}): too few points for any suggestion; use more --iters or a lower --start-lr",
        finder.lrs().len(),
        finder.status()
    )
}

pub fn run(args: LrFindArgs) -> Result<()> {
    if let Some(LrFindCommand::Suggest(s)) = args.command {
        return suggest(s);
    }
    let fill = Fill {
        epochs: None,
        seed: args.seed,
    };
    let (config, _) = args.source.load(fill)?;
    let run = config.run(args.run.as_deref().unwrap_or_default())?;
    let target = Target {
        device: Device::Cpu,
        isa: args.machine.start()?,
        candle: args.machine.engine == Engine::Candle,
        convolution: args.machine.convolution,
    };
    if !run.param_groups.is_empty() {
        bail!(
            "run `{}` has param groups; a range test trains one lr (give a run without `param_groups`)",
            run.name
        );
    }
    let momentum = start_momentum(run)?;
    let mut finder = new_finder(&args.sweep, momentum)?;
    let seed = config.seed;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(
            chrono::Local::now()
                .format("lr-find-%Y%m%d-%H%M%S")
                .to_string(),
        )
    });
    if out.join("lr_find.json").exists() {
        bail!(
            "{} already holds an LR range test: give another --out",
            out.display()
        );
    }
    let data = args.machine.load_data(config.validation, args.subset)?;
    // The report's header, on stdout with it (stderr is for the one line of an error).
    println!(
        "host-train lr-find: `{}` (seed {seed}), {} steps of batch {} from lr {:e} to {:e} ({:?}), {} with momentum {momentum}, {} train images",
        run.name,
        args.sweep.iters,
        config.batch_size,
        args.sweep.start_lr,
        args.sweep.end_lr,
        args.sweep.mode,
        run.optimizer().kind(),
        data.train.len()
    );
    let setup = Setup {
        data: &data,
        batch_size: config.batch_size,
        seed,
        file_order: false,
        target: &target,
        net: &Net::new(&config.model.conv, data.train.rows, data.train.cols)?,
        optimizer: run.optimizer(),
        init: None,
    };
    let raw = range_test(&setup, &mut finder)?;
    require_any(&finder, &raw)?;
    let file = LrFindFile {
        run: &run.name,
        seed,
        batch_size: config.batch_size,
        train_images: data.train.len(),
        range_test: &record(&finder, &args.sweep, &raw),
    };
    write_outputs(&out, &file, &finder, &raw)?;
    print!(
        "{} steps, {}\n{}",
        finder.lrs().len(),
        finder.status(),
        table(&finder)
    );
    Ok(())
}

/// lr_find.csv, lr_find.json and the figure, into `out`.
fn write_outputs(out: &Path, file: &LrFindFile, finder: &Finder, raw: &[f32]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    results::write_atomic(&out.join("lr_find.csv"), csv_text(finder, raw).as_bytes())?;
    results::write_atomic(
        &out.join("lr_find.json"),
        serde_json::to_string_pretty(file)?.as_bytes(),
    )?;
    let title = format!("LR range test: {} (seed {})", file.run, file.seed);
    let ext = crate::plot::FORMAT;
    plot(&out.join(format!("lr_find.{ext}")), &title, finder, raw)?;
    eprintln!("written: {}/lr_find.{{csv,json,{ext}}}", out.display());
    Ok(())
}

fn plot(path: &Path, title: &str, finder: &Finder, raw: &[f32]) -> Result<()> {
    let marks: Vec<(&str, usize, f32)> = suggestions(finder)
        .into_iter()
        .filter_map(|(rule, r)| r.ok().map(|s| (rule.name(), s.index, s.lr)))
        .collect();
    crate::plot::lr_find(
        path,
        title,
        finder.lrs(),
        (raw, finder.smoothed_losses()),
        &marks,
        // What `lr = "find"` trains at.
        sched_core::Suggestion::Valley.name(),
    )
}

fn suggest(args: SuggestArgs) -> Result<()> {
    let path = &args.csv;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let finder =
        Box::new(Finder::from_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
    let rows = finder.num_iter();
    match args.format {
        Format::Json => {
            // By hand, in Suggestion::ALL's order, each lr as its shortest f32 text.
            let fields = suggestions(&finder)
                .into_iter()
                .map(|(rule, r)| {
                    let lr = match r {
                        Ok(s) => serde_json::to_string(&s.lr)?,
                        Err(_) => "null".into(),
                    };
                    Ok(format!("\"{}\": {lr}", rule.name()))
                })
                .collect::<Result<Vec<String>>>()?;
            println!("{{{}}}", fields.join(", "));
        }
        Format::Table => print!(
            "{} of {} rows used ({})\n{}",
            finder.lrs().len(),
            rows,
            finder.status(),
            table(&finder)
        ),
    }
    if let Some(out) = &args.plot {
        plot(out, &args.title, &finder, &raw_losses(&text))?;
    }
    Ok(())
}

/// The `loss` column of a curve's CSV (a value that is not a number: NaN, left out of the plot).
fn raw_losses(csv: &str) -> Vec<f32> {
    let mut lines = csv.lines();
    let column = lines
        .next()
        .and_then(|h| h.split(',').position(|c| c.trim() == "loss"));
    let Some(column) = column else {
        return Vec::new();
    };
    lines
        .map(|l| {
            l.split(',')
                .nth(column)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(f32::NAN)
        })
        .collect()
}
