//! The on-disk format of a bench folder, read and written here only:
//!
//! ```text
//! OUT/bench.json                       the Plan (what the bench was started with)
//! OUT/runs/<slug>-seed<S>/state.json   a pair's last checkpoint: epochs done, scheduler, records, traces
//! OUT/runs/<slug>-seed<S>/state-previous.json   the checkpoint before it (crate::train::checkpoint)
//! OUT/runs/<slug>-seed<S>/model-epochNNN.safetensors   their parameters and optimizer buffers
//! OUT/runs/<slug>-seed<S>/result.json  the finished pair's PairResult
//! OUT/runs/<slug>-seed<S>/lr_find.json the LR range test of a run that finds its lr (LrFindRecord)
//! OUT/runs/<slug>-seed<S>/builds.json  the builds of host-train that trained it ([Build], in order)
//! OUT/results.{json,csv,md}, trace.csv, plots/   the report (crate::report)
//! ```

pub mod set;
pub mod stats;
pub mod study;

use crate::config::Stepping;
use anyhow::{bail, Context, Result};
use sched_core::Spec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
    /// `--init`: initial weights for every pair (else each seed's PyTorch-style init).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
    /// `--order file`: the training images in file order every epoch (else a seeded shuffle).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file_order: bool,
    /// The data set: its folder's name and the SHA-256 of its four files (not its path, which is
    /// the machine's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataId>,
    /// `--convolution` of host-train's CPU kernels (`None`: candle trains, or a bench started before
    /// the Winograd kernels, which trained on the direct ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convolution: Option<String>,
}

/// Which data a bench trained on, comparable across machines.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DataId {
    pub name: String,
    pub sha256: std::collections::BTreeMap<String, String>,
    /// How the checksums were obtained when the bench itself did not record them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The code a host-train binary was built from: its git commit, and whether tracked files of
/// host-train, sched-core or the workspace manifest differed from it (`dirty`). `unknown` when it
/// was built outside a git checkout.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Build {
    pub commit: String,
    pub dirty: bool,
}

impl Build {
    /// This binary's build (host-train/build.rs).
    pub fn this_binary() -> Build {
        Build {
            commit: option_env!("HOST_TRAIN_GIT_COMMIT")
                .unwrap_or("unknown")
                .to_string(),
            dirty: option_env!("HOST_TRAIN_GIT_DIRTY") != Some("false"),
        }
    }
}

pub fn builds_path(pair: &Path) -> PathBuf {
    pair.join("builds.json")
}

