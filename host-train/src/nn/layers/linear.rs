//! A fully connected layer on the flattened input: PyTorch's `nn.Flatten(), nn.Linear(inputs,
//! outputs)` (flattened in NCHW order).

use super::{LayerKind, Shape, Slot};
use candle_core::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    pub inputs: usize,
    pub outputs: usize,
}

impl LayerKind for Linear {
    fn slots(&self) -> Vec<Slot> {
        vec![
            Slot {
                name: "weight",
                shape: vec![self.outputs, self.inputs],
                fan_in: self.inputs,
            },
            Slot {
                name: "bias",
                shape: vec![self.outputs],
                fan_in: self.inputs,
            },
        ]
    }

    fn modules(&self) -> (usize, usize) {
        (2, 1)
    }

    fn output(&self, _: Shape) -> Shape {
        [self.outputs, 1, 1]
    }

    fn forward(&self, x: &Tensor, params: &[Tensor]) -> candle_core::Result<Tensor> {
        x.flatten_from(1)?
            .matmul(&params[0].t()?)?
            .broadcast_add(&params[1])
    }
}
