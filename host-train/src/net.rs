//! The study's CNN on plain f32 slices, for K models at once: forward, cross-entropy, backward and
//! PyTorch's SGD with momentum, without a graph and without allocating per step.
//!
//! Conv2d(1,32,3,same)-ReLU-Conv2d(32,16,3,same)-ReLU-Conv2d(16,8,3,same)-ReLU-Flatten-Linear(6272,10).
//!
//! A batch is cut into fixed chunks of [`CHUNK`] images. One task runs forward and backward for one
//! (model, chunk) pair, image by image, keeping only that image's activations (about 175 KB: they stay
//! in cache), and adds the image's gradient to the chunk's partial gradient; the partials are summed in
//! chunk order. The arithmetic of model k is therefore the same whether it trains alone or among 13
//! others, on 1 thread or 16: fused training is bit-identical to `--fuse 1`.

use crate::conv::Conv;
use rayon::prelude::*;
use std::cell::RefCell;

/// Images per gradient-accumulation chunk (fixed, for thread-count-independent results).
pub const CHUNK: usize = 8;
/// Test images per evaluation task.
const EVAL_CHUNK: usize = 64;
/// Output classes.
pub const CLASSES: usize = 10;
/// Channels after each convolution.
const CHANNELS: [usize; 4] = [1, 32, 16, 8];

/// Parameter names in PyTorch's `state_dict` order (`nn.Sequential` indices of the study's model).
pub const PARAM_NAMES: [&str; 8] = [
    "seq.0.weight",
    "seq.0.bias",
    "seq.2.weight",
    "seq.2.bias",
    "seq.4.weight",
    "seq.4.bias",
    "seq.7.weight",
    "seq.7.bias",
];

/// The network's shapes for `rows x cols` images, and where each parameter lies in one flat vector.
#[derive(Clone, Debug)]
pub struct Net {
    pub rows: usize,
    pub cols: usize,
    convs: [Conv; 3],
    /// Start of each parameter in the flat vector, and the total length last.
    offsets: [usize; 9],
}

impl Net {
    pub fn new(rows: usize, cols: usize) -> Self {
        let convs = [0, 1, 2].map(|l| Conv {
            cin: CHANNELS[l],
            cout: CHANNELS[l + 1],
            h: rows,
            w: cols,
        });
        let mut offsets = [0; 9];
        for (i, (_, shape, _)) in Self::specs(rows, cols).iter().enumerate() {
            offsets[i + 1] = offsets[i] + shape.iter().product::<usize>();
        }
        Self {
            rows,
            cols,
            convs,
            offsets,
        }
    }

