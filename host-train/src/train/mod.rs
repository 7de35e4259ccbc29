//! A group of (run, seed) pairs that share a seed and data, trained together: every batch is one fused
//! step of all the group's models, each with the lr and momentum of its own scheduler. Checkpoints after
//! every epoch, per pair, resumable bit for bit.

pub mod batches;
pub mod checkpoint;
pub mod range_test;

use batches::Batches;

use crate::config::{ParamGroup, Run, Stepping};
use crate::data::Dataset;
use crate::kernels::tiling_name;
use crate::nn::backend::{self, Backend, Target};
use crate::nn::net::Net;
use crate::nn::StepInput;
use crate::optim::{GroupStep, ModelOptimizer, OptimizerGroup, State};
use crate::results::{self, EpochRecord, PairResult, PairState};
use crate::schedules::{self, group_steps};
use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

/// One pair of a group.
pub struct Member<'a> {
    pub run: &'a Run,
    /// The run's param groups on the network (one: every layer).
    pub groups: Vec<ParamGroup>,
    /// The LR range test that set the run's lr (`"find"` in the config).
    pub lr_find: Option<&'a results::LrFindRecord>,
    pub dir: PathBuf,
    /// Printed before its epoch lines, e.g. `[3/14] Step LR (seed 1)`.
    pub label: String,
}

/// What a group trains on and how.
pub struct GroupJob<'a> {
    pub members: Vec<Member<'a>>,
    pub seed: u64,
    pub epochs: u32,
    pub batch_size: usize,
    pub data: &'a Dataset,
    pub target: &'a Target,
    pub net: &'a Net,
    /// `--init`: the initial flat parameters of every member (else the seed's init).
    pub init: Option<&'a [f32]>,
    /// `--order file`: no shuffle.
    pub file_order: bool,
    /// Shown on the progress bar, e.g. `group 1/2 (14 models, seed 1)`.
    pub label: String,
    /// Die after a checkpoint (the resume tests).
    pub abort_at: Option<AbortAt>,
}

/// Where each param group's parameters lie in a model's flat parameter vector.
pub fn param_ranges(net: &Net, groups: &[ParamGroup]) -> Vec<std::ops::Range<usize>> {
    groups
        .iter()
        .map(|g| net.layers_range(g.layers.clone()))
        .collect()
}

/// The member's checkpoint, or a fresh state and its initial weights.
fn load_or_init(
    job: &GroupJob,
    m: &Member,
    net: &Net,
) -> Result<(PairState, Vec<f32>, ModelOptimizer)> {
    std::fs::create_dir_all(&m.dir)
        .with_context(|| format!("cannot create {}", m.dir.display()))?;
    let ranges = param_ranges(net, &m.groups);
    let found = checkpoint::find(&m.dir, net, &m.run.optimizer(), &ranges)?;
    if let Some(unreadable) = &found.unreadable {
        checkpoint::set_aside(unreadable)?;
        let file = unreadable.files[unreadable.files.len() - 1].display();
        let from = match &found.checkpoint {
            Some(c) => format!("the one before (epoch {})", c.state.epochs_done),
            None => "the start (there is none before it)".to_string(),
        };
        eprintln!(
            "warning: {}: the last checkpoint ({file}) cannot be read ({}); set aside as .corrupt, resuming from {from}",
            m.label, unreadable.why
        );
    }
    let optimizer = |groups| ModelOptimizer::grouped(m.run.optimizer(), groups);
    if let Some(c) = found.checkpoint {
        return Ok((c.state, c.params, optimizer(c.optimizer)));
    }
    let params = match job.init {
        Some(p) => p.to_vec(),
        None => backend::init_params(net, job.seed),
    };
    let groups: Vec<_> = ranges
        .into_iter()
        .map(|params| OptimizerGroup {
            params,
            state: State::default(),
        })
        .collect();
    let fresh = m.run.schedules(net.layers().len())?;
    let st = PairState {
        version: 1,
        name: m.run.name.clone(),
        seed: job.seed,
        epochs_done: 0,
        model_file: String::new(),
        scheduler: fresh.lr,
        hyperparameters: fresh.hyperparameters,
        rng: "ChaCha8".into(),
        records: Vec::new(),
        trace_lr: Vec::new(),
        trace_momentum: Vec::new(),
        trace_loss: Vec::new(),
        train_seconds: 0.0,
        train_images: 0,
        eval_seconds: 0.0,
        eval_images: 0,
        wall_seconds: 0.0,
        optimizer: Default::default(),
        optimizer_groups: Vec::new(),
    };
    Ok((st, params, optimizer(groups)))
}

