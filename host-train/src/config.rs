//! Run configs: the TOML file `bench` trains from and `curve --preset` reads.

use anyhow::{bail, Context, Result};
use sched_core::Spec;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The study's 14 runs, shipped with the binary.
pub const TUTORIAL_PRESET: &str = include_str!("../presets/tutorial.toml");

/// Images in the Fashion-MNIST training set.
pub const TRAIN_IMAGES: usize = 60_000;

/// When a run calls `scheduler.step()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stepping {
    /// After every optimizer step.
    Batch,
    /// After each epoch's last batch (ReduceLROnPlateau: on that epoch's test loss).
    Epoch,
}

/// One training run: an optimizer set-up and a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub name: String,
    /// `SGD(lr=...)`.
    pub lr: f32,
    /// `SGD(momentum=...)`; OneCycleLR and CyclicLR override it unless `cycle_momentum = false`.
    #[serde(default)]
    pub momentum: f32,
    pub step: Stepping,
    pub schedule: Spec,
}

/// A run config: global training settings and the runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub epochs: u32,
    pub batch_size: usize,
    pub seed: u64,
    #[serde(rename = "run")]
    pub runs: Vec<Run>,
}

impl RunConfig {
    /// Parses and checks a run config from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let config: RunConfig =
            toml::from_str(text).with_context(|| format!("invalid run config {origin}"))?;
        config
            .check()
            .with_context(|| format!("invalid run config {origin}"))?;
        Ok(config)
    }

    /// Reads a run config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read run config {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The study's 14 runs.
    pub fn tutorial() -> Self {
        Self::parse(TUTORIAL_PRESET, "presets/tutorial.toml").expect("the shipped preset is valid")
    }

    /// Loads a named preset.
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "tutorial" => Ok(Self::tutorial()),
            other => bail!("unknown --preset `{other}`: the presets are: tutorial"),
        }
    }

    fn check(&self) -> Result<()> {
        if self.epochs == 0 {
            bail!("`epochs` must be >= 1");
        }
        if self.batch_size == 0 {
            bail!("`batch_size` must be >= 1");
        }
        let mut names = std::collections::HashSet::new();
        for run in &self.runs {
            if !names.insert(run.name.as_str()) {
                bail!("run name `{}` appears twice", run.name);
            }
            if !(run.lr.is_finite() && run.lr > 0.0) {
                bail!("run `{}`: `lr` must be > 0 and finite", run.name);
            }
            if !(run.momentum.is_finite() && (0.0..1.0).contains(&run.momentum)) {
                bail!("run `{}`: `momentum` must be in [0, 1)", run.name);
            }
            // Building the schedule validates every parameter.
            sched_core::Scheduler::from_spec(&run.schedule, run.lr, run.momentum)
                .map_err(|e| anyhow::anyhow!("run `{}`: {e}", run.name))?;
        }
        Ok(())
    }

    /// Finds a run by exact name; the error lists the valid names.
    pub fn run(&self, name: &str) -> Result<&Run> {
        self.runs.iter().find(|r| r.name == name).with_context(|| {
            let names: Vec<_> = self
                .runs
                .iter()
                .map(|r| format!("\"{}\"", r.name))
                .collect();
            format!("unknown run `{name}`; the runs are: {}", names.join(", "))
        })
    }

    /// Optimizer steps per epoch over `train_images` images (the last batch may be short).
    pub fn batches_per_epoch(&self, train_images: usize) -> usize {
        train_images.div_ceil(self.batch_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_preset_has_the_studys_14_runs() {
        let config = RunConfig::tutorial();
        assert_eq!(config.runs.len(), 14);
        assert_eq!(config.epochs, 15);
        assert_eq!(config.batches_per_epoch(TRAIN_IMAGES), 469);
        assert!(config.run("One Cycle LR Scheduler Batches").is_ok());
        let err = config.run("nope").unwrap_err().to_string();
        assert!(err.contains("Constant Learning Rate"), "{err}");
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let err =
            RunConfig::parse("epochs = 0\nbatch_size = 1\nseed = 1\nrun = []", "x").unwrap_err();
        assert!(format!("{err:#}").contains("epochs"), "{err:#}");
        let bad = "epochs = 1\nbatch_size = 1\nseed = 1\n[[run]]\nname = \"a\"\nlr = 0.1\nstep = \"batch\"\nschedule = { kind = \"StepLR\", step_size = 0 }\n";
        let err = RunConfig::parse(bad, "x").unwrap_err();
        assert!(format!("{err:#}").contains("step_size"), "{err:#}");
    }
}
