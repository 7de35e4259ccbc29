//! `host-train bench`: trains the study's CNN under every run of a run config.

use crate::cli::lr_find;
use crate::cli::setup::{ConfigSource, Engine, Machine};
use crate::config::{Fill, Run, RunConfig};
use crate::data::Dataset;
use crate::nn::backend::Target;
use crate::nn::cpu::CpuModels;
use crate::nn::net::Net;
use crate::results::LrFindRecord;
use crate::results::{self, DataId, Plan, RunConfigText};
use crate::train::{self, range_test, AbortAt, GroupJob, Member};
use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  host-train bench --preset tutorial
  host-train bench --preset tutorial --epochs 3 --seeds 2 --out runs/quick
  host-train bench --preset tutorial --runs \"Constant Learning Rate\" --subset 6000 --epochs 2
  host-train bench --preset tutorial --fuse 1            # one pair after another instead of fused groups
  host-train bench --preset tutorial --isa avx2          # force a kernel path (default: the fastest this CPU has)
  host-train bench --preset tutorial --shard 0/4 --out runs/sweep/shard0   # then: host-train report runs/sweep/shard* --out runs/sweep/all")]
pub struct BenchArgs {
    #[command(flatten)]
    source: ConfigSource,
    /// Only these runs (exact names; repeat the flag or give several).
    #[arg(long, num_args = 1..)]
    runs: Vec<String>,
    /// Epochs per run (default: the config's; a config without `epochs` needs it).
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
    /// First seed (default: the config's `seed`; a config without `seed` needs it).
    #[arg(long)]
    seed: Option<u64>,
    /// cpu (default) or cuda (needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    #[command(flatten)]
    machine: Machine,
    /// Output folder (default: `runs/<timestamp>`).
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
    /// Check everything (arguments, run config, data, --init), print what would be trained, and
    /// exit without training or writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Train at most K (run, seed) pairs of the same seed together, in one pass over each batch
    /// (default: all that fit in --fuse-memory; 1: one after another).
    #[arg(long, value_name = "K")]
    fuse: Option<usize>,
    /// Memory budget in MiB for one fused group's weights, momentum and gradients (sets the default --fuse).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    fuse_memory: usize,
    /// Start every pair from these weights (a safetensors file with PyTorch's state_dict names
    /// `seq.0.weight` ... `seq.7.bias`, f32) instead of the seed's PyTorch-style init.
    #[arg(long, value_name = "FILE.safetensors")]
    init: Option<PathBuf>,
    /// Die like a killed process right after every pair's checkpoint of epoch N (`N/M`: after the
    /// first M pairs' of a group), to test --resume.
    #[arg(long, value_name = "N[/M]", hide = true, value_parser = parse_abort_at)]
    abort_after_epoch: Option<AbortAt>,
    /// The order of the training images: a seeded shuffle every epoch, or the file's order.
    #[arg(long, value_enum, default_value_t = Order::Shuffle)]
    order: Order,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Order {
    /// Reshuffled every epoch (ChaCha8 of the seed).
    Shuffle,
    /// As in the IDX file, every epoch (for comparisons with other trainers).
    File,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum DeviceArg {
    Cpu,
    Cuda,
}

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

pub fn make_device(cuda: bool) -> Result<Device> {
    if !cuda {
        return Ok(Device::Cpu);
    }
    if !cfg!(feature = "cuda") {
        bail!("--device cuda: this host-train was built without CUDA; rebuild with `cargo build --release -p host-train --features cuda` (needs the CUDA toolkit), or use --device cpu");
    }
    Device::new_cuda(0).context("--device cuda: no usable CUDA device")
}

/// What a bench trains, checked and read before anything is written.
struct Bench<'a> {
    args: &'a BenchArgs,
    config: RunConfig,
    epochs: u32,
    target: Target,
    data: Dataset,
    net: Net,
    /// `--init`: every pair's initial parameters.
    init: Option<Vec<f32>>,
    plan: Plan,
    out: PathBuf,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let bench = Bench::prepare(&args)?;
    let runs = selected_runs(&bench.config, &args.runs)?;
    let seeds = &bench.plan.seeds;
    // Every (run, seed) pair, then this shard's share.
    let pairs: Vec<(&Run, u64)> = runs
        .iter()
        .flat_map(|r| seeds.iter().map(move |&s| (*r, s)))
        .collect();
    let mine: Vec<_> = pairs
        .iter()
        .enumerate()
        .filter(|(j, _)| bench.plan.shard.is_none_or(|(i, n)| j % n == i))
        .map(|(_, p)| *p)
        .collect();
    bench.announce(mine.len(), pairs.len());
    let batch_size = bench.config.batch_size;
    let fuse = args.fuse.unwrap_or_else(|| {
        (args.fuse_memory << 20) / CpuModels::bytes_per_model(&bench.net, batch_size).max(1)
    });
    let groups = plan_groups(&bench.out, &bench.net, &mine, fuse.max(1))?;
    eprintln!(
        "host-train bench: {} unfinished pair(s) in {} group(s) of up to {} trained together (--fuse)",
        groups.iter().map(Vec::len).sum::<usize>(),
        groups.len(),
        groups.iter().map(Vec::len).max().unwrap_or(0)
    );
    if args.dry_run {
        return Ok(());
    }
    bench.start()?;
    bench.train(&mine, groups)?;
    crate::report::write_all(std::slice::from_ref(&bench.out), &bench.out, !args.no_plots)?;
    eprintln!("results: {}", bench.out.join("results.md").display());
    Ok(())
}

impl<'a> Bench<'a> {
    /// Checks the arguments, reads the run config, the data and `--init`, and checks `--resume`
    /// against the bench folder: all one-line errors (exit 2), nothing written.
    fn prepare(args: &'a BenchArgs) -> Result<Self> {
        let fill = Fill {
            epochs: args.epochs,
            seed: args.seed,
        };
        let (config, text) = args.source.load(fill)?;
        let runs = selected_runs(&config, &args.runs)?;
        check_counts(args)?;
        let shard = args.shard.as_deref().map(parse_shard).transpose()?;
        let target = Target {
            device: make_device(args.device == DeviceArg::Cuda)?,
            isa: args.machine.start()?,
            candle: args.machine.engine == Engine::Candle,
            convolution: args.machine.convolution,
        };
        let epochs = config.epochs;
        let seeds: Vec<u64> = (0..args.seeds as u64).map(|k| config.seed + k).collect();
        let out = args.out.clone().unwrap_or_else(|| {
            PathBuf::from("runs").join(chrono::Local::now().format("%Y%m%d-%H%M%S").to_string())
        });
        let mut data = args.machine.load_data(config.validation, args.subset)?;
        if let Some(n) = args.test_subset {
            data.test.truncate(n);
        }
        let data_dir = args.machine.data_dir();
        let plan = Plan {
            config: RunConfigText(text),
            runs: runs.iter().map(|r| r.name.clone()).collect(),
            epochs,
            subset: args.subset,
            test_subset: args.test_subset,
            seeds,
            shard,
            device: format!("{:?}", args.device).to_lowercase(),
            init: args.init.clone(),
            file_order: args.order == Order::File,
            data: Some(DataId {
                name: data_dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                sha256: data.sha256.clone(),
                note: None,
            }),
            convolution: target
                .on_kernels()
                .then(|| target.convolution.name().to_string()),
        };
        let net = Net::new(&config.model.conv, data.train.rows, data.train.cols)?;
        let init = args
            .init
            .as_deref()
            .map(|path| read_init(&net, path))
            .transpose()?;
        let bench = Self {
            args,
            config,
            epochs,
            target,
            data,
            net,
            init,
            plan,
            out,
        };
        bench.check_resume()?;
        Ok(bench)
    }

