//! The CPU trainer's kernels: the vector paths chosen at run time ([`simd`]), and the 3x3 convolutions
//! written once over them: direct ([`direct`]) and with fewer multiplications ([`winograd`]).

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

pub mod direct;
pub mod lines;
pub mod simd;
pub mod winograd;

#[cfg(test)]
mod testing;
