//! `host-train curve`: the lr and momentum in effect for every optimizer step of a schedule.

use crate::config::{RunConfig, Stepping, TRAIN_IMAGES};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sched_core::{Scheduler, Spec};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train curve --schedule '{\"kind\":\"StepLR\",\"step_size\":2,\"gamma\":0.95}' --lr 0.001 --steps 15
  host-train curve --schedule '{\"kind\":\"OneCycleLR\",\"max_lr\":0.1,\"total_steps\":1000}' --lr 0.1 --steps 1000 --plot onecycle.svg
  host-train curve --preset tutorial --run \"Cyclic LR Scheduler Batches\" --format json")]
pub struct CurveArgs {
    /// The schedule as a JSON spec: {"kind": PyTorch class name, PyTorch's argument names...}.
    #[arg(long, conflicts_with_all = ["preset", "run"], required_unless_present = "preset")]
    schedule: Option<String>,
    /// The optimizer's initial lr, as in PyTorch's SGD(lr=...).
    #[arg(long, requires = "schedule", allow_negative_numbers = true)]
    lr: Option<f32>,
    /// The optimizer's initial momentum, as in SGD(momentum=...).
    #[arg(
        long,
        default_value_t = 0.0,
        requires = "schedule",
        allow_negative_numbers = true
    )]
    momentum: f32,
    /// Number of optimizer steps to print (rows 0..N-1).
    #[arg(long, requires = "schedule")]
    steps: Option<usize>,
    /// Call scheduler.step() after every K-th optimizer step (K = batches per epoch for per-epoch stepping).
    #[arg(long, default_value_t = 1, requires = "schedule")]
    step_every: usize,
    /// A run config preset whose run to show (`tutorial`: the study's 14 runs).
    #[arg(long, requires = "run")]
    preset: Option<String>,
    /// The run's name in the preset, e.g. "One Cycle LR Scheduler Batches".
    #[arg(long, requires = "preset")]
    run: Option<String>,
    /// ReduceLROnPlateau: a file with one metric per line, the j-th passed to the j-th scheduler.step(metric).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Also draw the curve to this file (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Csv,
    Json,
}

/// What a curve is computed from.
struct CurveRequest {
    title: String,
    spec: Spec,
    lr: f32,
    momentum: f32,
    steps: usize,
    step_every: usize,
}

pub fn run(args: CurveArgs) -> Result<()> {
    let request = request(&args)?;
    let metrics = match &args.metrics {
        Some(path) => Some(read_metrics(path)?),
        None => None,
    };
    let (lrs, momenta) = compute(&request, metrics.as_deref())?;
    if let Some(path) = &args.plot {
        crate::plot::schedule_curve(path, &request.title, &lrs, &momenta)?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Csv => {
            writeln!(out, "step,lr,momentum")?;
            for (i, (lr, m)) in lrs.iter().zip(&momenta).enumerate() {
                writeln!(out, "{i},{lr:.8e},{m:.8e}")?;
            }
        }
        Format::Json => {
            let doc = serde_json::json!({
                "title": request.title,
                "spec": request.spec,
                "lr": lrs,
                "momentum": momenta,
            });
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn request(args: &CurveArgs) -> Result<CurveRequest> {
    if let Some(json) = &args.schedule {
        let spec: Spec = serde_json::from_str(json).context("--schedule")?;
        let Some(lr) = args.lr else {
            bail!("--lr is required with --schedule")
        };
        let Some(steps) = args.steps else {
            bail!("--steps is required with --schedule")
        };
        if args.step_every == 0 {
            bail!("--step-every must be >= 1");
        }
        return Ok(CurveRequest {
            title: spec.kind().to_string(),
            spec,
            lr,
            momentum: args.momentum,
            steps,
            step_every: args.step_every,
        });
    }
    let preset = args.preset.as_deref().unwrap_or("tutorial");
    let config = RunConfig::preset(preset)?;
    let name = args
        .run
        .as_deref()
        .context("--run is required with --preset")?;
    let run = config.run(name).context("--run")?;
    let batches = config.batches_per_epoch(TRAIN_IMAGES);
    Ok(CurveRequest {
        title: run.name.clone(),
        spec: run.schedule.clone(),
        lr: run.lr,
        momentum: run.momentum,
        steps: config.epochs as usize * batches,
        step_every: match run.step {
            Stepping::Batch => 1,
            Stepping::Epoch => batches,
        },
    })
}

/// Runs the study's plotting loop: record lr and momentum, optimizer step, then (every
/// `step_every` optimizer steps) `scheduler.step()`, with the next metric for ReduceLROnPlateau.
fn compute(req: &CurveRequest, metrics: Option<&[f32]>) -> Result<(Vec<f32>, Vec<f32>)> {
    let mut scheduler = Scheduler::from_spec(&req.spec, req.lr, req.momentum)?;
    if scheduler.needs_metric() && metrics.is_none() {
        bail!(
            "--metrics is required for {}: a file with one metric per line",
            req.spec.kind()
        );
    }
    let mut metrics = metrics.map(|m| m.iter());
    let mut lrs = Vec::with_capacity(req.steps);
    let mut momenta = Vec::with_capacity(req.steps);
    for i in 0..req.steps {
        lrs.push(scheduler.lr());
        momenta.push(scheduler.momentum());
        if (i + 1) % req.step_every != 0 {
            continue;
        }
        if scheduler.needs_metric() {
            let calls = (i + 1) / req.step_every;
            let Some(&metric) = metrics.as_mut().and_then(|m| m.next()) else {
                bail!("--metrics has fewer lines than the {calls} scheduler steps needed");
            };
            scheduler.step_with_metric(metric)
        } else {
            scheduler.step()
        }
        .with_context(|| format!("scheduler step after optimizer step {i}"))?;
    }
    Ok((lrs, momenta))
}

fn read_metrics(path: &PathBuf) -> Result<Vec<f32>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--metrics: cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            line.trim().parse::<f32>().with_context(|| {
                format!(
                    "--metrics: line {} of {} is not a number: `{line}`",
                    n + 1,
                    path.display()
                )
            })
        })
        .collect()
}