    /// `--resume` needs the bench folder started with the same arguments; without it, the folder
    /// must hold no bench.
    fn check_resume(&self) -> Result<()> {
        let plan_path = results::plan_path(&self.out);
        let out = self.out.display();
        if !self.args.resume {
            if plan_path.exists() {
                bail!(
                    "{out} already holds a bench: pass --resume to continue it, or another --out"
                );
            }
            return Ok(());
        }
        let text = std::fs::read_to_string(&plan_path)
            .with_context(|| format!("--resume: {out} has no bench to resume (no bench.json)"))?;
        let old: Plan = serde_json::from_str(&text)
            .with_context(|| format!("--resume: corrupt {}", plan_path.display()))?;
        // Benches started before data checksums were recorded resume without that check.
        let mut same = self.plan.clone();
        if old.data.is_none() {
            same.data = None;
        }
        // Benches started before the Winograd kernels trained on the direct ones.
        let old_convolution = old.convolution.as_deref().unwrap_or("direct");
        if let Some(now) = same.convolution.as_deref() {
            if now != old_convolution {
                bail!("--resume: {out} was trained with --convolution {old_convolution}; give it again");
            }
            if old.convolution.is_none() {
                same.convolution = None;
            }
        }
        if old != same {
            bail!("--resume: the arguments differ from those {out} was started with; give the same ones");
        }
        Ok(())
    }

