//! `host-train curve`: the lr and momentum in effect for every optimizer step of a schedule.

use crate::config::{RunConfig, Stepping, FASHION_MNIST_TRAIN_IMAGES};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sched_core::{Curve, GroupScheduler, Spec};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train curve --schedule '{\"kind\":\"StepLR\",\"step_size\":2,\"gamma\":0.95}' --lr 0.001 --steps 15
  host-train curve --schedule '{\"kind\":\"OneCycleLR\",\"max_lr\":0.1,\"total_steps\":1000}' --lr 0.1 --steps 1000 --plot onecycle.svg
  host-train curve --schedule '{\"kind\":\"timm.CosineLRScheduler\",\"t_initial\":40,\"warmup_t\":5}' --lr 0.05 --steps 100
  host-train curve --schedule '{\"kind\":\"OneCycleLR\",\"max_lr\":[0.01,0.1],\"total_steps\":100}' --lr 0.01,0.1 --momentum 0.9 --steps 100
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
    /// The optimizer's initial lr, as in PyTorch's SGD(lr=...); several param groups as a
    /// comma-separated list, one lr per group (`0.01,0.1`), where the schedule may give
    /// PyTorch's per-group arguments as lists ("max_lr": [0.01, 0.1]).
    #[arg(long, requires = "schedule", allow_hyphen_values = true)]
    lr: Option<String>,
    /// The optimizer's initial momentum, as in SGD(momentum=...); one per param group, or one
    /// for all.
    #[arg(
        long,
        default_value = "0",
        requires = "schedule",
        allow_hyphen_values = true
    )]
    momentum: String,
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

/// What a curve is computed from: one spec per param group (one group unless `--lr` lists
/// several).
struct CurveRequest {
    title: String,
    specs: Vec<Spec>,
    lrs: Vec<f32>,
    momenta: Vec<f32>,
    steps: usize,
    step_every: usize,
}

/// Most steps kept in memory for `--format json` and `--plot` (CSV streams any number).
const MAX_KEPT_STEPS: usize = 20_000_000;

/// Most param groups `--lr` may list.
const MAX_GROUPS: usize = 8;

