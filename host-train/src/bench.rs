//! `host-train bench`: trains the study's CNN under every run of a run config.

use crate::config::RunConfig;
use crate::train::{self, PairJob, PairResult};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train bench --preset tutorial
  host-train bench --preset tutorial --epochs 3 --seeds 2 --out runs/quick
  host-train bench --preset tutorial --runs \"Constant Learning Rate\" --subset 6000 --epochs 2
  host-train bench --preset tutorial --shard 0/4 --out runs/sweep/shard0   # then: host-train report runs/sweep/shard* --out runs/sweep/all")]
pub struct BenchArgs {
    /// A shipped run config (`tutorial`: the study's 14 runs).
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A run config TOML file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Only these runs (exact names; repeat the flag or give several).
    #[arg(long, num_args = 1..)]
    runs: Vec<String>,
    /// Epochs per run (default: the config's).
    #[arg(long)]
    epochs: Option<u32>,
    /// Train on the first N training images only.
    #[arg(long)]
    subset: Option<usize>,
    /// Evaluate on the first N test images only (default: all 10,000).
    #[arg(long)]
    test_subset: Option<usize>,
    /// Repeat each run with K seeds (seed, seed+1, ...).
    #[arg(long, default_value_t = 1)]
    seeds: u32,
    /// First seed (default: the config's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// cpu (default) or cuda (needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// CPU threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder (default: runs/<timestamp>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue an interrupted bench in --out: finished pairs are kept, unfinished ones continue from
    /// their last epoch checkpoint.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Run only every N-th (run, seed) pair, starting at I (0-based): I/N, e.g. 0/4 .. 3/4.
    #[arg(long)]
    shard: Option<String>,
    /// Skip the plots (tables only; `host-train report DIR` draws them later).
    #[arg(long)]
    no_plots: bool,
    /// Fashion-MNIST folder (default: $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    data: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum DeviceArg {
    Cpu,
    Cuda,
}

/// What a bench folder was made with (`bench.json`): `--resume` checks it, `report` reads it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub config: RunConfigText,
    pub runs: Vec<String>,
    pub epochs: u32,
    pub subset: Option<usize>,
    pub test_subset: Option<usize>,
    pub seeds: Vec<u64>,
    pub shard: Option<(usize, usize)>,
    pub device: String,
}

/// The run config as TOML text (exact, for the record).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct RunConfigText(pub String);

pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || anyhow::anyhow!("invalid --shard `{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Folder of one (run, seed) pair under `out/runs/`.
pub fn pair_dir(out: &Path, name: &str, seed: u64) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.join("runs").join(format!("{slug}-seed{seed}"))
}

pub fn make_device(cuda: bool) -> Result<Device> {
    if !cuda {
        return Ok(Device::Cpu);
    }
    if !cfg!(feature = "cuda") {
        bail!("--device cuda: this host-train was built without CUDA; rebuild with `cargo build --release -p host-train --features cuda` (needs the CUDA toolkit), or use --device cpu");
    }
    Device::new_cuda(0).context("--device cuda: no usable CUDA device")
}