/// The builds that trained a pair, oldest first (empty for a pair trained before they were kept).
pub fn read_builds(pair: &Path) -> Result<Vec<Build>> {
    let path = builds_path(pair);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("corrupt {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Adds this binary's build to the pair's list before it trains (a resumed pair may have several).
pub fn record_build(pair: &Path) -> Result<()> {
    let mut builds = read_builds(pair)?;
    let this = Build::this_binary();
    if builds.last() != Some(&this) {
        builds.push(this);
        std::fs::create_dir_all(pair)
            .with_context(|| format!("cannot create {}", pair.display()))?;
        write_atomic(
            &builds_path(pair),
            serde_json::to_string_pretty(&builds)?.as_bytes(),
        )?;
    }
    Ok(())
}

/// The run config as TOML text (exact, for the record).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct RunConfigText(pub String);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_loss: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
    /// The lr of the epoch's first batch.
    pub lr: f32,
    /// The momentum of the epoch's first batch.
    pub momentum: f32,
    /// Loss and accuracy on the validation images held out of the training set (`validation` in
    /// the run config), when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f32>,
}

/// The result of one (run, seed) pair.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairResult {
    pub name: String,
    /// The lr schedule (with param groups: the first group's).
    pub spec: Spec,
    /// With param groups: each group's lr schedule, and the groups as the run config gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_specs: Vec<Spec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_groups: Vec<crate::config::GroupConfig>,
    /// The hyperparameters' schedules, as the run config gave them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub hyperparameters: std::collections::BTreeMap<String, crate::config::HyperSchedule>,
    pub step: Stepping,
    pub lr: f32,
    /// The optimizer's momentum (SGD's `momentum`, Adam's `betas[0]`) before any schedule changes it.
    pub momentum: f32,
    /// The optimizer with all its parameters (results before this field: SGD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<crate::optim::Optimizer>,
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    pub final_accuracy: f32,
    pub final_test_loss: f32,
    /// Training images per second of wall time of the group this pair trained in (a fused group of
    /// K models trains K times as many model-images in that time).
    pub train_images_per_sec: f64,
    pub eval_images_per_sec: f64,
    pub wall_seconds: f64,
    pub train_images: usize,
    pub test_images: usize,
    pub batch_size: usize,
    /// How many models trained together with this one (the last epoch's group; 1: alone).
    #[serde(default = "one")]
    pub fused: usize,
    /// lr and momentum in effect at every optimizer step (omitted from the merged results.json).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace_lr: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace_momentum: Vec<f32>,
    /// Training loss of every optimizer step (omitted from the merged results.json).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace_loss: Vec<f32>,
    /// The range test that set the lr, for a run that finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_find: Option<FoundLr>,
    /// The network trained (results before this field: the study's).
    #[serde(default)]
    pub model: crate::config::Network,
    /// What computed it: the CPU kernels' path (`avx512`, `avx2`, `neon`, `portable`) or `cuda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernels: Option<String>,
    /// Each convolution's CPU kernels: `direct`, `winograd-f2` or `winograd-f4` (empty: candle
    /// trained it, or it predates the Winograd kernels and trained on the direct ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub convolutions: Vec<String>,
}

impl PairResult {
    /// Validation accuracy after the last epoch (`None`: the run had no validation set).
    pub fn final_val_accuracy(&self) -> Option<f32> {
        self.epochs.last().and_then(|e| e.val_accuracy)
    }
}

/// A finished LR range test: `lr_find.json` (of `lr-find`, and of a pair that found its lr) and
/// results.json.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LrFindRecord {
    pub start_lr: f64,
    pub end_lr: f64,
    pub iters: u32,
    /// `exp` or `linear`.
    pub mode: String,
    pub momentum: f32,
    /// `finished`, `diverged` or `non-finite loss`.
    pub stopped: String,
    /// Every suggestion by name (`null`: the curve allows none).
    pub suggestions: std::collections::BTreeMap<String, Option<SuggestedLr>>,
    /// The curve: lr, raw loss and smoothed loss of every step (`null` for a loss that is not a
    /// finite number).
    pub lr: Vec<f32>,
    pub loss: Vec<Option<f32>>,
    pub smoothed_loss: Vec<Option<f32>>,
}

/// One suggestion of a range test.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct SuggestedLr {
    pub lr: f32,
    /// The step (row of `lr_find.csv`) it comes from.
    pub step: usize,
}

impl LrFindRecord {
    /// The lr `rule` suggested, or an error saying why there is none.
    pub fn suggested(&self, rule: sched_core::Suggestion) -> Result<f32> {
        if let Some(s) = self.suggestions.get(rule.name()).copied().flatten() {
            return Ok(s.lr);
        }
        let why = if self.loss.first().is_some_and(Option::is_none) {
            "the loss was not a finite number from the first step".to_string()
        } else {
            format!(
                "too few points after trimming (it needs {})",
                rule.min_points()
            )
        };
        bail!(
            "the LR range test ({} steps, {}) gives no `{rule}` suggestion: {why}",
            self.lr.len(),
            self.stopped
        )
    }
}

/// A run's lr that an LR range test found (`lr = "find"` or `max_lr = "find"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FoundLr {
    /// The suggestion used, e.g. `valley`.
    pub rule: String,
    /// `lr` or `max_lr`.
    pub target: String,
    pub lr: f32,
    pub range_test: LrFindRecord,
}

