//! The network: a list of layers ([`crate::nn::layers`]) for `rows x cols` images, and where each
//! parameter lies in one flat vector of a model's parameters (PyTorch's `state_dict` order and names).
//!
//! A run config's `model = { conv = [...] }` makes the family the CPU trainer runs: 3x3 "same"
//! convolutions with ReLU of those output channels (1 input channel), then a linear layer on the
//! flattened (NCHW) output to the 10 classes; the study's is `[32, 16, 8]`. Its parameters are named
//! as the `nn.Sequential` PyTorch scripts build from the same list (`seq.0.weight`, `seq.0.bias`,
//! `seq.2.weight`, ..., the linear layer's last).

use super::layers::{Conv3x3Relu, Layer, Linear, Shape};
use crate::kernels::direct;
use anyhow::{bail, Result};

/// Output classes.
pub const CLASSES: usize = 10;
/// The study's network: output channels of its three convolutions.
pub const STUDY_CONV: [usize; 3] = [32, 16, 8];
/// Most convolutions in a network.
pub const MAX_LAYERS: usize = 8;
/// The slots of a layer's weight and bias ([`Net::param_index`]).
pub const WEIGHT: usize = 0;
pub const BIAS: usize = 1;

/// Checks a layer list (`model.conv` of a run config): the error names the key and the rule.
pub fn check_conv(conv: &[usize]) -> Result<()> {
    let widths = direct::CHANNELS.map(|c| c.to_string()).join(", ");
    if conv.is_empty() || conv.len() > MAX_LAYERS {
        bail!(
            "`model.conv` must list 1 to {MAX_LAYERS} convolutions, got {}",
            conv.len()
        );
    }
    if let Some(c) = conv.iter().find(|c| !direct::CHANNELS.contains(c)) {
        bail!("`model.conv`: {c} channels: every layer must have one of {widths} (the kernels' widths)");
    }
    Ok(())
}

/// One parameter: its `state_dict` name, shape and fan-in (PyTorch's default init draws from it).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub fan_in: usize,
}

/// The network's layers for `rows x cols` images, and where each parameter lies in one flat vector.
#[derive(Clone, Debug)]
pub struct Net {
    pub rows: usize,
    pub cols: usize,
    layers: Vec<Layer>,
    /// Output channels of each convolution (the CPU trainer's layers before the linear one).
    conv: Vec<usize>,
    /// Every parameter in `state_dict` order.
    specs: Vec<ParamSpec>,
    /// The index in `specs` of each layer's first parameter, and the count last.
    first_param: Vec<usize>,
    /// Start of each parameter in the flat vector, and the total length last.
    offsets: Vec<usize>,
}

impl Net {
    /// The network with convolutions of `conv` channels ([`check_conv`]'s rules) and the linear
    /// layer to the classes, for `rows x cols` images.
    pub fn new(conv: &[usize], rows: usize, cols: usize) -> Result<Self> {
        check_conv(conv)?;
        let mut layers = Vec::new();
        let mut cin = 1;
        for &cout in conv {
            layers.push(Layer::Conv3x3Relu(Conv3x3Relu { cin, cout }));
            cin = cout;
        }
        let inputs = cin * rows * cols;
        layers.push(Layer::Linear(Linear {
            inputs,
            outputs: CLASSES,
        }));
        Ok(Self::of_layers(layers, conv, rows, cols))
    }