fn progress_bar(
    progress: &MultiProgress,
    job: &GroupJob,
    batches: usize,
    done: u32,
) -> ProgressBar {
    let pb = progress.add(ProgressBar::new(job.epochs as u64 * batches as u64));
    if std::env::var_os("HOST_TRAIN_NO_PROGRESS").is_some() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches {msg} ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(job.label.clone());
    pb.set_position(done as u64 * batches as u64);
    pb
}

/// Where a group dies like a killed process (`bench --abort-after-epoch`, for the resume tests):
/// right after the checkpoint of epoch `epoch` of its first `members` members (all: `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortAt {
    pub epoch: u32,
    pub members: Option<usize>,
}

impl AbortAt {
    /// `N` or `N/M`.
    pub fn parse(text: &str) -> Option<Self> {
        let (n, m) = match text.split_once('/') {
            Some((n, m)) => (n, Some(m.parse().ok()?)),
            None => (text, None),
        };
        Some(Self {
            epoch: n.parse().ok()?,
            members: m,
        })
    }

    /// Aborts the process if `saved` of the group's `members` have saved epoch `epoch`.
    fn check(at: Option<AbortAt>, epoch: u32, saved: usize, members: usize) {
        if let Some(at) = at {
            if at.epoch == epoch && at.members.unwrap_or(members) == saved {
                std::process::abort();
            }
        }
    }
}

/// The per-batch buffers of a group (allocated once).
struct Batch {
    /// What each member's schedules set for each of its param groups.
    steps: Vec<Vec<GroupStep>>,
    losses: Vec<f32>,
    /// Sum of each member's batch losses over the epoch.
    loss_sums: Vec<f64>,
}

