//! Run configs: the TOML file `bench` trains from and `curve --preset` reads.

mod groups;

pub use groups::{GroupConfig, HyperSchedule, ParamGroup, MAX_PARAM_GROUPS};

use crate::optim::Optimizer;
use anyhow::{bail, Context, Result};
use sched_core::{Spec, Suggestion};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The study's 14 runs and "LR finder + One Cycle", shipped with the binary.
pub const TUTORIAL_PRESET: &str = include_str!("../../presets/tutorial.toml");

/// Images in the Fashion-MNIST training set.
pub const FASHION_MNIST_TRAIN_IMAGES: usize = 60_000;

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
    /// The optimizer's lr (the schedule's base lr).
    pub lr: f32,
    /// Shorthand for `optimizer = { kind = "SGD", momentum = ... }`; OneCycleLR and CyclicLR cycle
    /// the momentum unless `cycle_momentum = false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f32>,
    /// The optimizer (default: SGD with the run's `momentum`, else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<Optimizer>,
    pub step: Stepping,
    /// The lr schedule (with `param_groups`: the first group's; `group_schedules` has each's).
    pub schedule: Spec,
    /// PyTorch's param groups: layers with their own lr and optimizer options under one schedule,
    /// whose per-group arguments may be lists (`max_lr = [0.05, 0.01]`). None: one group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_groups: Vec<GroupConfig>,
    /// Schedules of optimizer options (`weight_decay`, `momentum`, `betas = [SPEC, SPEC]`), each
    /// from the option's configured value, stepped with the lr schedule.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub hyperparameters: std::collections::BTreeMap<String, HyperSchedule>,
    /// Each param group's schedule (`schedule` with the group's values of its lists).
    #[serde(skip)]
    pub group_schedules: Vec<Spec>,
    /// `lr = "find"` or `max_lr = "find"`: the value comes from an LR range test (`bench` runs it
    /// per seed); until then the config holds a placeholder there.
    #[serde(skip)]
    pub find: Option<FindLr>,
}

/// A run's value that an LR range test supplies: `"find"` (the valley suggestion) or
/// `"find:<rule>"` in place of a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindLr {
    pub target: FindTarget,
    pub rule: Suggestion,
}

/// Where the found lr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindTarget {
    /// The run's `lr` (the optimizer's).
    Lr,
    /// The schedule's `max_lr` (OneCycleLR, CyclicLR).
    MaxLr,
}

impl FindTarget {
    pub fn key(self) -> &'static str {
        match self {
            FindTarget::Lr => "lr",
            FindTarget::MaxLr => "max_lr",
        }
    }
}

/// What stands in for a value to be found while the config is checked.
const PLACEHOLDER_LR: f64 = 0.1;

impl FindLr {
    /// `"find"`, `"find:steep"`, ...; `None` for any other text.
    fn parse(text: &str, target: FindTarget) -> Result<Option<FindLr>> {
        let Some(rest) = text.strip_prefix("find") else {
            return Ok(None);
        };
        let rule = match rest.strip_prefix(':') {
            None if rest.is_empty() => Suggestion::Valley,
            Some(name) => Suggestion::from_name(name).with_context(|| {
                format!(
                    "`{}` = \"{text}\": unknown suggestion `{name}`; expected one of {}",
                    target.key(),
                    Suggestion::NAMES.join(", ")
                )
            })?,
            None => return Ok(None),
        };
        Ok(Some(FindLr { target, rule }))
    }
}

