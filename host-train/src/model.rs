//! The models a group trains: PyTorch's default init, checkpoints in `state_dict` names, and the two
//! backends: the fused CPU trainer ([`crate::net`]) and candle's (for `--device cuda`).

use crate::net::{Models, Net};
use crate::simd::Isa;
use crate::store::{take_tensor, Tensors};
use anyhow::Result;
use candle_core::{DType, Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// PyTorch's default init of the study's CNN: weights kaiming_uniform(a = sqrt(5)) = U(+-1/sqrt(fan_in)),
/// biases U(+-1/sqrt(fan_in)); drawn from ChaCha8(seed), stream 0, parameter by parameter, as one flat
/// vector in `state_dict` order.
pub fn init_params(net: &Net, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0);
    let mut flat = Vec::with_capacity(net.len());
    for spec in net.specs() {
        let bound = 1.0 / (spec.fan_in as f32).sqrt();
        let n: usize = spec.shape.iter().product();
        flat.extend((0..n).map(|_| rng.random_range(-bound..bound)));
    }
    flat
}

/// Parameters (and momentum buffers, as `momentum_buffer.<name>`) under their `state_dict` names.
pub fn to_tensors(net: &Net, params: &[f32], momentum: Option<&[f32]>) -> Tensors {
    let mut out = Tensors::new();
    for (i, spec) in net.specs().into_iter().enumerate() {
        if let Some(m) = momentum {
            out.insert(
                format!("momentum_buffer.{}", spec.name),
                (spec.shape.clone(), net.param(m, i).to_vec()),
            );
        }
        out.insert(spec.name, (spec.shape, net.param(params, i).to_vec()));
    }
    out
}

/// The flat parameters in `tensors` (and the momentum buffers when all are there); errors name
/// `origin` and the missing or mis-shaped tensor.
pub fn from_tensors(
    net: &Net,
    mut tensors: Tensors,
    origin: &str,
) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
    let specs = net.specs();
    let mut params = Vec::with_capacity(net.len());
    for spec in &specs {
        params.extend(take_tensor(&mut tensors, &spec.name, &spec.shape, origin)?);
    }
    let has_momentum = specs
        .iter()
        .all(|s| tensors.contains_key(&format!("momentum_buffer.{}", s.name)));
    let momentum = if has_momentum {
        let mut m = Vec::with_capacity(net.len());
        for spec in &specs {
            m.extend(take_tensor(
                &mut tensors,
                &format!("momentum_buffer.{}", spec.name),
                &spec.shape,
                origin,
            )?);
        }
        Some(m)
    } else {
        None
    };
    Ok((params, momentum))
}

/// Where models train: candle's device (the CPU: our own trainer; CUDA: candle's tensors) and the
/// CPU trainer's vector path.
pub struct Target {
    pub device: Device,
    pub isa: Isa,
}

/// K models trained together on the same batches.
pub enum Backend {
    /// The fused CPU trainer.
    Cpu(Models),
    /// candle's tensors and autograd, one model after the other (CUDA).
    Candle(CandleModels),
}

impl Backend {
    pub fn new(
        target: &Target,
        net: Net,
        params: Vec<Vec<f32>>,
        momentum: Vec<Option<Vec<f32>>>,
    ) -> Result<Self> {
        Ok(if target.device.is_cpu() {
            Backend::Cpu(Models::new(net, params, momentum, target.isa))
        } else {
            Backend::Candle(CandleModels::new(net, params, momentum, &target.device)?)
        })
    }

    /// One SGD step of every model; writes each model's mean batch loss into `losses`.
    pub fn step(
        &mut self,
        x: &[f32],
        labels: &[u32],
        lr: &[f32],
        momentum: &[f32],
        losses: &mut [f32],
    ) -> Result<()> {
        match self {
            Backend::Cpu(m) => m.step(x, labels, lr, momentum, losses),
            Backend::Candle(m) => m.step(x, labels, lr, momentum, losses)?,
        }
        Ok(())
    }

    /// (mean test loss, accuracy) of every model.
    pub fn evaluate(&self, images: &[f32], labels: &[u32]) -> Result<Vec<(f32, f32)>> {
        match self {
            Backend::Cpu(m) => Ok(m.evaluate(images, labels)),
            Backend::Candle(m) => m.evaluate(images, labels),
        }
    }

    /// Model k's checkpoint tensors (parameters and momentum buffers).
    pub fn tensors(&self, k: usize) -> Result<Tensors> {
        Ok(match self {
            Backend::Cpu(m) => to_tensors(&m.net, &m.params[k], m.momentum[k].as_deref()),
            Backend::Candle(m) => m.tensors(k)?,
        })
    }
}

/// Test-set batch size of the candle backend.
const CANDLE_EVAL_BATCH: usize = 256;

/// The network in candle (conv2d, autograd), with PyTorch's SGD.
pub struct CandleModels {
    net: Net,
    device: Device,
    vars: Vec<Vec<Var>>,
    bufs: Vec<Vec<Option<Tensor>>>,
}