    fn of_layers(layers: Vec<Layer>, conv: &[usize], rows: usize, cols: usize) -> Self {
        let (mut specs, mut first_param, mut offsets) = (Vec::new(), Vec::new(), vec![0]);
        let mut module = 0;
        for layer in &layers {
            let kind = layer.kind();
            let (modules, holder) = kind.modules();
            first_param.push(specs.len());
            for slot in kind.slots() {
                let end = offsets.last().unwrap() + slot.shape.iter().product::<usize>();
                offsets.push(end);
                specs.push(ParamSpec {
                    name: format!("seq.{}.{}", module + holder, slot.name),
                    shape: slot.shape,
                    fan_in: slot.fan_in,
                });
            }
            module += modules;
        }
        first_param.push(specs.len());
        Self {
            rows,
            cols,
            layers,
            conv: conv.to_vec(),
            specs,
            first_param,
            offsets,
        }
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The output shape of each layer, in order (the input: one channel of `rows x cols`).
    pub fn shapes(&self) -> Vec<Shape> {
        let mut shape = [1, self.rows, self.cols];
        self.layers
            .iter()
            .map(|l| {
                shape = l.kind().output(shape);
                shape
            })
            .collect()
    }

    /// Output channels of each convolution.
    pub fn conv(&self) -> &[usize] {
        &self.conv
    }

    /// Input channels of convolution `l`.
    pub(crate) fn cin(&self, l: usize) -> usize {
        if l == 0 {
            1
        } else {
            self.conv[l - 1]
        }
    }

    /// Convolutions (the layers before the linear one).
    pub(crate) fn convs(&self) -> usize {
        self.conv.len()
    }

    /// Every parameter in `state_dict` order.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// The index (in [`Net::specs`] order) of parameter `slot` of layer `layer`.
    pub fn param_index(&self, layer: usize, slot: usize) -> usize {
        debug_assert!(self.first_param[layer] + slot < self.first_param[layer + 1]);
        self.first_param[layer] + slot
    }

    /// The parameters of layer `layer`: the range of their indices.
    pub fn layer_params(&self, layer: usize) -> std::ops::Range<usize> {
        self.first_param[layer]..self.first_param[layer + 1]
    }

    /// Floats in one model's flat parameter vector.
    pub fn param_count(&self) -> usize {
        *self.offsets.last().unwrap()
    }

    /// Parameter `i` (in `state_dict` order) of a flat vector.
    pub fn param<'a>(&self, flat: &'a [f32], i: usize) -> &'a [f32] {
        &flat[self.param_range(i)]
    }

    /// Where parameter `i` (in `state_dict` order) lies in a flat vector.
    pub fn param_range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// Where the parameters of layers `layers` (input first) lie in a flat vector.
    pub fn layers_range(&self, layers: std::ops::Range<usize>) -> std::ops::Range<usize> {
        self.offsets[self.first_param[layers.start]]..self.offsets[self.first_param[layers.end]]
    }

    /// Pixels of an image.
    pub(crate) fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Pixels of an image with a zero border.
    pub(crate) fn padded(&self) -> usize {
        (self.rows + 2) * (self.cols + 2)
    }

    /// Splits a flat vector into its parameters.
    pub(crate) fn split<'a>(&self, mut flat: &'a mut [f32]) -> Vec<&'a mut [f32]> {
        let mut out = Vec::with_capacity(self.offsets.len() - 1);
        for i in 0..self.offsets.len() - 1 {
            let (a, b) = flat.split_at_mut(self.offsets[i + 1] - self.offsets[i]);
            out.push(a);
            flat = b;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The study's network has PyTorch's `nn.Sequential` names and shapes, and 69k parameters.
    #[test]
    fn study_network_has_pytorchs_names_and_shapes() {
        let net = Net::new(&STUDY_CONV, 28, 28).unwrap();
        let names: Vec<&str> = net.specs().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "seq.0.weight",
                "seq.0.bias",
                "seq.2.weight",
                "seq.2.bias",
                "seq.4.weight",
                "seq.4.bias",
                "seq.7.weight",
                "seq.7.bias"
            ]
        );
        assert_eq!(net.specs()[6].shape, [10, 8 * 28 * 28]);
        assert_eq!(net.param_index(3, WEIGHT), 6);
        assert_eq!(net.shapes().last(), Some(&[10, 1, 1]));
        assert_eq!(
            net.param_count(),
            288 + 32 + 4608 + 16 + 1152 + 8 + 62720 + 10
        );
    }
}