pub fn lr_find_path(pair: &Path) -> PathBuf {
    pair.join("lr_find.json")
}

/// A pair's range test, if it ran.
pub fn read_lr_find(pair: &Path) -> Result<Option<LrFindRecord>> {
    let path = lr_find_path(pair);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(
        serde_json::from_str(&text).with_context(|| format!("corrupt {}", path.display()))?,
    ))
}

pub fn write_lr_find(pair: &Path, record: &LrFindRecord) -> Result<()> {
    std::fs::create_dir_all(pair).with_context(|| format!("cannot create {}", pair.display()))?;
    write_atomic(
        &lr_find_path(pair),
        serde_json::to_string(record)?.as_bytes(),
    )
}

fn one() -> usize {
    1
}

/// One run's results over its seeds.
pub struct Group<'a> {
    pub name: String,
    pub pairs: Vec<&'a PairResult>,
}

impl Group<'_> {
    /// The optimizer of the group's runs (results from before optimizers were recorded: SGD with
    /// the run's momentum).
    pub fn optimizer(&self) -> crate::optim::Optimizer {
        let p = self.pairs[0];
        p.optimizer
            .unwrap_or(crate::optim::Optimizer::sgd(p.momentum))
    }

    pub fn mean_std(&self, f: impl Fn(&PairResult) -> f64) -> (f64, Option<f64>) {
        let v: Vec<f64> = self.pairs.iter().map(|p| f(p)).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.len() > 1)
            .then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
        (mean, std)
    }
}

/// A pair's checkpoint after an epoch (the parameters and momentum buffers are in `model_file`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairState {
    pub version: u32,
    pub name: String,
    pub seed: u64,
    pub epochs_done: u32,
    pub model_file: String,
    /// The lr schedule over the run's param groups (one group: a single `Scheduler`).
    pub scheduler: crate::schedules::Schedules,
    /// The hyperparameters' schedules (`hyperparameters` in the run config).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hyperparameters: Vec<crate::schedules::HyperState>,
    /// The shuffling RNG: ChaCha8 seeded with `seed`, stream `epoch + 1` for epoch `epoch` (0-based).
    pub rng: String,
    pub records: Vec<EpochRecord>,
    pub trace_lr: Vec<f32>,
    pub trace_momentum: Vec<f32>,
    #[serde(default)]
    pub trace_loss: Vec<f32>,
    pub train_seconds: f64,
    pub train_images: u64,
    pub eval_seconds: f64,
    pub eval_images: u64,
    pub wall_seconds: f64,
    /// The optimizer's scalars (steps, Schedule-Free's averaging weights) of the first param
    /// group; its buffers are in the model file (checkpoints before this field: SGD, whose only
    /// state is its momentum buffer).
    #[serde(default)]
    pub optimizer: crate::optim::Scalars,
    /// The other param groups' optimizer scalars, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizer_groups: Vec<crate::optim::Scalars>,
}

/// A run name as a file name: ASCII letters and digits lower-cased, everything else `-`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Folder of one (run, seed) pair under `out/runs/`.
pub fn pair_dir(out: &Path, name: &str, seed: u64) -> PathBuf {
    out.join("runs").join(format!("{}-seed{seed}", slug(name)))
}

pub fn plan_path(out: &Path) -> PathBuf {
    out.join("bench.json")
}

pub fn result_path(pair: &Path) -> PathBuf {
    pair.join("result.json")
}

pub fn state_path(pair: &Path) -> PathBuf {
    pair.join("state.json")
}

/// Writes `bytes` to `path` atomically (temporary file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn read_plan(dir: &Path) -> Result<Plan> {
    let path = plan_path(dir);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a bench folder (cannot read {})",
            dir.display(),
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("corrupt {}", path.display()))
}

pub fn read_pair(dir: &Path) -> Result<PairResult> {
    let path = result_path(dir);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("corrupt result {}", path.display()))
}
