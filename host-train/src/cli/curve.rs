//! `host-train curve`: the lr and momentum in effect for every optimizer step of a schedule.

use crate::config::{RunConfig, Stepping, FASHION_MNIST_TRAIN_IMAGES};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sched_core::{Curve, Scheduler, Spec};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train curve --schedule '{\"kind\":\"StepLR\",\"step_size\":2,\"gamma\":0.95}' --lr 0.001 --steps 15
  host-train curve --schedule '{\"kind\":\"OneCycleLR\",\"max_lr\":0.1,\"total_steps\":1000}' --lr 0.1 --steps 1000 --plot onecycle.svg
  host-train curve --schedule '{\"kind\":\"timm.CosineLRScheduler\",\"t_initial\":40,\"warmup_t\":5}' --lr 0.05 --steps 100
  host-train curve --preset tutorial --run \"Cyclic LR Scheduler Batches\" --format json")]
pub struct CurveArgs {
    /// The schedule as a JSON spec: {"kind": PyTorch class name, PyTorch's argument names...}, or
    /// another library's schedule, {"kind": "timm.CosineLRScheduler" (or "transformers.get_...",
    /// "optax.function_name", "keras.ClassName", "fastai.name"), its argument names...}; optax's,
    /// Keras' and fastai's annealers give absolute values (--lr does not scale them), fastai's
    /// fit_* take --lr where their lr_max is left out, and fastai's run over --steps unless
    /// `total_steps` is given.
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
    #[arg(long, requires = "schedule", allow_hyphen_values = true)]
    steps: Option<String>,
    /// Call scheduler.step() after every K-th optimizer step (K = batches per epoch for per-epoch stepping).
    #[arg(long, default_value_t = 1, requires = "schedule")]
    step_every: usize,
    /// A run config preset whose run to show (`tutorial`: the study's 14 runs and "LR finder + One Cycle").
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

/// Most steps kept in memory for `--format json` and `--plot` (CSV streams any number).
const MAX_KEPT_STEPS: usize = 20_000_000;

pub fn run(args: CurveArgs) -> Result<()> {
    let request = request(&args)?;
    let metrics = match &args.metrics {
        Some(path) => Some(read_metrics(path)?),
        None => None,
    };
    let keep = args.plot.is_some() || matches!(args.format, Format::Json);
    if keep && request.steps > MAX_KEPT_STEPS {
        bail!("--steps must be <= {MAX_KEPT_STEPS} with --plot or --format json (CSV streams any number)");
    }
    let mut values = curve(&request, metrics.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !keep {
        writeln!(out, "step,lr,momentum")?;
        for (i, value) in values.enumerate() {
            let (lr, m) = value?;
            writeln!(out, "{i},{lr:.8e},{m:.8e}")?;
        }
        out.flush()?;
        return Ok(());
    }
    let (mut lrs, mut momenta) = (
        Vec::with_capacity(request.steps),
        Vec::with_capacity(request.steps),
    );
    for value in &mut values {
        let (lr, m) = value?;
        lrs.push(lr);
        momenta.push(m);
    }
    if let Some(path) = &args.plot {
        crate::plot::schedule_curve(path, &request.title, &lrs, &momenta)?;
    }
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
        let Some(steps) = &args.steps else {
            bail!("--steps is required with --schedule")
        };
        let steps = parse_steps(steps)?;
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
    if let Some(find) = run.find {
        bail!(
            "--run `{name}` takes its `{}` from an LR range test (\"find\"), so its curve depends on the seed; run `host-train lr-find --preset {preset} --run \"{name}\"` for the value, or see the lr curve in a bench's results",
            find.target.key()
        );
    }
    let batches = config.batches_per_epoch(FASHION_MNIST_TRAIN_IMAGES);
    Ok(CurveRequest {
        title: run.name.clone(),
        spec: run.schedule.clone(),
        lr: run.lr,
        momentum: run.momentum(),
        steps: config.epochs as usize * batches,
        step_every: match run.step {
            Stepping::Batch => 1,
            Stepping::Epoch => batches,
        },
    })
}

/// The study's plotting loop (`sched_core::Curve`): the lr and momentum of each optimizer step,
/// `scheduler.step()` every `step_every` optimizer steps, with the next metric for
/// ReduceLROnPlateau. A failed step is `sched_core::CurveError`'s text, the page's too.
fn curve<'a>(
    req: &'a CurveRequest,
    metrics: Option<&'a [f32]>,
) -> Result<impl Iterator<Item = Result<(f32, f32)>> + 'a> {
    let step_every = u32::try_from(req.step_every).context("--step-every must fit in u32")?;
    // A schedule of the run's progress (fastai's) that leaves out its length runs over the
    // curve's scheduler steps.
    let length = u32::try_from(req.steps.div_ceil(req.step_every.max(1))).unwrap_or(u32::MAX);
    let spec = req.spec.clone().with_total_steps(length);
    let scheduler = Scheduler::from_spec(&spec, req.lr, req.momentum)?;
    if scheduler.needs_metric() && metrics.is_none() {
        bail!(
            "--metrics is required for {}: a file with one metric per line",
            req.spec.kind()
        );
    }
    let values = Curve::new(scheduler, step_every, metrics.unwrap_or(&[]));
    Ok(values
        .take(req.steps)
        .map(|value| value.map_err(anyhow::Error::from)))
}

/// `--steps`: 0 to `u32::MAX`, with a message that names the option and the value.
fn parse_steps(text: &str) -> Result<usize> {
    match text.trim().parse::<u64>() {
        Ok(n) if n <= u64::from(u32::MAX) => Ok(n as usize),
        Ok(_) => bail!("--steps: must be <= {}, got {text}", u32::MAX),
        Err(_) => bail!("--steps: must be a non-negative integer, got {text}"),
    }
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