pub fn run(args: BenchArgs) -> Result<()> {
    // Input checks first: all are one-line errors (exit 2).
    let (config, text) = match (&args.preset, &args.config) {
        (Some(p), None) => {
            let c = RunConfig::preset(p)?;
            (c, crate::config::TUTORIAL_PRESET.to_string())
        }
        (None, Some(path)) => {
            let c = RunConfig::load(path)?;
            (c, std::fs::read_to_string(path)?)
        }
        (None, None) => bail!("give --preset tutorial or --config FILE"),
        (Some(_), Some(_)) => bail!("give --preset or --config, not both"),
    };
    for name in &args.runs {
        config.run(name)?;
    }
    let runs: Vec<&crate::config::Run> = if args.runs.is_empty() {
        config.runs.iter().collect()
    } else {
        config
            .runs
            .iter()
            .filter(|r| args.runs.contains(&r.name))
            .collect()
    };
    if runs.is_empty() {
        bail!("the run config has no runs");
    }
    if args.subset == Some(0) {
        bail!("--subset must be >= 1");
    }
    if args.test_subset == Some(0) {
        bail!("--test-subset must be >= 1");
    }
    if args.epochs == Some(0) {
        bail!("--epochs must be >= 1");
    }
    if args.seeds == 0 {
        bail!("--seeds must be >= 1");
    }
    if args.threads == Some(0) {
        bail!("--threads must be >= 1");
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let device = make_device(args.device == DeviceArg::Cuda)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // Ignore "already built" (tests call run() more than once in-process).
    crate::conv::keep_freed_memory();
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();

    let epochs = args.epochs.unwrap_or(config.epochs);
    let first_seed = args.seed.unwrap_or(config.seed);
    let seeds: Vec<u64> = (0..args.seeds as u64).map(|k| first_seed + k).collect();
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(chrono::Local::now().format("%Y%m%d-%H%M%S").to_string())
    });
    let plan = Plan {
        config: RunConfigText(text),
        runs: runs.iter().map(|r| r.name.clone()).collect(),
        epochs,
        subset: args.subset,
        test_subset: args.test_subset,
        seeds: seeds.clone(),
        shard,
        device: format!("{:?}", args.device).to_lowercase(),
    };
    let plan_path = out.join("bench.json");
    if args.resume {
        let old: Plan =
            serde_json::from_str(&std::fs::read_to_string(&plan_path).with_context(|| {
                format!(
                    "--resume: {} has no bench to resume (no bench.json)",
                    out.display()
                )
            })?)
            .with_context(|| format!("--resume: corrupt {}", plan_path.display()))?;
        if old != plan {
            bail!(
                "--resume: the arguments differ from those {} was started with; give the same ones",
                out.display()
            );
        }
    } else if plan_path.exists() {
        bail!(
            "{} already holds a bench: pass --resume to continue it, or another --out",
            out.display()
        );
    }

    let data_dir = crate::data::resolve_dir(args.data.as_deref());
    let mut data = crate::data::load(&data_dir)?;
    if let Some(n) = args.subset {
        data.train.truncate(n);
    }
    if let Some(n) = args.test_subset {
        data.test.truncate(n);
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    if !args.resume {
        std::fs::write(&plan_path, serde_json::to_string_pretty(&plan)?)
            .with_context(|| format!("cannot write {}", plan_path.display()))?;
    }

    // Every (run, seed) pair, then this shard's share.
    let pairs: Vec<(&crate::config::Run, u64)> = runs
        .iter()
        .flat_map(|r| seeds.iter().map(move |&s| (*r, s)))
        .collect();
    let mine: Vec<_> = pairs
        .iter()
        .enumerate()
        .filter(|(j, _)| shard.is_none_or(|(i, n)| j % n == i))
        .map(|(_, p)| *p)
        .collect();
    eprintln!(
        "host-train bench: {} pair(s) of {} (runs x seeds), {} epochs, {} train / {} test images from {}, batch {}, {} thread(s), device {}, out {}",
        mine.len(),
        pairs.len(),
        epochs,
        data.train.len(),
        data.test.len(),
        data.dir.display(),
        config.batch_size,
        threads,
        plan.device,
        out.display()
    );
    let progress = indicatif::MultiProgress::new();
    let total = mine.len();
    for (k, (run, seed)) in mine.into_iter().enumerate() {
        let dir = pair_dir(&out, &run.name, seed);
        if train::result_path(&dir).exists() {
            let _: PairResult = crate::report::read_pair(&dir)?;
            eprintln!(
                "[{}/{}] {} seed {}: already finished, kept",
                k + 1,
                total,
                run.name,
                seed
            );
            continue;
        }
        let job = PairJob {
            run,
            seed,
            epochs,
            batch_size: config.batch_size,
            data: &data,
            device: &device,
            dir,
            label: format!("[{}/{}] {} (seed {})", k + 1, total, run.name, seed),
        };
        train::train_pair(&job, &progress)?;
    }
    crate::report::write_all(std::slice::from_ref(&out), &out, !args.no_plots)?;
    eprintln!("results: {}", out.join("results.md").display());
    Ok(())
}