impl CandleModels {
    fn new(
        net: Net,
        params: Vec<Vec<f32>>,
        momentum: Vec<Option<Vec<f32>>>,
        device: &Device,
    ) -> Result<Self> {
        let specs = net.specs();
        let tensor = |flat: &[f32], i: usize| -> Result<Tensor> {
            Ok(Tensor::from_slice(
                net.param(flat, i),
                specs[i].shape.as_slice(),
                device,
            )?)
        };
        let mut vars = Vec::new();
        let mut bufs = Vec::new();
        for (p, m) in params.iter().zip(&momentum) {
            vars.push(
                (0..specs.len())
                    .map(|i| Ok(Var::from_tensor(&tensor(p, i)?)?))
                    .collect::<Result<Vec<_>>>()?,
            );
            bufs.push(
                (0..specs.len())
                    .map(|i| m.as_ref().map(|m| tensor(m, i)).transpose())
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(Self {
            net,
            device: device.clone(),
            vars,
            bufs,
        })
    }

    fn forward(&self, k: usize, x: &Tensor, train: bool) -> Result<Tensor> {
        let p = |i: usize| -> Tensor {
            let t = self.vars[k][i].as_tensor();
            if train {
                t.clone()
            } else {
                t.detach()
            }
        };
        let mut h = x.clone();
        let layers = self.net.conv().len();
        for layer in 0..layers {
            h = h
                .conv2d(&p(2 * layer), 1, 1, 1, 1)?
                .broadcast_add(&p(2 * layer + 1).reshape((1, (), 1, 1))?)?
                .relu()?;
        }
        Ok(h.flatten_from(1)?
            .matmul(&p(2 * layers).t()?)?
            .broadcast_add(&p(2 * layers + 1))?)
    }

    fn batch(&self, x: &[f32], labels: &[u32]) -> Result<(Tensor, Tensor)> {
        let n = labels.len();
        Ok((
            Tensor::from_slice(x, (n, 1, self.net.rows, self.net.cols), &self.device)?,
            Tensor::from_slice(labels, n, &self.device)?,
        ))
    }

    fn step(
        &mut self,
        x: &[f32],
        labels: &[u32],
        lr: &[f32],
        momentum: &[f32],
        losses: &mut [f32],
    ) -> Result<()> {
        let (x, y) = self.batch(x, labels)?;
        for k in 0..self.vars.len() {
            let loss = candle_nn::loss::cross_entropy(&self.forward(k, &x, true)?, &y)?;
            let grads = loss.backward()?;
            let (lr, m) = (lr[k] as f64, momentum[k]);
            for (var, buf) in self.vars[k].iter().zip(self.bufs[k].iter_mut()) {
                let Some(g) = grads.get(var) else { continue };
                let d = if m != 0.0 {
                    let b = match buf.take() {
                        None => g.clone(),
                        Some(b) => ((b * m as f64)? + g)?,
                    };
                    *buf = Some(b.clone());
                    b
                } else {
                    g.clone()
                };
                var.set(&(var.as_tensor() - (d * lr)?)?)?;
            }
            losses[k] = loss.to_scalar::<f32>()?;
        }
        Ok(())
    }

    fn evaluate(&self, images: &[f32], labels: &[u32]) -> Result<Vec<(f32, f32)>> {
        let n = labels.len();
        let px = self.net.rows * self.net.cols;
        let mut out = Vec::new();
        for k in 0..self.vars.len() {
            let (mut loss_sum, mut correct) = (0f64, 0usize);
            for start in (0..n).step_by(CANDLE_EVAL_BATCH) {
                let end = (start + CANDLE_EVAL_BATCH).min(n);
                let (x, y) = self.batch(&images[start * px..end * px], &labels[start..end])?;
                let logits = self.forward(k, &x, false)?;
                loss_sum += candle_nn::loss::cross_entropy(&logits, &y)?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?
                    * (end - start) as f64;
                correct += logits
                    .argmax(D::Minus1)?
                    .eq(&y)?
                    .to_dtype(DType::U32)?
                    .sum_all()?
                    .to_scalar::<u32>()? as usize;
            }
            out.push(((loss_sum / n as f64) as f32, correct as f32 / n as f32));
        }
        Ok(out)
    }

    fn tensors(&self, k: usize) -> Result<Tensors> {
        let flat = |ts: &mut dyn Iterator<Item = &Tensor>| -> Result<Vec<f32>> {
            let mut v = Vec::with_capacity(self.net.len());
            for t in ts {
                v.extend(t.flatten_all()?.to_vec1::<f32>()?);
            }
            Ok(v)
        };
        let params = flat(&mut self.vars[k].iter().map(|v| v.as_tensor()))?;
        let momentum = if self.bufs[k].iter().all(Option::is_some) {
            Some(flat(&mut self.bufs[k].iter().flatten())?)
        } else {
            None
        };
        Ok(to_tensors(&self.net, &params, momentum.as_deref()))
    }
}
