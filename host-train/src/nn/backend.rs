//! The models a group trains: PyTorch's default init, checkpoints in `state_dict` names, and the two
//! backends: the fused CPU trainer ([`crate::nn::cpu`]) and candle's (for `--device cuda`).

use crate::kernels::simd::Isa;
use crate::kernels::Convolution;
use crate::nn::cpu::CpuModels;
use crate::nn::net::Net;
use crate::nn::tensors::{take_tensor, Tensors};
use crate::nn::StepInput;
use crate::optim::{GroupStep, ModelOptimizer, Optimizer, OptimizerGroup, Scalars, State};
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
    let mut flat = Vec::with_capacity(net.param_count());
    for spec in net.specs() {
        let bound = 1.0 / (spec.fan_in as f32).sqrt();
        let n: usize = spec.shape.iter().product();
        flat.extend((0..n).map(|_| rng.random_range(-bound..bound)));
    }
    flat
}

/// Parameters under their `state_dict` names, and the optimizer's buffers as `<buffer>.<name>`
/// (`momentum_buffer.seq.0.weight`, `exp_avg.seq.0.weight`, `z.seq.0.weight`, ...): each
/// parameter's buffers are its param group's, as in PyTorch's per-parameter `state`.
pub fn to_tensors(net: &Net, params: &[f32], optimizer: &ModelOptimizer) -> Tensors {
    let mut out = Tensors::new();
    for (i, spec) in net.specs().iter().enumerate() {
        let range = net.param_range(i);
        let group = optimizer
            .groups
            .iter()
            .find(|g| g.params.contains(&range.start))
            .expect("the groups cover every parameter");
        let at = range.start - group.params.start..range.end - group.params.start;
        for (buffer, flat) in group.state.named_buffers(&optimizer.config) {
            out.insert(
                format!("{buffer}.{}", spec.name),
                (spec.shape.clone(), flat[at.clone()].to_vec()),
            );
        }
        out.insert(
            spec.name.clone(),
            (spec.shape.clone(), params[range].to_vec()),
        );
    }
    out
}

/// The tensors `<prefix><parameter name>` of every parameter, as one flat vector; errors name
/// `origin` and the missing or mis-shaped tensor.
pub fn take_params(
    net: &Net,
    tensors: &mut Tensors,
    prefix: &str,
    origin: &str,
) -> Result<Vec<f32>> {
    let mut flat = Vec::with_capacity(net.param_count());
    for spec in net.specs() {
        let name = format!("{prefix}{}", spec.name);
        flat.extend(take_tensor(tensors, &name, &spec.shape, origin)?);
    }
    Ok(flat)
}

/// The flat parameters in `tensors`, and the state of each param group (`groups`: where each lies
/// in the flat vector, with its scalars): each of `optimizer`'s buffers that is there for every
/// parameter of the group. Errors name `origin` and the missing or mis-shaped tensor.
pub fn from_tensors(
    net: &Net,
    mut tensors: Tensors,
    optimizer: &Optimizer,
    groups: Vec<(std::ops::Range<usize>, Scalars)>,
    origin: &str,
) -> Result<(Vec<f32>, Vec<OptimizerGroup>)> {
    let params = take_params(net, &mut tensors, "", origin)?;
    let specs = net.specs();
    let mut out = Vec::with_capacity(groups.len());
    for (range, scalars) in groups {
        let mut state = State {
            scalars,
            ..State::default()
        };
        let members: Vec<usize> = (0..specs.len())
            .filter(|&i| range.contains(&net.param_range(i).start))
            .collect();
        for (slot, name) in state.buffers.iter_mut().zip(optimizer.buffer_names()) {
            let key = |i: usize| format!("{name}.{}", specs[i].name);
            if members.iter().all(|&i| tensors.contains_key(&key(i))) {
                let mut flat = Vec::with_capacity(range.len());
                for &i in &members {
                    flat.extend(take_tensor(&mut tensors, &key(i), &specs[i].shape, origin)?);
                }
                *slot = Some(flat);
            }
        }
        out.push(OptimizerGroup {
            params: range,
            state,
        });
    }
    Ok((params, out))
}

/// Where models train: candle's device (the CPU: our own trainer; CUDA: candle's tensors) and the
/// CPU trainer's vector path.
pub struct Target {
    pub device: Device,
    pub isa: Isa,
    /// candle's tensors and autograd (what CUDA trains with) even on the CPU (`--engine candle`).
    pub candle: bool,
    /// How the CPU kernels compute the convolutions.
    pub convolution: Convolution,
}

impl Target {
    /// Whether the fused CPU trainer (host-train's kernels) trains, not candle.
    pub fn on_kernels(&self) -> bool {
        self.device.is_cpu() && !self.candle
    }
}

/// What computes the gradients of K models trained together on the same batches.
enum Engine {
    /// The fused CPU trainer.
    Cpu(CpuModels),
    /// candle's tensors and autograd, one model after the other (CUDA).
    Candle(CandleModels),
}

/// K models trained together on the same batches, each with its own optimizer.
pub struct Backend {
    engine: Engine,
    optimizers: Vec<ModelOptimizer>,
}

impl Backend {
    pub fn new(
        target: &Target,
        net: Net,
        params: Vec<Vec<f32>>,
        optimizers: Vec<ModelOptimizer>,
    ) -> Result<Self> {
        assert_eq!(params.len(), optimizers.len());
        let engine = if target.on_kernels() {
            Engine::Cpu(CpuModels::new(net, params, target.isa, target.convolution))
        } else {
            Engine::Candle(CandleModels::new(net, params, &target.device)?)
        };
        Ok(Self { engine, optimizers })
    }

