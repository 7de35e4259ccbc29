//! One (run, seed) pair: training with per-epoch checkpoints, resumable bit for bit.

use crate::config::{Run, Stepping};
use crate::data::Dataset;
use crate::model::{self, Model, Sgd};
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sched_core::{Scheduler, Spec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Test-set evaluation batch size.
pub const EVAL_BATCH: usize = 256;

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
}

/// The result of one (run, seed) pair.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairResult {
    pub name: String,
    pub spec: Spec,
    pub step: Stepping,
    pub lr: f32,
    pub momentum: f32,
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    pub final_accuracy: f32,
    pub final_test_loss: f32,
    pub train_images_per_sec: f64,
    pub eval_images_per_sec: f64,
    pub wall_seconds: f64,
    pub train_images: usize,
    pub test_images: usize,
    pub batch_size: usize,
    /// lr and momentum in effect at every optimizer step (omitted from the merged results.json).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace_lr: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace_momentum: Vec<f32>,
}

/// Everything needed to continue after an epoch (the parameters and momentum buffers are in `model_file`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    version: u32,
    name: String,
    seed: u64,
    epochs_done: u32,
    model_file: String,
    scheduler: Scheduler,
    /// The shuffling RNG: ChaCha8 seeded with `seed`, stream `epoch + 1` for epoch `epoch` (0-based).
    rng: String,
    records: Vec<EpochRecord>,
    trace_lr: Vec<f32>,
    trace_momentum: Vec<f32>,
    train_seconds: f64,
    train_images: u64,
    eval_seconds: f64,
    eval_images: u64,
    wall_seconds: f64,
}

pub struct PairJob<'a> {
    pub run: &'a Run,
    pub seed: u64,
    pub epochs: u32,
    pub batch_size: usize,
    pub data: &'a Dataset,
    pub device: &'a Device,
    pub dir: PathBuf,
    pub label: String,
}