impl Run {
    /// The optimizer this run trains with.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
            .unwrap_or(Optimizer::sgd(self.momentum.unwrap_or(0.0)))
    }

    /// The optimizer's momentum slot before any schedule changes it (SGD's `momentum`, Adam's
    /// `betas[0]`).
    pub fn momentum(&self) -> f32 {
        self.optimizer().momentum()
    }

    /// A fresh scheduler of this run; its error names the run.
    pub fn scheduler(&self) -> Result<sched_core::Scheduler> {
        sched_core::Scheduler::from_spec(&self.schedule, self.lr, self.momentum())
            .map_err(|e| anyhow::anyhow!("run `{}`: {e}", self.name))
    }

    /// This run with the range test's `lr` in place of `"find"`.
    pub fn with_found_lr(&self, lr: f32) -> Result<Run> {
        let mut run = self.clone();
        match self.find.map(|f| f.target) {
            None => {}
            Some(FindTarget::Lr) => run.lr = lr,
            Some(FindTarget::MaxLr) => {
                let mut spec = serde_json::to_value(&run.schedule)?;
                spec["max_lr"] = serde_json::json!(lr);
                run.schedule = serde_json::from_value(spec).with_context(|| {
                    format!("run `{}`: max_lr {lr} from the range test", run.name)
                })?;
            }
        }
        run.scheduler()
            .with_context(|| format!("with the found lr {lr}"))?;
        Ok(run)
    }
}

/// Replaces every `lr = "find..."` and `schedule.max_lr = "find..."` of `table`'s runs by a
/// placeholder number; returns what each run (by position) finds.
fn take_finds(table: &mut toml::Table) -> Result<Vec<Option<FindLr>>> {
    let Some(toml::Value::Array(runs)) = table.get_mut("run") else {
        return Ok(Vec::new());
    };
    // A "find..." text at `slot` becomes the placeholder.
    let take = |slot: Option<&mut toml::Value>, target| -> Result<Option<FindLr>> {
        let Some(v) = slot else { return Ok(None) };
        let found = match v.as_str() {
            Some(text) => FindLr::parse(text, target)?,
            None => None,
        };
        if found.is_some() {
            *v = toml::Value::Float(PLACEHOLDER_LR);
        }
        Ok(found)
    };
    let mut finds = Vec::new();
    for run in runs.iter_mut() {
        let name = run_name(run);
        let in_run = || format!("run `{name}`");
        let lr = take(run.get_mut("lr"), FindTarget::Lr).with_context(in_run)?;
        let max_lr = take(
            run.get_mut("schedule").and_then(|s| s.get_mut("max_lr")),
            FindTarget::MaxLr,
        )
        .with_context(in_run)?;
        if lr.is_some() && max_lr.is_some() {
            bail!(
                "run `{name}`: `lr` and `max_lr` both say \"find\"; one range test gives one value"
            );
        }
        finds.push(lr.or(max_lr));
    }
    Ok(finds)
}

/// A run table's `name` before the config is read (`?` where it has none).
fn run_name(run: &toml::Value) -> String {
    run.get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("?")
        .to_string()
}

/// Each run's `optimizer` table, checked before the config is: its errors are then one line that
/// names the run and the field.
fn check_optimizers(table: &toml::Table) -> Result<()> {
    let Some(toml::Value::Array(runs)) = table.get("run") else {
        return Ok(());
    };
    for run in runs {
        if let Some(opt) = run.get("optimizer") {
            let name = run_name(run);
            Optimizer::from_toml(opt.clone()).with_context(|| format!("run `{name}`"))?;
        }
    }
    Ok(())
}

/// The network every run of a config trains: 3x3 "same" convolutions with ReLU of `conv` output
/// channels each, then a linear layer to the 10 classes (`model = { conv = [64, 32, 16] }`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub conv: Vec<usize>,
}

impl Default for Network {
    /// The study's network.
    fn default() -> Self {
        Self {
            conv: crate::nn::net::STUDY_CONV.to_vec(),
        }
    }
}

/// A run config: global training settings and the runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub epochs: u32,
    pub batch_size: usize,
    pub seed: u64,
    /// The network (default: the study's).
    #[serde(default)]
    pub model: Network,
    /// Training images held out as a validation set (a fixed, seeded choice; 0: none), evaluated
    /// after every epoch (`val_loss`, `val_accuracy`).
    #[serde(default)]
    pub validation: usize,
    #[serde(rename = "run")]
    pub runs: Vec<Run>,
}

/// Values a command line gives (`--epochs`, `--seed`) for the settings a run config may then leave
/// out; where the config has one too, the command line's wins.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fill {
    pub epochs: Option<u32>,
    pub seed: Option<u64>,
}