    /// One optimizer step of every model; writes each model's mean batch loss into `losses`.
    pub fn step(&mut self, input: StepInput, losses: &mut [f32]) -> Result<()> {
        let opts = &mut self.optimizers;
        match &mut self.engine {
            Engine::Cpu(m) => m.step(input, losses, opts),
            Engine::Candle(m) => m.step(input, losses, opts)?,
        }
        Ok(())
    }

    /// Every model's optimizer in train mode (Schedule-Free: the parameters become `y`), each
    /// param group at its momentum slot in `steps[k]`.
    pub fn train_mode(&mut self, steps: &[Vec<GroupStep>]) -> Result<()> {
        self.switch_mode(steps, true)
    }

    /// Every model's optimizer in eval mode (Schedule-Free: the parameters become the average `x`,
    /// which evaluation and checkpoints use).
    pub fn eval_mode(&mut self, steps: &[Vec<GroupStep>]) -> Result<()> {
        self.switch_mode(steps, false)
    }

    fn switch_mode(&mut self, steps: &[Vec<GroupStep>], train: bool) -> Result<()> {
        for (k, opt) in self.optimizers.iter_mut().enumerate() {
            let f = |p: &mut [f32]| opt.set_mode(p, &steps[k], train);
            match &mut self.engine {
                Engine::Cpu(m) => m.update_params(k, f),
                Engine::Candle(m) => m.update_params(k, f)?,
            }
        }
        Ok(())
    }

    /// (mean loss, accuracy) of every model on `images` / `labels`.
    pub fn evaluate(&self, images: &[f32], labels: &[u32]) -> Result<Vec<(f32, f32)>> {
        match &self.engine {
            Engine::Cpu(m) => Ok(m.evaluate(images, labels)),
            Engine::Candle(m) => m.evaluate(images, labels),
        }
    }

    /// Model k's checkpoint tensors (parameters and optimizer buffers) and each param group's
    /// optimizer scalars.
    pub fn checkpoint(&self, k: usize) -> (Tensors, Vec<Scalars>) {
        let (net, params) = match &self.engine {
            Engine::Cpu(m) => (&m.net, &m.params[k]),
            Engine::Candle(m) => (&m.net, &m.params[k]),
        };
        let optimizer = &self.optimizers[k];
        let scalars = optimizer.groups.iter().map(|g| g.state.scalars).collect();
        (to_tensors(net, params, optimizer), scalars)
    }
}

/// Test-set batch size of the candle backend.
const CANDLE_EVAL_BATCH: usize = 256;

/// The network in candle (conv2d, autograd); the parameters live on the host too, where the
/// optimizers ([`crate::optim`], the CPU trainer's) update them, and are copied to the device after
/// each change (this model is small: 69k parameters).
pub struct CandleModels {
    net: Net,
    /// Each parameter's shape (`net.specs()`, built once).
    shapes: Vec<Vec<usize>>,
    device: Device,
    params: Vec<Vec<f32>>,
    vars: Vec<Vec<Var>>,
}

impl CandleModels {
    fn new(net: Net, params: Vec<Vec<f32>>, device: &Device) -> Result<Self> {
        let shapes = net.specs().iter().map(|s| s.shape.clone()).collect();
        let mut models = Self {
            net,
            shapes,
            device: device.clone(),
            vars: Vec::new(),
            params: Vec::new(),
        };
        for p in params {
            let vars = (0..models.shapes.len())
                .map(|i| models.tensor(&p, i).and_then(|t| Ok(Var::from_tensor(&t)?)))
                .collect::<Result<Vec<_>>>()?;
            models.vars.push(vars);
            models.params.push(p);
        }
        Ok(models)
    }

    /// Parameter i of the flat `flat` as a device tensor.
    fn tensor(&self, flat: &[f32], i: usize) -> Result<Tensor> {
        Ok(Tensor::from_slice(
            self.net.param(flat, i),
            self.shapes[i].as_slice(),
            &self.device,
        )?)
    }

    /// Copies model k's host parameters to its device tensors.
    fn upload(&self, k: usize) -> Result<()> {
        for (i, var) in self.vars[k].iter().enumerate() {
            var.set(&self.tensor(&self.params[k], i)?)?;
        }
        Ok(())
    }

    fn update_params(&mut self, k: usize, f: impl FnOnce(&mut [f32])) -> Result<()> {
        f(&mut self.params[k]);
        self.upload(k)
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
        for (l, layer) in self.net.layers().iter().enumerate() {
            let params: Vec<Tensor> = self.net.layer_params(l).map(p).collect();
            h = layer.kind().forward(&h, &params)?;
        }
        Ok(h)
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
        input: StepInput,
        losses: &mut [f32],
        optimizers: &mut [ModelOptimizer],
    ) -> Result<()> {
        let StepInput { labels, steps, .. } = input;
        let (x, y) = self.batch(input.x, labels)?;
        let mut grad = Vec::with_capacity(self.net.param_count());
        for k in 0..self.vars.len() {
            let loss = candle_nn::loss::cross_entropy(&self.forward(k, &x, true)?, &y)?;
            let grads = loss.backward()?;
            grad.clear();
            for var in &self.vars[k] {
                match grads.get(var) {
                    Some(g) => grad.extend(g.flatten_all()?.to_vec1::<f32>()?),
                    None => grad.extend(std::iter::repeat_n(0.0, var.elem_count())),
                }
            }
            optimizers[k].step(&mut self.params[k], &grad, &steps[k]);
            self.upload(k)?;
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
}
