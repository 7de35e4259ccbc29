//! The CPU trainer's kernels: the vector paths chosen at run time ([`simd`]), and the 3x3 convolutions
//! written once over them: direct ([`direct`]) and with fewer multiplications ([`winograd`]), chosen
//! per layer by [`Convolution`].

/// Most steps [`unrolled!`] writes out.
const UNROLLED_MAX: usize = 16;

/// `for $j in 0..$n $body` for a constant `$n` of at most [`UNROLLED_MAX`], written out step by step, so
/// every index into a block's accumulators is a constant and they stay in registers. (LLVM leaves the
/// 16-step pixel loop of a 14-pixel block rolled, with its accumulators on the stack: AVX-512's
/// 16- and 8-channel layers ran at 39-41% of the FMA peak of a Zen 4 core.)
macro_rules! unrolled {
    ($j:ident in 0..$n:expr, $body:block) => {
        const { assert!($n <= $crate::kernels::UNROLLED_MAX) };
        unrolled!(@ $j, $n, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ $j:ident, $n:expr, $body:block, $($k:literal)*) => {
        $(if $k < $n {
            let $j: usize = $k;
            $body
        })*
    };
}

/// The larger of two counts, in the block-size choices' `const fn`s (`Ord::max` is not `const`).
const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

pub mod direct;
pub mod lines;
pub mod simd;
pub mod winograd;

use winograd::Tiling;

/// How the CPU kernels compute a 3x3 convolution (`--convolution`): the same choice on every vector
/// path, so that every path gives the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Convolution {
    /// Winograd F(4x4, 3x3) for the forward pass and input gradient where it applies (both channel
    /// counts in `direct::CHANNELS`: every layer but a first one with one input channel; 4 divides the
    /// image's sides), else F(2x2, 3x3) (2 divides them), else direct; weight gradients direct.
    #[default]
    Winograd,
    /// The direct kernels everywhere (the bits of every result trained before Winograd).
    Direct,
}

impl Convolution {
    /// Its `--convolution` value.
    pub fn name(self) -> &'static str {
        match self {
            Convolution::Winograd => "winograd",
            Convolution::Direct => "direct",
        }
    }

    /// The tiling of a convolution of `cin` to `cout` channels on `h x w` images (`None`: direct). The
    /// input gradient of a layer, a convolution of `cout` to `cin` channels, takes the same.
    pub fn tiling(self, cin: usize, cout: usize, h: usize, w: usize) -> Option<Tiling> {
        match self {
            Convolution::Winograd => Tiling::for_layer(cin, cout, h, w),
            Convolution::Direct => None,
        }
    }
}

/// What results record of a layer's kernels: "direct", "winograd-f2" or "winograd-f4".
pub fn tiling_name(tiling: Option<Tiling>) -> &'static str {
    tiling.map_or("direct", Tiling::name)
}

#[cfg(test)]
mod testing;
