//! The layer kinds a network is a list of, each in its own file, registered in one line of
//! `layer_kinds!` below. A kind names its parameter slots (PyTorch's `weight`, `bias`, with their
//! shapes and fan-in for PyTorch's default init), says which entries of PyTorch's `nn.Sequential` it
//! stands for (their index names its parameters: `seq.<index>.<slot>`), its output shape, and its
//! forward pass in candle (what the CUDA path trains with).
//!
//! **Adding a layer kind**: a file here with its struct and `impl LayerKind`, and one line in
//! `layer_kinds!`. The candle path, parameter names, init, checkpoints and `--init` checks then
//! take it; the fused CPU trainer ([`crate::nn::cpu`]) runs the lists its kernels are written for
//! (3x3 convolutions with ReLU, then one linear layer) and [`crate::nn::net::Net::new`] says so for
//! any other.

use candle_core::Tensor;

/// A tensor's shape between layers: channels, rows, columns (a linear layer's output: `[n, 1, 1]`).
pub type Shape = [usize; 3];

/// One parameter of a layer kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// PyTorch's attribute name (`weight`, `bias`).
    pub name: &'static str,
    pub shape: Vec<usize>,
    /// The fan-in PyTorch's default init draws from: U(+-1/sqrt(fan_in)).
    pub fan_in: usize,
}

/// What a layer kind is.
pub trait LayerKind {
    /// Its parameters, in `state_dict` order.
    fn slots(&self) -> Vec<Slot>;
    /// How many entries of PyTorch's `nn.Sequential` it stands for, and which of them (0-based)
    /// holds its parameters (a convolution and its ReLU: 2, the first; a flatten and a linear
    /// layer: 2, the second).
    fn modules(&self) -> (usize, usize);
    /// Its output's shape for an input of `input`.
    fn output(&self, input: Shape) -> Shape;
    /// Its forward pass in candle on a batch `x` (NCHW), with its parameters in slot order.
    fn forward(&self, x: &Tensor, params: &[Tensor]) -> candle_core::Result<Tensor>;
}

/// Registers each layer kind: its module and its type. Makes the [`Layer`] enum.
macro_rules! layer_kinds {
    ($($module:ident :: $ty:ident,)*) => {
        $(mod $module; pub use $module::$ty;)*

        /// One layer of a network.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Layer {
            $($ty($ty),)*
        }

        impl Layer {
            /// The kind behind it.
            pub fn kind(&self) -> &dyn LayerKind {
                match self {
                    $(Layer::$ty(l) => l,)*
                }
            }
        }
    };
}

layer_kinds! {
    conv3x3_relu::Conv3x3Relu,
    linear::Linear,
}
