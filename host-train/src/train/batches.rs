//! The training images batch by batch, in each epoch's order: what a group trains on and what the
//! LR range test sweeps over (the same batches, in the same order, for one seed).

use crate::data::Split;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The order of the training images in epoch `epoch` (0-based): ChaCha8(seed), stream epoch + 1.
pub fn epoch_order(order: &mut [usize], seed: u64, epoch: u32, file_order: bool) {
    order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
    if !file_order {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(epoch as u64 + 1);
        order.shuffle(&mut rng);
    }
}

/// Batches of `batch_size` images (the last of an epoch may be short) from one split, with the buffers
/// they are copied into (allocated once).
pub struct Batches<'a> {
    train: &'a Split,
    batch_size: usize,
    seed: u64,
    /// `--order file`: no shuffle.
    file_order: bool,
    order: Vec<usize>,
    /// The epoch `order` is of.
    epoch: Option<u32>,
    x: Vec<f32>,
    labels: Vec<u32>,
}

impl<'a> Batches<'a> {
    pub fn new(train: &'a Split, batch_size: usize, seed: u64, file_order: bool) -> Self {
        Self {
            train,
            batch_size,
            seed,
            file_order,
            order: (0..train.len()).collect(),
            epoch: None,
            x: vec![0.0; batch_size * train.pixels()],
            labels: vec![0; batch_size],
        }
    }

    /// Batches in an epoch.
    pub fn per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.batch_size)
    }

    /// Batch `b` of epoch `epoch`: its images (NCHW) and labels.
    pub fn get(&mut self, epoch: u32, b: usize) -> (&[f32], &[u32]) {
        if self.epoch != Some(epoch) {
            epoch_order(&mut self.order, self.seed, epoch, self.file_order);
            self.epoch = Some(epoch);
        }
        let (n_train, bs) = (self.train.len(), self.batch_size);
        let idx = &self.order[b * bs..((b + 1) * bs).min(n_train)];
        self.train.fill_batch(idx, &mut self.x, &mut self.labels);
        let n = idx.len();
        (&self.x[..n * self.train.pixels()], &self.labels[..n])
    }
}