/// One epoch of training: every batch is one fused step of all members, each at its scheduler's lr and
/// momentum; batch-stepped schedulers step after it. Returns the training seconds.
fn train_epoch(
    job: &GroupJob,
    models: &mut Backend,
    states: &mut [PairState],
    (batches, epoch): (&mut Batches, u32),
    buf: &mut Batch,
    pb: &ProgressBar,
) -> Result<f64> {
    let bs = job.batch_size;
    let per_epoch = batches.per_epoch();
    buf.loss_sums.fill(0.0);
    let t0 = Instant::now();
    for b in 0..per_epoch {
        let (x, labels) = batches.get(epoch, b);
        let n = labels.len();
        for ((st, m), steps) in states.iter_mut().zip(&job.members).zip(&mut buf.steps) {
            group_steps(&m.groups, &st.scheduler, &st.hyperparameters, steps)
                .with_context(|| format!("run `{}`", m.run.name))?;
            st.trace_lr.push(steps[0].lr);
            st.trace_momentum.push(steps[0].momentum);
        }
        let input = StepInput {
            x,
            labels,
            steps: &buf.steps,
        };
        models.step(input, &mut buf.losses)?;
        for ((st, m), (&loss, sum)) in states
            .iter_mut()
            .zip(&job.members)
            .zip(buf.losses.iter().zip(buf.loss_sums.iter_mut()))
        {
            st.trace_loss.push(loss);
            *sum += loss as f64;
            if m.run.step == Stepping::Batch {
                schedules::step(m.run, &mut st.scheduler, &mut st.hyperparameters, None)?;
            }
        }
        pb.inc(1);
        if b % 8 == 7 || b + 1 == per_epoch {
            let secs = states[0].train_seconds + t0.elapsed().as_secs_f64();
            let imgs = states[0].train_images as f64 + (b * bs + n) as f64;
            let models = states.len() as f64;
            pb.set_message(format!("{:.0} model-img/s", models * imgs / secs.max(1e-9)));
        }
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// After an epoch's training: evaluates every member, steps the epoch-stepped schedulers (plateau on
/// the member's own test loss), records and prints the epoch.
#[allow(clippy::too_many_arguments)]
fn end_epoch(
    job: &GroupJob,
    models: &Backend,
    states: &mut [PairState],
    epoch: u32,
    first: &[(f32, f32)],
    buf: &Batch,
    train_secs: f64,
    wall: Instant,
    pb: &ProgressBar,
) -> Result<()> {
    let data = job.data;
    let batches = data.train.len().div_ceil(job.batch_size);
    let t1 = Instant::now();
    let evals = models.evaluate(&data.test.images, &data.test.labels)?;
    let eval_secs = t1.elapsed().as_secs_f64();
    let val_evals = match &data.validation {
        Some(v) => Some(models.evaluate(&v.images, &v.labels)?),
        None => None,
    };
    for (k, (st, m)) in states.iter_mut().zip(&job.members).enumerate() {
        let (test_loss, test_accuracy) = evals[k];
        let val = val_evals.as_ref().map(|v| v[k]);
        if m.run.step == Stepping::Epoch {
            let metric = Some(test_loss);
            schedules::step(m.run, &mut st.scheduler, &mut st.hyperparameters, metric)?;
        }
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss: (buf.loss_sums[k] / batches as f64) as f32,
            test_loss,
            test_accuracy,
            lr: first[k].0,
            momentum: first[k].1,
            val_loss: val.map(|v| v.0),
            val_accuracy: val.map(|v| v.1),
        };
        let val_text = val.map_or_else(String::new, |(loss, acc)| {
            format!("  Validation CategoricalCrossEntropy {loss:.3}  Validation Accuracy {acc:.4}")
        });
        let line = format!(
            "{} epoch {:>2}/{}: Train CategoricalCrossEntropy {:.3}  Test CategoricalCrossEntropy {:.3}  Test Accuracy {:.4}{val_text}  lr {:.3e}  momentum {:.3}  {:.1} s",
            m.label,
            epoch + 1,
            job.epochs,
            rec.train_loss,
            rec.test_loss,
            rec.test_accuracy,
            rec.lr,
            rec.momentum,
            wall.elapsed().as_secs_f64()
        );
        pb.suspend(|| println!("{line}"));
        st.records.push(rec);
        st.epochs_done = epoch + 1;
        st.train_seconds += train_secs;
        st.train_images += data.train.len() as u64;
        st.eval_seconds += eval_secs;
        st.eval_images += data.test.len() as u64;
    }
    Ok(())
}

/// Trains every member of the group to `job.epochs`, continuing from their checkpoints (which must
/// all be at the same epoch), and writes each member's `result.json`.
pub fn train_group(job: &GroupJob, progress: &MultiProgress) -> Result<Vec<PairResult>> {
    let data = job.data;
    let net = job.net.clone();
    let n_train = data.train.len();
    let bs = job.batch_size;
    let k_models = job.members.len();

    let mut states = Vec::new();
    let mut params = Vec::new();
    let mut optimizers = Vec::new();
    for m in &job.members {
        let (st, p, optimizer) = load_or_init(job, m, &net)?;
        states.push(st);
        params.push(p);
        optimizers.push(optimizer);
    }
    let start_epoch = states[0].epochs_done;
    if states.iter().any(|s| s.epochs_done != start_epoch) {
        bail!("internal: a fused group's checkpoints are at different epochs");
    }
    let mut buf = Batch {
        steps: vec![Vec::new(); k_models],
        losses: vec![0.0; k_models],
        loss_sums: vec![0.0; k_models],
    };
    let mut models = Backend::new(job.target, net, params, optimizers)?;
    // What each member's next step reads (Schedule-Free's train()/eval() use the momentum).
    let next_steps = |states: &[PairState]| -> Result<Vec<Vec<GroupStep>>> {
        let mut all = vec![Vec::new(); states.len()];
        for ((st, m), steps) in states.iter().zip(&job.members).zip(&mut all) {
            group_steps(&m.groups, &st.scheduler, &st.hyperparameters, steps)?;
        }
        Ok(all)
    };
    let pb = progress_bar(progress, job, n_train.div_ceil(bs), start_epoch);
    let mut batches = Batches::new(&job.data.train, bs, job.seed, job.file_order);
    for epoch in start_epoch..job.epochs {
        let wall = Instant::now();
        let steps = next_steps(&states)?;
        let first: Vec<(f32, f32)> = steps.iter().map(|s| (s[0].lr, s[0].momentum)).collect();
        // Schedule-Free trains at y and evaluates and saves x, as its reference's train()/eval().
        models.train_mode(&steps)?;
        let train_secs = train_epoch(
            job,
            &mut models,
            &mut states,
            (&mut batches, epoch),
            &mut buf,
            &pb,
        )?;
        models.eval_mode(&next_steps(&states)?)?;
        end_epoch(
            job,
            &models,
            &mut states,
            epoch,
            &first,
            &buf,
            train_secs,
            wall,
            &pb,
        )?;
        let wall_secs = wall.elapsed().as_secs_f64();
        for (k, (st, m)) in states.iter_mut().zip(&job.members).enumerate() {
            st.wall_seconds += wall_secs;
            checkpoint::save(&m.dir, st, &models.checkpoint(k))?;
            AbortAt::check(job.abort_at, epoch + 1, k + 1, k_models);
        }
    }
    pb.finish_and_clear();
    progress.remove(&pb);
    finish(job, states)
}

/// Writes each member's `result.json` from its final state.
fn finish(job: &GroupJob, states: Vec<PairState>) -> Result<Vec<PairResult>> {
    let data = job.data;
    let (n_train, bs, k_models) = (data.train.len(), job.batch_size, job.members.len());
    let mut results = Vec::new();
    for (st, m) in states.into_iter().zip(&job.members) {
        let last = st.records.last().cloned().context("no epochs")?;
        let result = PairResult {
            name: m.run.name.clone(),
            spec: m.run.schedule.clone(),
            group_specs: m.run.group_schedules.clone(),
            param_groups: m.run.param_groups.clone(),
            hyperparameters: m.run.hyperparameters.clone(),
            step: m.run.step,
            lr: m.run.lr,
            momentum: m.run.momentum(),
            optimizer: Some(m.run.optimizer()),
            seed: job.seed,
            final_accuracy: last.test_accuracy,
            final_test_loss: last.test_loss,
            epochs: st.records,
            train_images_per_sec: st.train_images as f64 / st.train_seconds.max(1e-9),
            eval_images_per_sec: st.eval_images as f64 / st.eval_seconds.max(1e-9),
            wall_seconds: st.wall_seconds,
            train_images: n_train,
            test_images: data.test.len(),
            batch_size: bs,
            fused: k_models,
            model: crate::config::Network {
                conv: job.net.conv().to_vec(),
            },
            kernels: Some(if job.target.device.is_cpu() {
                job.target.isa.name().to_string()
            } else {
                "cuda".to_string()
            }),
            convolutions: if job.target.on_kernels() {
                let tilings = crate::nn::cpu::layer_tilings(job.net, job.target.convolution);
                tilings
                    .into_iter()
                    .map(|t| tiling_name(t).to_string())
                    .collect()
            } else {
                Vec::new()
            },
            trace_lr: st.trace_lr,
            trace_momentum: st.trace_momentum,
            trace_loss: st.trace_loss,
            lr_find: m
                .run
                .find
                .zip(m.lr_find)
                .map(|(find, record)| results::FoundLr {
                    rule: find.rule.name().into(),
                    target: find.target.key().into(),
                    lr: record.suggested(find.rule).unwrap_or(f32::NAN),
                    range_test: record.clone(),
                }),
        };
        results::write_atomic(
            &results::result_path(&m.dir),
            serde_json::to_string_pretty(&result)?.as_bytes(),
        )?;
        results.push(result);
    }
    Ok(results)
}