    /// (name, shape, fan_in) of every parameter, in `state_dict` order.
    pub fn specs(rows: usize, cols: usize) -> [(&'static str, Vec<usize>, usize); 8] {
        let flat = CHANNELS[3] * rows * cols;
        let mut specs: [(&'static str, Vec<usize>, usize); 8] = Default::default();
        for l in 0..3 {
            let (cin, cout) = (CHANNELS[l], CHANNELS[l + 1]);
            specs[2 * l] = (PARAM_NAMES[2 * l], vec![cout, cin, 3, 3], cin * 9);
            specs[2 * l + 1] = (PARAM_NAMES[2 * l + 1], vec![cout], cin * 9);
        }
        specs[6] = (PARAM_NAMES[6], vec![CLASSES, flat], flat);
        specs[7] = (PARAM_NAMES[7], vec![CLASSES], flat);
        specs
    }

    /// Floats in one model's flat parameter vector.
    pub fn len(&self) -> usize {
        self.offsets[8]
    }

    /// Parameter `i` (in `state_dict` order) of a flat vector.
    pub fn param<'a>(&self, flat: &'a [f32], i: usize) -> &'a [f32] {
        &flat[self.offsets[i]..self.offsets[i + 1]]
    }

    fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Splits a flat vector into its 8 parameters.
    fn split<'a>(&self, mut flat: &'a mut [f32]) -> [&'a mut [f32]; 8] {
        let mut out: [&'a mut [f32]; 8] = Default::default();
        for (i, o) in out.iter_mut().enumerate() {
            let (a, b) = flat.split_at_mut(self.offsets[i + 1] - self.offsets[i]);
            *o = a;
            flat = b;
        }
        out
    }
}

/// One image's activations and gradients (kept per thread between calls).
#[derive(Default)]
struct Scratch {
    /// Outputs of the three convolutions.
    y: [Vec<f32>; 3],
    /// Gradients with respect to those outputs.
    g: [Vec<f32>; 3],
    logits: [f32; CLASSES],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scratch {
    fn fit(&mut self, net: &Net) {
        for l in 0..3 {
            let n = CHANNELS[l + 1] * net.pixels();
            if self.y[l].len() != n {
                self.y[l] = vec![0.0; n];
                self.g[l] = vec![0.0; n];
            }
        }
    }
}

/// `sum(a[i] * b[i])` with 16 partial sums in a fixed order (vectorizes; same bits on every run).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..16 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Forward pass of one image: fills `s.y` and `s.logits`.
fn forward(net: &Net, p: &[f32], x: &[f32], s: &mut Scratch) {
    let Scratch { y, logits, .. } = s;
    let [y1, y2, y3] = y;
    net.convs[0].forward(x, net.param(p, 0), net.param(p, 1), y1);
    net.convs[1].forward(y1, net.param(p, 2), net.param(p, 3), y2);
    net.convs[2].forward(y2, net.param(p, 4), net.param(p, 5), y3);
    let (w, b) = (net.param(p, 6), net.param(p, 7));
    let flat = y3.len();
    for c in 0..CLASSES {
        logits[c] = b[c] + dot(&w[c * flat..(c + 1) * flat], y3);
    }
}

/// Cross-entropy of `logits` against `label`; with `grad`, also `d loss / d logits` scaled by `scale`.
fn cross_entropy(
    logits: &[f32; CLASSES],
    label: usize,
    grad: Option<(f32, &mut [f32; CLASSES])>,
) -> f32 {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| (l - m).exp()).sum();
    let lse = m + sum.ln();
    if let Some((scale, g)) = grad {
        for c in 0..CLASSES {
            let p = (logits[c] - lse).exp();
            g[c] = (p - if c == label { 1.0 } else { 0.0 }) * scale;
        }
    }
    lse - logits[label]
}

#[allow(clippy::too_many_arguments)]
/// Forward and backward of one image; adds its gradient (of `loss * scale`) to `grad`; returns the loss.
fn train_image(
    net: &Net,
    p: &[f32],
    flipped: &[Vec<f32>; 2],
    x: &[f32],
    label: usize,
    scale: f32,
    s: &mut Scratch,
    grad: &mut [f32],
) -> f32 {
    forward(net, p, x, s);
    let mut dl = [0f32; CLASSES];
    let loss = cross_entropy(&s.logits, label, Some((scale, &mut dl)));
    let [dw1, db1, dw2, db2, dw3, db3, dw4, db4] = net.split(grad);
    let Scratch { y, g, .. } = s;
    let flat = y[2].len();
    // Linear layer: dW += dl (x) y3, db += dl, dy3 = W^T dl.
    let w4 = net.param(p, 6);
    for c in 0..CLASSES {
        db4[c] += dl[c];
        let d = dl[c];
        for (gw, &v) in dw4[c * flat..(c + 1) * flat].iter_mut().zip(&y[2]) {
            *gw += d * v;
        }
    }
    let g3 = &mut g[2];
    g3.fill(0.0);
    for c in 0..CLASSES {
        let d = dl[c];
        for (gv, &wv) in g3.iter_mut().zip(&w4[c * flat..(c + 1) * flat]) {
            *gv += d * wv;
        }
    }
    let [g1, g2, g3] = g;
    net.convs[2].backward(&y[1], &y[2], g3, dw3, db3, Some((&flipped[1], g2)));
    net.convs[1].backward(&y[0], &y[1], g2, dw2, db2, Some((&flipped[0], g1)));
    net.convs[0].backward(x, &y[0], g1, dw1, db1, None);
    loss
}

/// K models of the study's CNN with PyTorch's SGD state: trained together on the same batches, each
/// with its own lr and momentum.
pub struct Models {
    pub net: Net,
    /// Flat parameters per model.
    pub params: Vec<Vec<f32>>,
    /// SGD momentum buffers per model (`None` until the first step with momentum, as in PyTorch).
    pub momentum: Vec<Option<Vec<f32>>>,
    /// Flipped conv2 and conv3 weights per model (for the input gradients), refreshed after each step.
    flipped: Vec<[Vec<f32>; 2]>,
    /// Per (model, chunk) partial gradients of the current batch.
    partial: Vec<f32>,
}

impl Models {
    /// Models with the given flat parameters and momentum buffers.
    pub fn new(net: Net, params: Vec<Vec<f32>>, momentum: Vec<Option<Vec<f32>>>) -> Self {
        assert_eq!(params.len(), momentum.len());
        let flipped = params
            .iter()
            .map(|p| {
                [1, 2].map(|l| {
                    let mut f = vec![0.0; net.convs[l].weights()];
                    net.convs[l].flip(net.param(p, 2 * l), &mut f);
                    f
                })
            })
            .collect();
        Self {
            net,
            params,
            momentum,
            flipped,
            partial: Vec::new(),
        }
    }