pub fn result_path(dir: &Path) -> PathBuf {
    dir.join("result.json")
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Trains one pair, continuing from its checkpoint in `job.dir` when there is one.
pub fn train_pair(job: &PairJob, progress: &indicatif::MultiProgress) -> Result<PairResult> {
    let run = job.run;
    let data = job.data;
    let (rows, cols) = (data.train.rows, data.train.cols);
    let px = rows * cols;
    let n_train = data.train.len();
    let bs = job.batch_size;
    let batches = n_train.div_ceil(bs);
    std::fs::create_dir_all(&job.dir)
        .with_context(|| format!("cannot create {}", job.dir.display()))?;

    let mut model = Model::init(job.seed, rows, cols, job.device)?;
    let mut sgd = Sgd::new(model.vars.len());
    let state_path = job.dir.join("state.json");
    let mut st = if state_path.exists() {
        let text = std::fs::read_to_string(&state_path)?;
        let st: State = serde_json::from_str(&text)
            .with_context(|| format!("corrupt checkpoint {}", state_path.display()))?;
        let tensors = candle_core::safetensors::load(job.dir.join(&st.model_file), job.device)
            .with_context(|| {
                format!(
                    "cannot read checkpoint {}",
                    job.dir.join(&st.model_file).display()
                )
            })?;
        model.load(&tensors)?;
        sgd.load(&model, &tensors)?;
        st
    } else {
        State {
            version: 1,
            name: run.name.clone(),
            seed: job.seed,
            epochs_done: 0,
            model_file: String::new(),
            scheduler: Scheduler::from_spec(&run.schedule, run.lr, run.momentum)
                .map_err(|e| anyhow::anyhow!("run `{}`: {e}", run.name))?,
            rng: "ChaCha8".into(),
            records: Vec::new(),
            trace_lr: Vec::new(),
            trace_momentum: Vec::new(),
            train_seconds: 0.0,
            train_images: 0,
            eval_seconds: 0.0,
            eval_images: 0,
            wall_seconds: 0.0,
        }
    };

    let total = job.epochs as u64 * batches as u64;
    let pb = progress.add(ProgressBar::new(total));
    if std::env::var_os("HOST_TRAIN_NO_PROGRESS").is_some() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches {msg} ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(job.label.clone());
    pb.set_position(st.epochs_done as u64 * batches as u64);

    let mut order: Vec<usize> = (0..n_train).collect();
    let mut xbuf = vec![0f32; bs * px];
    let mut ybuf = vec![0u32; bs];
    while st.epochs_done < job.epochs {
        let epoch = st.epochs_done;
        let wall = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(job.seed);
        rng.set_stream(epoch as u64 + 1);
        order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
        order.shuffle(&mut rng);
        let (lr0, m0) = (st.scheduler.lr(), st.scheduler.momentum());
        let mut loss_sum = 0f64;
        let t0 = Instant::now();
        for b in 0..batches {
            let idx = &order[b * bs..((b + 1) * bs).min(n_train)];
            let n = idx.len();
            for (j, &i) in idx.iter().enumerate() {
                xbuf[j * px..(j + 1) * px]
                    .copy_from_slice(&data.train.images[i * px..(i + 1) * px]);
                ybuf[j] = data.train.labels[i];
            }
            let x = Tensor::from_slice(&xbuf[..n * px], (n, 1, rows, cols), job.device)?;
            let y = Tensor::from_slice(&ybuf[..n], n, job.device)?;
            let (lr, m) = (st.scheduler.lr(), st.scheduler.momentum());
            st.trace_lr.push(lr);
            st.trace_momentum.push(m);
            let logits = model.forward(&x, true)?;
            let loss = model::cross_entropy(&logits, &y)?;
            let grads = loss.backward()?;
            sgd.step(&model, &grads, lr, m)?;
            loss_sum += loss.to_scalar::<f32>()? as f64;
            if run.step == Stepping::Batch {
                st.scheduler
                    .step()
                    .map_err(|e| anyhow::anyhow!("run `{}`: {e}", run.name))?;
            }
            pb.inc(1);
            if b % 8 == 7 || b + 1 == batches {
                let secs = st.train_seconds + t0.elapsed().as_secs_f64();
                let imgs = st.train_images as f64 + (b * bs + n) as f64;
                pb.set_message(format!("{:.0} img/s", imgs / secs.max(1e-9)));
            }
        }
        st.train_seconds += t0.elapsed().as_secs_f64();
        st.train_images += n_train as u64;
        let t1 = Instant::now();
        let (test_loss, test_acc) = model::evaluate(
            &model,
            &data.test.images,
            &data.test.labels,
            rows,
            cols,
            EVAL_BATCH,
        )?;
        st.eval_seconds += t1.elapsed().as_secs_f64();
        st.eval_images += data.test.len() as u64;
        if run.step == Stepping::Epoch {
            let r = if st.scheduler.needs_metric() {
                st.scheduler.step_with_metric(test_loss)
            } else {
                st.scheduler.step()
            };
            r.map_err(|e| anyhow::anyhow!("run `{}`: {e}", run.name))?;
        }
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss: (loss_sum / batches as f64) as f32,
            test_loss,
            test_accuracy: test_acc,
            lr: lr0,
            momentum: m0,
        };
        let line = format!(
            "{} epoch {:>2}/{}: Train CategoricalCrossEntropy {:.3}  Valid CategoricalCrossEntropy {:.3}  Valid Accuracy {:.4}  lr {:.3e}  momentum {:.3}  {:.1} s",
            job.label,
            epoch + 1,
            job.epochs,
            rec.train_loss,
            rec.test_loss,
            rec.test_accuracy,
            lr0,
            m0,
            wall.elapsed().as_secs_f64()
        );
        pb.suspend(|| println!("{line}"));
        st.records.push(rec);
        st.epochs_done += 1;
        st.wall_seconds += wall.elapsed().as_secs_f64();

        // Checkpoint: a new model file, then the state naming it (atomic renames), then drop the old file.
        let old = std::mem::replace(
            &mut st.model_file,
            format!("model-epoch{:03}.safetensors", st.epochs_done),
        );
        let mut tensors = model.tensors();
        tensors.extend(sgd.tensors(&model));
        model::save_atomic(&tensors, &job.dir.join(&st.model_file))?;
        write_atomic(&state_path, serde_json::to_string(&st)?.as_bytes())?;
        if !old.is_empty() && old != st.model_file {
            let _ = std::fs::remove_file(job.dir.join(old));
        }
        if let Some(n) = std::env::var("HOST_TRAIN_ABORT_AFTER_EPOCH")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
        {
            if st.epochs_done == n {
                // Test hook: die like a killed process right after a checkpoint.
                std::process::abort();
            }
        }
    }
    pb.finish_and_clear();
    progress.remove(&pb);

    let last = st.records.last().cloned().context("no epochs")?;
    let result = PairResult {
        name: run.name.clone(),
        spec: run.schedule.clone(),
        step: run.step,
        lr: run.lr,
        momentum: run.momentum,
        seed: job.seed,
        final_accuracy: last.test_accuracy,
        final_test_loss: last.test_loss,
        epochs: st.records.clone(),
        train_images_per_sec: st.train_images as f64 / st.train_seconds.max(1e-9),
        eval_images_per_sec: st.eval_images as f64 / st.eval_seconds.max(1e-9),
        wall_seconds: st.wall_seconds,
        train_images: n_train,
        test_images: data.test.len(),
        batch_size: bs,
        trace_lr: st.trace_lr.clone(),
        trace_momentum: st.trace_momentum.clone(),
    };
    write_atomic(
        &result_path(&job.dir),
        serde_json::to_string_pretty(&result)?.as_bytes(),
    )?;
    Ok(result)
}