    /// The first line of what it will do.
    fn announce(&self, mine: usize, pairs: usize) {
        let device = if self.target.on_kernels() {
            let conv = self.target.convolution.name();
            format!(
                "cpu ({} kernels, {conv} convolutions)",
                self.target.isa.name()
            )
        } else if self.target.device.is_cpu() {
            "cpu (candle)".to_string()
        } else {
            self.plan.device.clone()
        };
        eprintln!(
            "host-train bench: {mine} pair(s) of {pairs} (runs x seeds), {} epochs, {} train / {} test images from {}, batch {}, {} thread(s), device {device}, out {}",
            self.epochs,
            self.data.train.len(),
            self.data.test.len(),
            self.data.dir.display(),
            self.config.batch_size,
            rayon::current_num_threads(),
            self.out.display()
        );
    }

    /// Creates the bench folder and records the plan (a resumed bench keeps its own).
    fn start(&self) -> Result<()> {
        let out = &self.out;
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        if !self.args.resume {
            let plan_path = results::plan_path(out);
            std::fs::write(&plan_path, serde_json::to_string_pretty(&self.plan)?)
                .with_context(|| format!("cannot write {}", plan_path.display()))?;
        }
        Ok(())
    }

    /// Runs the range tests the runs need, then trains each group of `mine` (pairs by index).
    fn train(&self, mine: &[(&Run, u64)], groups: Vec<Vec<usize>>) -> Result<()> {
        let file_order = self.args.order == Order::File;
        let machine = (&self.target, &self.net);
        let batch_size = self.config.batch_size;
        let init = self.init.as_deref();
        let found = find_lrs(
            &self.out, mine, &self.data, batch_size, machine, init, file_order,
        )?;
        let progress = indicatif::MultiProgress::new();
        let label = |k: usize| {
            let (run, seed) = mine[k];
            format!("[{}/{}] {} (seed {})", k + 1, mine.len(), run.name, seed)
        };
        for (k, &(run, seed)) in mine.iter().enumerate() {
            if results::result_path(&results::pair_dir(&self.out, &run.name, seed)).exists() {
                eprintln!("{}: already finished, kept", label(k));
            }
        }
        let n_groups = groups.len();
        for (g, group) in groups.into_iter().enumerate() {
            let seed = mine[group[0]].1;
            let members = group
                .iter()
                .map(|&k| {
                    Ok(Member {
                        run: &found[k].0,
                        groups: found[k].0.param_groups(self.net.layers().len())?,
                        lr_find: found[k].1.as_ref(),
                        dir: results::pair_dir(&self.out, &mine[k].0.name, seed),
                        label: label(k),
                    })
                })
                .collect::<Result<_>>()?;
            let job = GroupJob {
                members,
                seed,
                epochs: self.epochs,
                batch_size,
                data: &self.data,
                target: &self.target,
                net: &self.net,
                init,
                file_order,
                label: format!(
                    "group {}/{n_groups} ({} models, seed {seed})",
                    g + 1,
                    group.len()
                ),
                abort_at: self.args.abort_after_epoch,
            };
            for m in &job.members {
                results::record_build(&m.dir)?;
            }
            train::train_group(&job, &progress)?;
        }
        Ok(())
    }
}

/// The runs to train: all, or those `--runs` names (each must exist).
fn selected_runs<'c>(config: &'c RunConfig, names: &[String]) -> Result<Vec<&'c Run>> {
    for name in names {
        config.run(name)?;
    }
    let runs: Vec<&Run> = config
        .runs
        .iter()
        .filter(|r| names.is_empty() || names.contains(&r.name))
        .collect();
    if runs.is_empty() {
        bail!("the run config has no runs");
    }
    Ok(runs)
}

fn parse_abort_at(text: &str) -> Result<AbortAt, String> {
    AbortAt::parse(text).ok_or_else(|| format!("expected N or N/M, got `{text}`"))
}

/// The counts a bench takes are each >= 1.
fn check_counts(args: &BenchArgs) -> Result<()> {
    let counts = [
        ("--test-subset", args.test_subset),
        ("--epochs", args.epochs.map(|e| e as usize)),
        ("--seeds", Some(args.seeds as usize)),
        ("--fuse", args.fuse),
        ("--fuse-memory", Some(args.fuse_memory)),
    ];
    for (flag, value) in counts {
        if value == Some(0) {
            bail!("{flag} must be >= 1");
        }
    }
    Ok(())
}