impl Fill {
    /// Checks that every setting is in `table` or given here; where only the command line gives
    /// one, puts a placeholder in `table` (so that it deserializes) for [`Fill::set`] to replace.
    /// Returns whether it added any.
    fn complete(&self, table: &mut toml::Table) -> Result<bool> {
        let settings = [
            ("epochs", Some("--epochs"), self.epochs.is_some()),
            ("seed", Some("--seed"), self.seed.is_some()),
            ("batch_size", None, false),
        ];
        let mut added = false;
        for (key, flag, given) in settings {
            if table.contains_key(key) {
                continue;
            }
            match flag {
                _ if given => {
                    table.insert(key.into(), toml::Value::Integer(1));
                    added = true;
                }
                Some(flag) => bail!("`{key}` is missing: set it in the run config or give {flag}"),
                None => bail!("`{key}` is missing: the run config must set it"),
            }
        }
        Ok(added)
    }

    /// The command line's values over the config's.
    fn set(&self, config: &mut RunConfig) {
        config.epochs = self.epochs.unwrap_or(config.epochs);
        config.seed = self.seed.unwrap_or(config.seed);
    }
}

impl RunConfig {
    /// Parses and checks a run config from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        Self::parse_filled(text, origin, Fill::default())
    }

    /// [`RunConfig::parse`], with the command line's values for the settings it gives.
    pub fn parse_filled(text: &str, origin: &str, fill: Fill) -> Result<Self> {
        let invalid = || format!("invalid run config {origin}");
        let mut table: toml::Table = toml::from_str(text).with_context(invalid)?;
        let finds = take_finds(&mut table).with_context(invalid)?;
        let group_schedules = groups::take_group_schedules(&mut table).with_context(invalid)?;
        check_optimizers(&table).with_context(invalid)?;
        let placeholders = fill.complete(&mut table).with_context(invalid)?;
        let rewritten = group_schedules.iter().any(|g| !g.is_empty());
        let mut config: RunConfig =
            if finds.iter().any(Option::is_some) || placeholders || rewritten {
                table.try_into().with_context(invalid)?
            } else {
                // Straight from the text: the errors then give the line.
                toml::from_str(text).with_context(invalid)?
            };
        for (run, find) in config.runs.iter_mut().zip(finds) {
            run.find = find;
        }
        for (run, specs) in config.runs.iter_mut().zip(group_schedules) {
            run.group_schedules = specs;
        }
        fill.set(&mut config);
        config
            .check()
            .with_context(|| format!("invalid run config {origin}"))?;
        Ok(config)
    }

    /// Reads a run config file.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_filled(path, Fill::default()).map(|(config, _)| config)
    }

    /// Reads a run config file, with the command line's values for the settings it gives; returns
    /// the file's text too (for the record).
    pub fn load_filled(path: &Path, fill: Fill) -> Result<(Self, String)> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read run config {}", path.display()))?;
        let config = Self::parse_filled(&text, &path.display().to_string(), fill)?;
        Ok((config, text))
    }

    /// The study's 14 runs and "LR finder + One Cycle".
    pub fn tutorial() -> Self {
        Self::parse(TUTORIAL_PRESET, "presets/tutorial.toml").expect("the shipped preset is valid")
    }

    /// Loads a named preset.
    pub fn preset(name: &str) -> Result<Self> {
        Self::preset_text(name)?;
        Ok(Self::tutorial())
    }

    /// A named preset's TOML text.
    pub fn preset_text(name: &str) -> Result<&'static str> {
        match name {
            "tutorial" => Ok(TUTORIAL_PRESET),
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
        crate::nn::net::check_conv(&self.model.conv)?;
        let mut names = std::collections::HashSet::new();
        for run in &self.runs {
            if !names.insert(run.name.as_str()) {
                bail!("run name `{}` appears twice", run.name);
            }
            if !(run.lr.is_finite() && run.lr > 0.0) {
                bail!("run `{}`: `lr` must be > 0 and finite", run.name);
            }
            if let Some(m) = run.momentum {
                if run.optimizer.is_some() {
                    bail!("run `{}`: `momentum` and `optimizer` are both given; set the momentum inside `optimizer` (the run's `momentum` is shorthand for SGD's)", run.name);
                }
                if !(m.is_finite() && (0.0..1.0).contains(&m)) {
                    bail!("run `{}`: `momentum` must be in [0, 1)", run.name);
                }
            }
            if run.find.is_some() && !run.param_groups.is_empty() {
                bail!(
                    "run `{}`: a range test (\"find\") sets one lr; give each param group's lr",
                    run.name
                );
            }
            // Building the schedules validates every parameter.
            run.schedules(self.model.conv.len() + 1)?;
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
        assert_eq!(config.runs.len(), 15);
        let finder = config.run("LR finder + One Cycle").unwrap();
        assert_eq!(
            finder.find,
            Some(FindLr {
                target: FindTarget::MaxLr,
                rule: Suggestion::Valley
            })
        );
        assert_eq!(config.epochs, 15);
        assert_eq!(config.batches_per_epoch(FASHION_MNIST_TRAIN_IMAGES), 469);
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
        let head = "epochs = 1\nbatch_size = 1\nseed = 1\nrun = []\n";
        let err =
            RunConfig::parse(&format!("{head}model = {{ conv = [32, 12] }}"), "x").unwrap_err();
        assert!(
            format!("{err:#}")
                .contains("`model.conv`: 12 channels: every layer must have one of 8, 16, 32, 64"),
            "{err:#}"
        );
        let err = RunConfig::parse(&format!("{head}model = {{ conv = [] }}"), "x").unwrap_err();
        assert!(
            format!("{err:#}").contains("`model.conv` must list 1 to 8"),
            "{err:#}"
        );
        let both = "epochs = 1\nbatch_size = 1\nseed = 1\n[[run]]\nname = \"a\"\nlr = 0.1\nmomentum = 0.9\noptimizer = { kind = \"AdamW\" }\nstep = \"batch\"\nschedule = { kind = \"Fixed\" }\n";
        let err = RunConfig::parse(both, "x").unwrap_err();
        assert!(
            format!("{err:#}").contains("run `a`: `momentum` and `optimizer` are both given"),
            "{err:#}"
        );
        let ok =
            RunConfig::parse(&format!("{head}model = {{ conv = [64, 32, 16] }}"), "x").unwrap();
        assert_eq!(ok.model.conv, [64, 32, 16]);
        assert_eq!(RunConfig::tutorial().model.conv, [32, 16, 8]);
    }

    /// `--epochs` and `--seed` fill what a config leaves out (and win over what it sets); a setting
    /// neither gives is one line naming both places.
    #[test]
    fn command_line_fills_missing_settings() {
        let runs =
            "[[run]]\nname = \"a\"\nlr = 0.1\nstep = \"batch\"\nschedule = { kind = \"Fixed\" }\n";
        let text = format!("batch_size = 8\n{runs}");
        let fill = Fill {
            epochs: Some(3),
            seed: Some(5),
        };
        let config = RunConfig::parse_filled(&text, "t.toml", fill).unwrap();
        assert_eq!((config.epochs, config.seed, config.batch_size), (3, 5, 8));
        let err = |text: &str, fill: Fill| {
            format!(
                "{:#}",
                RunConfig::parse_filled(text, "t.toml", fill).unwrap_err()
            )
        };
        let no_seed = Fill {
            epochs: Some(3),
            seed: None,
        };
        assert_eq!(
            err(&text, no_seed),
            "invalid run config t.toml: `seed` is missing: set it in the run config or give --seed"
        );
        assert!(err(&text, Fill::default())
            .contains("`epochs` is missing: set it in the run config or give --epochs"));
        assert!(err(runs, fill).contains("`batch_size` is missing: the run config must set it"));
        let set = format!("epochs = 9\nseed = 1\n{text}");
        let config = RunConfig::parse_filled(&set, "t.toml", fill).unwrap();
        assert_eq!((config.epochs, config.seed), (3, 5));
        // A seed is a u64, beyond TOML's integers.
        let big = Fill {
            epochs: None,
            seed: Some(u64::MAX),
        };
        let config = RunConfig::parse_filled(&set, "t.toml", big).unwrap();
        assert_eq!((config.epochs, config.seed), (9, u64::MAX));
    }
}
