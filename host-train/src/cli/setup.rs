//! The set-up the training commands share (`bench`, `lr-find`): where the run config comes from, the
//! thread pool, the kernel path and the data set, each flag checked once with a one-line error.

use crate::config::{Fill, RunConfig};
use crate::data::Dataset;
use crate::kernels::simd::{Isa, IsaFlag};
use crate::kernels::Convolution;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

/// `--preset NAME` or `--config FILE`.
#[derive(Args, Debug)]
pub struct ConfigSource {
    /// A shipped run config (`tutorial`: the study's 14 runs and "LR finder + One Cycle").
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// A run config TOML file.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ConfigSource {
    /// The run config and its text (for the record); `fill` gives the command line's values for
    /// settings the config may leave out.
    pub fn load(&self, fill: Fill) -> Result<(RunConfig, String)> {
        match (&self.preset, &self.config) {
            (Some(name), None) => {
                let text = RunConfig::preset_text(name)?;
                let origin = format!("--preset {name}");
                Ok((
                    RunConfig::parse_filled(text, &origin, fill)?,
                    text.to_string(),
                ))
            }
            (None, Some(path)) => RunConfig::load_filled(path, fill),
            (None, None) => bail!("give --preset tutorial or --config FILE"),
            (Some(_), Some(_)) => bail!("give --preset or --config, not both"),
        }
    }
}

/// Where and how a command trains: the data set, the CPU threads and the kernel path.
#[derive(Args, Debug)]
pub struct Machine {
    /// Fashion-MNIST folder (default: $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub isa: IsaFlag,
    /// How the CPU kernels compute the 3x3 convolutions: `winograd` (Winograd F(4x4,3x3) for the
    /// forward pass and input gradient of every layer but the first, 4x fewer multiplications there;
    /// weight gradients stay direct; docs/kernels.md) or `direct` (the direct kernels everywhere: the
    /// bits of results trained before Winograd). AVX-512, AVX2 and NEON give the same bits with either.
    #[arg(long, value_enum, default_value_t = Convolution::Winograd)]
    pub convolution: Convolution,
    /// What computes the gradients: host-train's CPU kernels, or candle's tensors and autograd (what
    /// `--device cuda` trains with; on the CPU, to check that path where there is no GPU).
    #[arg(long, value_enum, default_value_t = Engine::Kernels)]
    pub engine: Engine,
}

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// host-train's own CPU kernels (`--isa` chooses the path).
    Kernels,
    /// candle's conv2d and autograd.
    Candle,
}

impl Machine {
    /// Checks the flags, then starts the thread pool; returns the kernel path to train on.
    pub fn start(&self) -> Result<Isa> {
        if self.threads == Some(0) {
            bail!("--threads must be >= 1");
        }
        let isa = Isa::select(self.isa.isa)?;
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        crate::nn::cpu::keep_freed_memory();
        // Ignore "already built" (tests call a command more than once in-process).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
        Ok(isa)
    }

    /// The data set's folder.
    pub fn data_dir(&self) -> PathBuf {
        crate::data::resolve_dir(self.data.as_deref())
    }

    /// The data set with `validation` training images held out (before `subset`: the validation
    /// images are the same whatever the subset), the training set cut to its first `subset` images.
    pub fn load_data(&self, validation: usize, subset: Option<usize>) -> Result<Dataset> {
        if subset == Some(0) {
            bail!("--subset must be >= 1");
        }
        let mut data = crate::data::load(&self.data_dir())?;
        data.hold_out(validation)?;
        if let Some(n) = subset {
            data.train.truncate(n);
        }
        Ok(data)
    }
}