/// One group's curve: its lr and momentum at every optimizer step.
#[derive(Default)]
struct GroupCurve {
    lrs: Vec<f32>,
    momenta: Vec<f32>,
}

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
    let groups = request.lrs.len();
    let mut values = curve(&request, metrics.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !keep {
        write_csv_header(&mut out, groups)?;
        for (i, value) in values.enumerate() {
            write_csv_row(&mut out, i, &value?)?;
        }
        out.flush()?;
        return Ok(());
    }
    let mut curves: Vec<GroupCurve> = (0..groups).map(|_| GroupCurve::default()).collect();
    for value in &mut values {
        for (curve, &(lr, m)) in curves.iter_mut().zip(&value?) {
            curve.lrs.push(lr);
            curve.momenta.push(m);
        }
    }
    if let Some(path) = &args.plot {
        let series: Vec<_> = curves
            .iter()
            .map(|c| (c.lrs.as_slice(), c.momenta.as_slice()))
            .collect();
        crate::plot::schedule_curve(path, &request.title, &series)?;
    }
    match args.format {
        Format::Csv => {
            write_csv_header(&mut out, groups)?;
            for i in 0..request.steps.min(curves[0].lrs.len()) {
                let row: Vec<_> = curves.iter().map(|c| (c.lrs[i], c.momenta[i])).collect();
                write_csv_row(&mut out, i, &row)?;
            }
        }
        Format::Json => {
            let doc = if let [curve] = curves.as_slice() {
                serde_json::json!({
                    "title": request.title,
                    "spec": request.specs[0],
                    "lr": curve.lrs,
                    "momentum": curve.momenta,
                })
            } else {
                serde_json::json!({
                    "title": request.title,
                    "specs": request.specs,
                    "lr": curves.iter().map(|c| &c.lrs).collect::<Vec<_>>(),
                    "momentum": curves.iter().map(|c| &c.momenta).collect::<Vec<_>>(),
                })
            };
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `step,lr,momentum`, or with several groups `step,lr_0,momentum_0,lr_1,momentum_1,...`.
fn write_csv_header(out: &mut impl Write, groups: usize) -> Result<()> {
    write!(out, "step")?;
    if groups == 1 {
        write!(out, ",lr,momentum")?;
    } else {
        for g in 0..groups {
            write!(out, ",lr_{g},momentum_{g}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn write_csv_row(out: &mut impl Write, step: usize, values: &[(f32, f32)]) -> Result<()> {
    write!(out, "{step}")?;
    for (lr, m) in values {
        write!(out, ",{lr:.8e},{m:.8e}")?;
    }
    writeln!(out)?;
    Ok(())
}

fn request(args: &CurveArgs) -> Result<CurveRequest> {
    if let Some(json) = &args.schedule {
        let Some(lr) = &args.lr else {
            bail!("--lr is required with --schedule")
        };
        let lrs = parse_list("--lr", lr)?;
        if lrs.len() > MAX_GROUPS {
            bail!("--lr: at most {MAX_GROUPS} param groups, got {}", lrs.len());
        }
        let momenta = parse_list("--momentum", &args.momentum)?;
        if momenta.len() != 1 && momenta.len() != lrs.len() {
            bail!(
                "--momentum: must give one momentum, or one per param group ({}), got {}",
                lrs.len(),
                momenta.len()
            );
        }
        let mut reader = serde_json::Deserializer::from_str(json);
        let specs = Spec::for_groups(&mut reader, lrs.len())
            .and_then(|specs| reader.end().map(|()| specs))
            .context("--schedule")?;
        let Some(steps) = &args.steps else {
            bail!("--steps is required with --schedule")
        };
        let steps = parse_steps(steps)?;
        if args.step_every == 0 {
            bail!("--step-every must be >= 1");
        }
        return Ok(CurveRequest {
            title: specs[0].kind().to_string(),
            specs,
            lrs,
            momenta,
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
        specs: vec![run.schedule.clone()],
        lrs: vec![run.lr],
        momenta: vec![run.momentum()],
        steps: config.epochs as usize * batches,
        step_every: match run.step {
            Stepping::Batch => 1,
            Stepping::Epoch => batches,
        },
    })
}

/// The study's plotting loop (`sched_core::Curve`): each group's lr and momentum at each
/// optimizer step, `scheduler.step()` every `step_every` optimizer steps, with the next metric
/// for ReduceLROnPlateau. A failed step is `sched_core::CurveError`'s text, the page's too.
fn curve<'a>(
    req: &'a CurveRequest,
    metrics: Option<&'a [f32]>,
) -> Result<impl Iterator<Item = Result<Vec<(f32, f32)>>> + 'a> {
    let step_every = u32::try_from(req.step_every).context("--step-every must fit in u32")?;
    // A schedule of the run's progress (fastai's) that leaves out its length runs over the
    // curve's scheduler steps.
    let length = u32::try_from(req.steps.div_ceil(req.step_every.max(1))).unwrap_or(u32::MAX);
    let specs: Vec<Spec> = req
        .specs
        .iter()
        .map(|spec| spec.clone().with_total_steps(length))
        .collect();
    let scheduler = GroupScheduler::<MAX_GROUPS>::new(&specs, &req.lrs, &req.momenta)?;
    if scheduler.needs_metric() && metrics.is_none() {
        bail!(
            "--metrics is required for {}: a file with one metric per line",
            req.specs[0].kind()
        );
    }
    let values = Curve::new(scheduler, step_every, metrics.unwrap_or(&[]));
    Ok(values
        .take(req.steps)
        .map(|value| value.map(|v| v.to_vec()).map_err(anyhow::Error::from)))
}

/// A comma-separated list of numbers (`0.01,0.1`), with a message naming the option.
fn parse_list(option: &str, text: &str) -> Result<Vec<f32>> {
    text.split(',')
        .map(|item| {
            item.trim().parse::<f32>().map_err(|_| {
                anyhow::anyhow!(
                    "{option}: must be a number or a comma-separated list of numbers, got `{text}`"
                )
            })
        })
        .collect()
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
