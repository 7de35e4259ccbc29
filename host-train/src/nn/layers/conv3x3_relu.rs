//! A 3x3 "same" convolution (stride 1, zero padding 1) followed by a ReLU: PyTorch's
//! `nn.Conv2d(cin, cout, 3, padding="same"), nn.ReLU()`.

use super::{LayerKind, Shape, Slot};
use candle_core::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv3x3Relu {
    pub cin: usize,
    pub cout: usize,
}

impl LayerKind for Conv3x3Relu {
    fn slots(&self) -> Vec<Slot> {
        let fan_in = self.cin * 9;
        vec![
            Slot {
                name: "weight",
                shape: vec![self.cout, self.cin, 3, 3],
                fan_in,
            },
            Slot {
                name: "bias",
                shape: vec![self.cout],
                fan_in,
            },
        ]
    }

    fn modules(&self) -> (usize, usize) {
        (2, 0)
    }

    fn output(&self, [_, rows, cols]: Shape) -> Shape {
        [self.cout, rows, cols]
    }

    fn forward(&self, x: &Tensor, params: &[Tensor]) -> candle_core::Result<Tensor> {
        x.conv2d(&params[0], 1, 1, 1, 1)?
            .broadcast_add(&params[1].reshape((1, (), 1, 1))?)?
            .relu()
    }
}