/// `--init`: the parameters of a safetensors file with PyTorch's `state_dict` names, read and checked
/// once, before anything is written.
fn read_init(net: &Net, path: &std::path::Path) -> Result<Vec<f32>> {
    let mut tensors = crate::nn::tensors::load_tensors(path).context("--init")?;
    let origin = format!("--init {}", path.display());
    crate::nn::backend::take_params(net, &mut tensors, "", &origin)
}

/// Each pair's run as it trains: a run that finds its lr (`"find"` in the config) gets the
/// suggestion of an LR range test of its own seed (the same initial weights and first batches
/// as its training), with the test's record. The test is kept in the pair's folder
/// (`lr_find.json`), so a resumed bench reuses it.
fn find_lrs(
    out: &std::path::Path,
    mine: &[(&Run, u64)],
    data: &crate::data::Dataset,
    batch_size: usize,
    (target, net): (&Target, &Net),
    init: Option<&[f32]>,
    file_order: bool,
) -> Result<Vec<(Run, Option<LrFindRecord>)>> {
    let mut found = Vec::new();
    // Runs of one seed with the same optimizer that start at the same momentum share one test: the
    // same weights, batches, updates and lrs give the same curve.
    let mut tested: Vec<((u64, crate::optim::Optimizer, u32), LrFindRecord)> = Vec::new();
    for &(run, seed) in mine {
        let Some(find) = run.find else {
            found.push((run.clone(), None));
            continue;
        };
        let dir = results::pair_dir(out, &run.name, seed);
        let momentum = range_test::start_momentum(run)?;
        let key = (seed, run.optimizer(), momentum.to_bits());
        let record = match results::read_lr_find(&dir)? {
            Some(record) => record,
            None => {
                let record = match tested.iter().find(|(k, _)| *k == key) {
                    Some((_, record)) => record.clone(),
                    None => {
                        let sweep = lr_find::SweepArgs::default();
                        let mut finder = lr_find::new_finder(&sweep, momentum)?;
                        let setup = range_test::Setup {
                            data,
                            batch_size,
                            seed,
                            file_order,
                            target,
                            net,
                            init,
                            optimizer: run.optimizer(),
                        };
                        let raw = range_test::range_test(&setup, &mut finder)?;
                        lr_find::record(&finder, &sweep, &raw)
                    }
                };
                results::write_lr_find(&dir, &record)?;
                record
            }
        };
        if !tested.iter().any(|(k, _)| *k == key) {
            tested.push((key, record.clone()));
        }
        let lr = record.suggested(find.rule).with_context(|| {
            format!(
                "run `{}` (seed {seed}): `{} = \"find\"`",
                run.name,
                find.target.key()
            )
        })?;
        eprintln!(
            "host-train bench: LR range test for `{}` (seed {seed}): {} {lr:e} -> {}",
            run.name,
            find.rule,
            find.target.key()
        );
        found.push((run.with_found_lr(lr)?, Some(record)));
    }
    Ok(found)
}

/// The unfinished pairs of `mine` (indices) in fused groups: pairs of one seed whose checkpoints are at
/// the same epoch, in config order, at most `fuse` per group. (Pairs of one seed share the initial
/// weights and the data order; a pair killed between two members' checkpoints trains apart until done.)
fn plan_groups(
    out: &std::path::Path,
    net: &Net,
    mine: &[(&Run, u64)],
    fuse: usize,
) -> Result<Vec<Vec<usize>>> {
    let mut keyed: Vec<((u64, u32), Vec<usize>)> = Vec::new();
    for (k, &(run, seed)) in mine.iter().enumerate() {
        let dir = results::pair_dir(out, &run.name, seed);
        if results::result_path(&dir).exists() {
            let _ = results::read_pair(&dir)?;
            continue;
        }
        let ranges = crate::train::param_ranges(net, &run.param_groups(net.layers().len())?);
        let found = crate::train::checkpoint::find(&dir, net, &run.optimizer(), &ranges)?;
        let done = found.checkpoint.map_or(0, |c| c.state.epochs_done);
        match keyed.iter_mut().find(|(key, _)| *key == (seed, done)) {
            Some((_, v)) => v.push(k),
            None => keyed.push(((seed, done), vec![k])),
        }
    }
    Ok(keyed
        .into_iter()
        .flat_map(|(_, v)| v.chunks(fuse).map(<[usize]>::to_vec).collect::<Vec<_>>())
        .collect())
}