    /// Bytes of memory one model needs for a batch of `batch` images (parameters, momentum, flipped
    /// weights, partial gradients).
    pub fn bytes_per_model(net: &Net, batch: usize) -> usize {
        4 * net.len() * (3 + batch.div_ceil(CHUNK))
    }

    /// One SGD step of every model on the batch `x` (`n` images) / `labels`, model k with `lr[k]` and
    /// `momentum[k]`; writes each model's mean loss on the batch into `losses`.
    pub fn step(
        &mut self,
        x: &[f32],
        labels: &[u32],
        lr: &[f32],
        momentum: &[f32],
        losses: &mut [f32],
    ) {
        let net = &self.net;
        let n = labels.len();
        let px = net.pixels();
        let k_models = self.params.len();
        let plen = net.len();
        let chunks = n.div_ceil(CHUNK);
        self.partial.resize(k_models * chunks * plen, 0.0);
        let scale = 1.0 / n as f32;
        let (params, flipped) = (&self.params, &self.flipped);
        let chunk_losses: Vec<f64> = self
            .partial
            .par_chunks_mut(plen)
            .enumerate()
            .map(|(task, grad)| {
                let (k, c) = (task / chunks, task % chunks);
                grad.fill(0.0);
                let mut loss = 0f64;
                SCRATCH.with(|s| {
                    let s = &mut *s.borrow_mut();
                    s.fit(net);
                    for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                        let l = train_image(
                            net,
                            &params[k],
                            &flipped[k],
                            &x[i * px..(i + 1) * px],
                            labels[i] as usize,
                            scale,
                            s,
                            grad,
                        );
                        loss += l as f64;
                    }
                });
                loss
            })
            .collect();
        for (k, loss) in losses.iter_mut().enumerate().take(k_models) {
            let sum: f64 = chunk_losses[k * chunks..(k + 1) * chunks].iter().sum();
            *loss = (sum / n as f64) as f32;
        }
        // Sum the chunks in order, then PyTorch's SGD: buf = m*buf + g (buf = g at first), p -= lr*buf.
        let partial = &self.partial;
        self.params
            .par_iter_mut()
            .zip(self.momentum.par_iter_mut())
            .zip(self.flipped.par_iter_mut())
            .enumerate()
            .for_each(|(k, ((p, buf), fl))| {
                let parts = &partial[k * chunks * plen..(k + 1) * chunks * plen];
                let (lr, m) = (lr[k], momentum[k]);
                if m != 0.0 && buf.is_none() {
                    *buf = Some(vec![0.0; plen]);
                    sgd(p, buf.as_deref_mut(), parts, plen, lr, m, true);
                } else {
                    sgd(
                        p,
                        buf.as_deref_mut().filter(|_| m != 0.0),
                        parts,
                        plen,
                        lr,
                        m,
                        false,
                    );
                }
                for (l, f) in [1, 2].into_iter().zip(fl.iter_mut()) {
                    net.convs[l].flip(net.param(p, 2 * l), f);
                }
            });
    }

