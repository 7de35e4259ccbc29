//! The study's CNN, with PyTorch's default initialization, and PyTorch's SGD with momentum.
//!
//! Conv2d(1,32,3,same)-ReLU-Conv2d(32,16,3,same)-ReLU-Conv2d(16,8,3,same)-ReLU-Flatten-Linear(6272,10).

use crate::conv::Conv3x3Relu;
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;

/// (name, shape, fan_in) of every parameter, in PyTorch's `state_dict` order.
pub fn param_specs(rows: usize, cols: usize) -> Vec<(&'static str, Vec<usize>, usize)> {
    let flat = 8 * rows * cols;
    vec![
        ("seq.0.weight", vec![32, 1, 3, 3], 9),
        ("seq.0.bias", vec![32], 9),
        ("seq.2.weight", vec![16, 32, 3, 3], 32 * 9),
        ("seq.2.bias", vec![16], 32 * 9),
        ("seq.4.weight", vec![8, 16, 3, 3], 16 * 9),
        ("seq.4.bias", vec![8], 16 * 9),
        ("seq.7.weight", vec![10, flat], flat),
        ("seq.7.bias", vec![10], flat),
    ]
}

pub struct Model {
    pub names: Vec<&'static str>,
    pub vars: Vec<Var>,
    pub device: Device,
}

impl Model {
    /// PyTorch's default init: weights kaiming_uniform(a = sqrt(5)) = U(+-1/sqrt(fan_in)), biases
    /// U(+-1/sqrt(fan_in)); drawn from ChaCha8(seed), stream 0, parameter by parameter.
    pub fn init(seed: u64, rows: usize, cols: usize, device: &Device) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0);
        let mut names = Vec::new();
        let mut vars = Vec::new();
        for (name, shape, fan_in) in param_specs(rows, cols) {
            let bound = 1.0 / (fan_in as f32).sqrt();
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound)).collect();
            names.push(name);
            vars.push(Var::from_tensor(&Tensor::from_vec(data, shape, device)?)?);
        }
        Ok(Self {
            names,
            vars,
            device: device.clone(),
        })
    }

    /// Logits for a batch `x` of shape (B, 1, rows, cols). `train`: record the graph for backward.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let p = |i: usize| -> Tensor {
            if train {
                self.vars[i].as_tensor().clone()
            } else {
                self.vars[i].as_tensor().detach()
            }
        };
        let mut h = x.clone();
        for layer in 0..3 {
            let (w, b) = (p(2 * layer), p(2 * layer + 1));
            h = if self.device.is_cpu() {
                h.apply_op3(
                    &w,
                    &b,
                    Conv3x3Relu {
                        input_grad: layer > 0,
                    },
                )?
            } else {
                h.conv2d(&w, 1, 1, 1, 1)?
                    .broadcast_add(&b.reshape((1, (), 1, 1))?)?
                    .relu()?
            };
        }
        let h = h.flatten_from(1)?;
        Ok(h.matmul(&p(6).t()?)?.broadcast_add(&p(7))?)
    }

    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.names
            .iter()
            .zip(&self.vars)
            .map(|(n, v)| (n.to_string(), v.as_tensor().clone()))
            .collect()
    }

    /// Loads parameters saved by [`Model::tensors`] (exact bits).
    pub fn load(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (name, var) in self.names.iter().zip(&self.vars) {
            let t = tensors
                .get(*name)
                .with_context(|| format!("checkpoint lacks `{name}`"))?;
            if t.shape() != var.shape() {
                bail!(
                    "checkpoint `{name}` has shape {:?}, expected {:?}",
                    t.shape(),
                    var.shape()
                );
            }
            var.set(&t.to_device(&self.device)?)?;
        }
        Ok(())
    }
}

/// Mean cross-entropy of `logits` (B, 10) against `labels` (B,) u32.
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    Ok(candle_nn::loss::cross_entropy(logits, labels)?)
}

/// PyTorch's `torch.optim.SGD(lr, momentum)` (dampening 0, no Nesterov, no weight decay): with momentum
/// m != 0, `buf = grad` on the first step and `buf = m*buf + grad` after; `p -= lr*buf`. With m == 0, plain SGD.
pub struct Sgd {
    pub bufs: Vec<Option<Tensor>>,
}

impl Sgd {
    pub fn new(n: usize) -> Self {
        Self {
            bufs: vec![None; n],
        }
    }

    pub fn step(
        &mut self,
        model: &Model,
        grads: &candle_core::backprop::GradStore,
        lr: f32,
        momentum: f32,
    ) -> Result<()> {
        for (i, var) in model.vars.iter().enumerate() {
            let Some(g) = grads.get(var) else { continue };
            let d = if momentum != 0.0 {
                let buf = match &self.bufs[i] {
                    None => g.clone(),
                    Some(b) => ((b * momentum as f64)? + g)?,
                };
                self.bufs[i] = Some(buf.clone());
                buf
            } else {
                g.clone()
            };
            var.set(&(var.as_tensor() - (d * lr as f64)?)?)?;
        }
        Ok(())
    }

    pub fn tensors(&self, model: &Model) -> HashMap<String, Tensor> {
        model
            .names
            .iter()
            .zip(&self.bufs)
            .filter_map(|(n, b)| {
                b.as_ref()
                    .map(|b| (format!("momentum_buffer.{n}"), b.clone()))
            })
            .collect()
    }

    pub fn load(&mut self, model: &Model, tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (i, name) in model.names.iter().enumerate() {
            self.bufs[i] = match tensors.get(&format!("momentum_buffer.{name}")) {
                Some(t) => Some(t.to_device(&model.device)?),
                None => None,
            };
        }
        Ok(())
    }
}

/// Test loss (mean over images) and accuracy of `model` on `images` (N x pixels) / `labels`.
pub fn evaluate(
    model: &Model,
    images: &[f32],
    labels: &[u32],
    rows: usize,
    cols: usize,
    batch: usize,
) -> Result<(f32, f32)> {
    let n = labels.len();
    let px = rows * cols;
    let mut loss_sum = 0f64;
    let mut correct = 0usize;
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let bs = end - start;
        let x = Tensor::from_slice(
            &images[start * px..end * px],
            (bs, 1, rows, cols),
            &model.device,
        )?;
        let y = Tensor::from_slice(&labels[start..end], bs, &model.device)?;
        let logits = model.forward(&x, false)?;
        loss_sum += cross_entropy(&logits, &y)?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?
            * bs as f64;
        let pred = logits.argmax(D::Minus1)?;
        correct += pred
            .eq(&y)?
            .to_dtype(DType::U32)?
            .sum_all()?
            .to_scalar::<u32>()? as usize;
        start = end;
    }
    Ok(((loss_sum / n as f64) as f32, correct as f32 / n as f32))
}

/// Saves tensors to `path` atomically (temporary file + rename).
pub fn save_atomic(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let tmp = path.with_extension("tmp");
    candle_core::safetensors::save(tensors, &tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