    /// Mean test loss and accuracy of every model on `images` / `labels`.
    pub fn evaluate(&self, images: &[f32], labels: &[u32]) -> Vec<(f32, f32)> {
        let net = &self.net;
        let n = labels.len();
        let px = net.pixels();
        let chunks = n.div_ceil(EVAL_CHUNK);
        let k_models = self.params.len();
        let per_task: Vec<(f64, usize)> = (0..k_models * chunks)
            .into_par_iter()
            .map(|task| {
                let (k, c) = (task / chunks, task % chunks);
                SCRATCH.with(|s| {
                    let s = &mut *s.borrow_mut();
                    s.fit(net);
                    let (mut loss, mut correct) = (0f64, 0usize);
                    for i in c * EVAL_CHUNK..((c + 1) * EVAL_CHUNK).min(n) {
                        forward(net, &self.params[k], &images[i * px..(i + 1) * px], s);
                        let label = labels[i] as usize;
                        loss += cross_entropy(&s.logits, label, None) as f64;
                        // The first maximum, as torch.argmax.
                        let pred = (0..CLASSES).fold(0, |best, c| {
                            if s.logits[c] > s.logits[best] {
                                c
                            } else {
                                best
                            }
                        });
                        correct += usize::from(pred == label);
                    }
                    (loss, correct)
                })
            })
            .collect();
        (0..k_models)
            .map(|k| {
                let part = &per_task[k * chunks..(k + 1) * chunks];
                let loss: f64 = part.iter().map(|t| t.0).sum();
                let correct: usize = part.iter().map(|t| t.1).sum();
                ((loss / n as f64) as f32, correct as f32 / n as f32)
            })
            .collect()
    }
}

/// Sums the per-chunk gradients `parts` in order and applies one step of `torch.optim.SGD` (dampening 0,
/// no Nesterov, no weight decay) to `p`. `first`: the momentum buffer is created from this gradient.
fn sgd(
    p: &mut [f32],
    buf: Option<&mut [f32]>,
    parts: &[f32],
    plen: usize,
    lr: f32,
    m: f32,
    first: bool,
) {
    // Block by block, so the sum of the chunks stays in cache.
    const BLOCK: usize = 1024;
    let chunks = parts.len() / plen;
    let mut g = [0f32; BLOCK];
    let mut buf = buf;
    for start in (0..plen).step_by(BLOCK) {
        let end = (start + BLOCK).min(plen);
        let g = &mut g[..end - start];
        g.copy_from_slice(&parts[start..end]);
        for c in 1..chunks {
            for (a, b) in g.iter_mut().zip(&parts[c * plen + start..c * plen + end]) {
                *a += b;
            }
        }
        let p = &mut p[start..end];
        match buf.as_deref_mut() {
            Some(b) => {
                let b = &mut b[start..end];
                for ((pv, bv), &gv) in p.iter_mut().zip(b.iter_mut()).zip(g.iter()) {
                    *bv = if first { gv } else { *bv * m + gv };
                    *pv -= lr * *bv;
                }
            }
            None => {
                for (pv, &gv) in p.iter_mut().zip(g.iter()) {
                    *pv -= lr * gv;
                }
            }
        }
    }
}
