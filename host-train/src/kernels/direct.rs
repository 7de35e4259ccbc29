//! Direct 3x3 "same" convolution kernels, NHWC, written once and generic over the vector register type
//! ([`Simd`]): the forward pass, the input gradient (a forward pass with flipped weights) and the weight
//! gradient, for any layer whose output has 8, 16, 32 or 64 channels ([`CHANNELS`]).
//!
//! Layouts: activations are `(h+2) x (w+2) x c` with a zero border ("padded"), or `h x w x c`; weights are
//! HWIO, `w[((ky*3 + kx)*cin + ci)*cout + co]`. Each output vector is a register accumulator fed by
//! FMAs with a broadcast input value, in a fixed order (kernel rows, input channels, kernel columns),
//! so a pixel's result does not depend on the block it is computed in or on the thread. Block sizes
//! follow the register count of the type (`conv_block_registers`, `grad_block`).
//!
//! Every function here is `#[inline(always)]`: it runs inside [`crate::kernels::simd::Isa::dispatch`], compiled
//! with the path's target features.

use crate::kernels::max;
use crate::kernels::simd::{Path, Simd, WithPath};

/// The channel counts the kernels support (a layer's output, and for the input gradient its input).
pub const CHANNELS: [usize; 4] = [8, 16, 32, 64];

/// Most output pixels per block.
const MAX_BLOCK: usize = 14;
const _: () = assert!(
    MAX_BLOCK + 2 <= super::UNROLLED_MAX,
    "a block's input pixels are unrolled"
);

/// Output pixels per block of [`conv`] for `vb` output registers per pixel: `n * vb` accumulators, the
/// `3 * vb` weights of one kernel row and a broadcast input fit the register file (at least 1).
const fn block_pixels(registers: usize, vb: usize) -> usize {
    let n = registers.saturating_sub(3 * vb + 1) / vb;
    if n < 1 {
        1
    } else if n > MAX_BLOCK {
        MAX_BLOCK
    } else {
        n
    }
}

/// Whether a [`conv`] block of `vb` output registers fits the register file: its `3 * vb` weights, a
/// broadcast and at least `vb` accumulators.
const fn conv_block_fits(registers: usize, vb: usize) -> bool {
    4 * vb < registers
}

/// Output registers `vb` (of the `cv` of a pixel) one [`conv`] block computes, with
/// [`block_pixels`]`(registers, vb)` pixels. Each (kernel row, input channel) step of a block loads the
/// row's `3 * vb` weights and broadcasts its `n + 2` input pixels, each feeding the up to 3 output
/// pixels it touches: `3 * n * vb` FMAs. With about one load per FMA slot, and each accumulator taking 3
/// dependent FMAs a step (8 accumulators hide the FMA latency: 24 slots), the rate
/// `fmas / max(fmas, loads, 24)` decides, then the fewest loads per FMA. (AVX2's 16- and 32-channel
/// layers: 1 register x 12 pixels, 36 FMAs for 17 loads; AVX-512's 32-channel layer: 2 x 12.)
const fn conv_block_registers(registers: usize, cv: usize) -> usize {
    let mut best = (1, 0, 0, 1); // (vb, fmas, loads, cycles)
    let mut vb = 1;
    while vb <= cv {
        if cv.is_multiple_of(vb) && conv_block_fits(registers, vb) {
            let n = block_pixels(registers, vb);
            let (fmas, loads) = (3 * n * vb, 3 * vb + n + 2);
            let cycles = max(max(fmas, loads), 24);
            let (_, bf, bl, bc) = best;
            // fmas / cycles against bf / bc, then loads / fmas against bl / bf, as integers.
            let (rate, best_rate) = (fmas * bc, bf * cycles);
            if bf == 0 || rate > best_rate || (rate == best_rate && loads * bf < bl * fmas) {
                best = (vb, fmas, loads, cycles);
            }
        }
        vb *= 2;
    }
    best.0
}

/// A [`weight_grad`] block: `3 * cb * vb` accumulators `dw[ky, 0..3, cb input channels, vb output
/// registers]`, kept in registers over all pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GradBlock {
    cb: usize,
    vb: usize,
    /// Whether each input pixel is broadcast once per row and the gradients of the last three output
    /// pixels stay in registers (`vb + cb` loads a pixel, `3 * vb` more registers), or each output
    /// pixel's `3 * cb` inputs are broadcast (`vb + 3 * cb` loads a pixel).
    slide: bool,
}

impl GradBlock {
    const fn fmas(self) -> usize {
        3 * self.cb * self.vb
    }
    const fn loads(self) -> usize {
        self.vb + if self.slide { self.cb } else { 3 * self.cb }
    }
    /// Registers it needs: accumulators, gradients, a broadcast, and for the sliding form one spare
    /// (LLVM spills AVX2's 4 x 1 sliding block, which would fill all 16 exactly).
    const fn registers(self) -> usize {
        self.fmas()
            + if self.slide {
                3 * self.vb + 2
            } else {
                self.vb + 1
            }
    }
    /// FMA slots a pixel takes: each accumulator takes one FMA a pixel, about one load fits an FMA
    /// slot, and 8 accumulators hide the FMA latency.
    const fn cycles(self) -> usize {
        max(max(self.fmas(), self.loads()), 8)
    }
}

/// Every [`GradBlock`] for `cv` output registers and `cin` input channels that fits the register file.
fn grad_blocks(registers: usize, cv: usize, cin: usize) -> impl Iterator<Item = GradBlock> {
    let vbs = [1, 2, 4, 8]
        .into_iter()
        .filter(move |&v| cv.is_multiple_of(v));
    vbs.flat_map(move |vb| {
        let cbs = [1, 2, 4, 8]
            .into_iter()
            .filter(move |&c| cin.is_multiple_of(c));
        cbs.flat_map(move |cb| [false, true].map(|slide| GradBlock { cb, vb, slide }))
    })
    .filter(move |b| b.registers() <= registers)
}

/// The [`grad_blocks`] candidate with the best rate `fmas / cycles`, then the most accumulators, then
/// the fewest loads. (AVX2's 16-channel layer after 32: 2 x 2, not sliding, 12 FMAs
/// for 8 loads; AVX-512's: 8 x 1 sliding, 24 FMAs for 9 loads, not 25.)
fn grad_block(registers: usize, cv: usize, cin: usize) -> GradBlock {
    let mut best = GradBlock {
        cb: 1,
        vb: 1,
        slide: false,
    };
    for b in grad_blocks(registers, cv, cin) {
        // fmas / cycles against the best's, as integers.
        let (rate, best_rate) = (b.fmas() * best.cycles(), best.fmas() * b.cycles());
        let more = b.fmas() > best.fmas();
        let fewer_loads = b.fmas() == best.fmas() && b.loads() < best.loads();
        if rate > best_rate || (rate == best_rate && (more || fewer_loads)) {
            best = b;
        }
    }
    best
}

/// A 3x3 "same" convolution of one image: `out[y, x, :] = act(bias + sum_{ky,kx,ci} inp[y+ky, x+kx, ci] *
/// wt[ky, kx, ci, :])`.
pub struct Conv<'a> {
    /// The padded input, `cin` channels.
    pub inp: &'a [f32],
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    /// HWIO weights, `9 * cin * cout`.
    pub wt: &'a [f32],
    pub bias: Option<&'a [f32]>,
    /// What is done to the sums before they are stored.
    pub epilogue: Epilogue<'a>,
    /// The output, `cout` channels (one of [`CHANNELS`]), padded when `out_padded` (only the interior is
    /// written).
    pub out: &'a mut [f32],
    pub cout: usize,
    pub out_padded: bool,
}

/// What a [`Conv`] stores.
#[derive(Clone, Copy)]
pub enum Epilogue<'a> {
    /// `max(sum, 0)`: the forward ReLU.
    Relu,
    /// The sum where `y` is positive, else 0: the gradient through the ReLU whose output is `y` (padded
    /// NHWC, `cout` channels, the output's pixels). Fused here, it saves the backward pass a pass over
    /// the gradient (and a separate in-place pass became masked stores, slow on AMD's CPUs).
    ReluGrad(&'a [f32]),
}

/// [`Epilogue`] at one block's first output value.
#[derive(Clone, Copy)]
enum BlockEpilogue {
    Relu,
    ReluGrad(*const f32),
}

/// The weight gradient of a 3x3 "same" convolution for one image: `dw[ky, kx, ci, :] += sum_{y,x}
/// inp[y+ky, x+kx, ci] * g[y, x, :]` (pixels in row-major order).
pub struct WeightGrad<'a> {
    /// The padded input, `cin` channels.
    pub inp: &'a [f32],
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    /// The output gradient, `cout` channels (one of [`CHANNELS`]), padded when `g_padded`.
    pub g: &'a [f32],
    pub cout: usize,
    pub g_padded: bool,
    /// HWIO, accumulated into.
    pub dw: &'a mut [f32],
}

/// Runs `c` on the path's widest register type that divides its output channels; `path` is the
/// capability [`crate::kernels::simd::Isa::dispatch`] hands out.
#[inline(always)]
pub fn conv<P: Path>(path: P, c: Conv) {
    path.call(ConvOp(c, None))
}

/// Runs `g` on the path's widest register type that divides its output channels (an 8-channel output
/// narrower than that: across input channels instead, `weight_grad_across_inputs`); `path` as in
/// [`conv`].
#[inline(always)]
pub fn weight_grad<P: Path>(path: P, g: WeightGrad) {
    path.call(WeightGradOp(g, None))
}

/// [`conv`] compiled once per path (through [`Path::call`]), not at every call site; with the output
/// registers of a block forced (tests: every one that fits), else [`conv_block_registers`]'.
struct ConvOp<'a>(Conv<'a>, Option<usize>);

impl WithPath for ConvOp<'_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        if self.0.cout.is_multiple_of(<P::Wide as Simd>::LANES) {
            conv_on::<P::Wide>(self.0, self.1)
        } else {
            conv_on::<P::Narrow>(self.0, self.1)
        }
    }
}

/// [`weight_grad`] compiled once per path; with a block forced (tests: every one that fits), else
/// [`grad_block`]'s, or [`weight_grad_across_inputs`] where it fits.
struct WeightGradOp<'a>(WeightGrad<'a>, Option<GradBlock>);

impl WithPath for WeightGradOp<'_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        let (cin, cout) = (self.0.cin, self.0.cout);
        if cout.is_multiple_of(<P::Wide as Simd>::LANES) {
            weight_grad_on::<P::Wide>(self.0, self.1)
        } else if self.1.is_none() && across_inputs_fits::<P::Wide>(cin, cout) {
            weight_grad_across_inputs::<P::Wide, 8>(self.0)
        } else {
            weight_grad_on::<P::Narrow>(self.0, self.1)
        }
    }
}

#[inline(always)]
fn conv_on<S: Simd>(c: Conv, forced_vb: Option<usize>) {
    let (h, w, cin, cout) = (c.h, c.w, c.cin, c.cout);
    assert!(CHANNELS.contains(&cout) && cout.is_multiple_of(S::LANES) && cin >= 1);
    assert!(c.inp.len() >= (h + 2) * (w + 2) * cin);
    let (out_h, out_w) = if c.out_padded { (h + 2, w + 2) } else { (h, w) };
    assert!(c.wt.len() >= 9 * cin * cout && c.out.len() >= out_h * out_w * cout);
    assert!(c.bias.is_none_or(|b| b.len() >= cout));
    if let Epilogue::ReluGrad(y) = c.epilogue {
        assert!(y.len() >= (h + 2) * (w + 2) * cout);
    }
    match forced_vb.unwrap_or_else(|| conv_block_registers(S::REGISTERS, cout / S::LANES)) {
        // (Only the widths that fit are compiled.)
        1 => conv_rows::<S, 1>(c),
        2 if conv_block_fits(S::REGISTERS, 2) => conv_rows::<S, 2>(c),
        4 if conv_block_fits(S::REGISTERS, 4) => conv_rows::<S, 4>(c),
        8 if conv_block_fits(S::REGISTERS, 8) => conv_rows::<S, 8>(c),
        _ => unreachable!("a power of two dividing cout / LANES that fits the registers"),
    }
}

/// [`conv`] in blocks of `VB` output registers by up to [`block_pixels`] pixels along each row; a block's
/// register groups run one after the other over the same input pixels (still in the cache).
#[inline(always)]
fn conv_rows<S: Simd, const VB: usize>(c: Conv) {
    let (h, w, cin, cout) = (c.h, c.w, c.cin, c.cout);
    let nb = const { block_pixels(S::REGISTERS, VB) };
    // Blocks of even size along a row (28 pixels in blocks of at most 12: 10, 10, 8, not 12, 12, 4).
    let n_even = w.div_ceil(w.div_ceil(nb));
    let off = usize::from(c.out_padded);
    let out_w = w + 2 * off;
    let (i, wp, o) = (c.inp.as_ptr(), c.wt.as_ptr(), c.out.as_mut_ptr());
    for y in 0..h {
        let mut x0 = 0;
        while x0 < w {
            let n = n_even.min(w - x0);
            let inp_at = (y * (w + 2) + x0) * cin;
            let out_at = ((y + off) * out_w + x0 + off) * cout;
            let relu_out_at = ((y + 1) * (w + 2) + x0 + 1) * cout;
            for c0 in (0..cout).step_by(S::LANES * VB) {
                let bias = c.bias.map(|b| &b[c0..]);
                let epilogue = match c.epilogue {
                    Epilogue::Relu => BlockEpilogue::Relu,
                    // SAFETY: within `y` (conv_on's assert), as the block's output pixels are.
                    Epilogue::ReluGrad(y) => {
                        BlockEpilogue::ReluGrad(unsafe { y.as_ptr().add(relu_out_at + c0) })
                    }
                };
                macro_rules! block {
                    ($($n:literal)*) => {
                        // SAFETY: conv_on's asserts bound every index a block reads and writes (pixels
                        // x0..x0+n of output row y, channels c0..c0+LANES*VB, rows y..y+2 of the padded
                        // input, 9 * cin * cout weights; the same pixels and channels of a ReluGrad's y).
                        unsafe {
                            let (i, wt, o) = (i.add(inp_at), wp.add(c0), o.add(out_at + c0));
                            let row = (w + 2) * cin;
                            match n {
                                $($n if $n <= nb => conv_block::<S, VB, $n>(i, row, cin, wt, cout, bias, epilogue, o),)*
                                _ => unreachable!("n <= nb <= MAX_BLOCK"),
                            }
                        }
                    };
                }
                block!(1 2 3 4 5 6 7 8 9 10 11 12 13 14);
            }
            x0 += n;
        }
    }
}

/// One block of `N` output pixels of [`conv`], `VB` registers of output channels each (from `wt`, `bias`
/// and `out`, which start at the block's first channel; `cout` is the row length of weights and output),
/// in registers throughout. For each kernel row and input channel, the row's 3 weights are loaded once
/// and each of the `N + 2` input pixels is broadcast once and added to the up to 3 output pixels it
/// touches, so every accumulator takes its FMAs in the order (kernel row, input channel, kernel column),
/// whatever the block.
/// # Safety
/// `inp` (row stride `row`), `wt`, `out` and a `ReluGrad`'s pointer cover the block (see [`conv_rows`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn conv_block<S: Simd, const VB: usize, const N: usize>(
    inp: *const f32,
    row: usize,
    cin: usize,
    wt: *const f32,
    cout: usize,
    bias: Option<&[f32]>,
    epilogue: BlockEpilogue,
    out: *mut f32,
) {
    let mut acc: [[S::V; VB]; N] = [[S::zero(); VB]; N];
    // SAFETY (the loads and stores): the caller's contract.
    unsafe {
        if let Some(b) = bias {
            for v in 0..VB {
                let bv = S::load(b.as_ptr().add(S::LANES * v));
                for a in acc.iter_mut() {
                    a[v] = bv;
                }
            }
        }
        for ky in 0..3 {
            let base = inp.add(ky * row);
            let wrow = wt.add(ky * 3 * cin * cout);
            for ci in 0..cin {
                let mut wv: [[S::V; VB]; 3] = [[S::zero(); VB]; 3];
                for (kx, w) in wv.iter_mut().enumerate() {
                    for (v, r) in w.iter_mut().enumerate() {
                        *r = S::load(wrow.add((kx * cin + ci) * cout + S::LANES * v));
                    }
                }
                // Input pixel j feeds output pixel j - kx through kernel column kx.
                unrolled!(j in 0..N + 2, {
                    let xv = S::splat(*base.add(j * cin + ci));
                    for (kx, w) in wv.iter().enumerate() {
                        if j >= kx && j - kx < N {
                            let a = &mut acc[j - kx];
                            for v in 0..VB {
                                a[v] = S::mul_add(w[v], xv, a[v]);
                            }
                        }
                    }
                });
            }
        }
        for (j, a) in acc.iter().enumerate() {
            for (v, &x) in a.iter().enumerate() {
                let at = j * cout + S::LANES * v;
                let r = match epilogue {
                    BlockEpilogue::Relu => S::relu(x),
                    BlockEpilogue::ReluGrad(y) => S::keep_where_positive(x, S::load(y.add(at))),
                };
                S::store(out.add(at), r);
            }
        }
    }
}

#[inline(always)]
fn weight_grad_on<S: Simd>(g: WeightGrad, forced: Option<GradBlock>) {
    let (h, w, cin, cout) = (g.h, g.w, g.cin, g.cout);
    assert!(CHANNELS.contains(&cout) && cout.is_multiple_of(S::LANES) && cin >= 1);
    assert!(g.inp.len() >= (h + 2) * (w + 2) * cin);
    let (gw, goff) = if g.g_padded { (w + 2, 1) } else { (w, 0) };
    assert!(g.g.len() >= (h + 2 * goff) * gw * cout && g.dw.len() >= 9 * cin * cout);
    let cv = cout / S::LANES;
    let block = forced.unwrap_or_else(|| grad_block(S::REGISTERS, cv, cin));
    let (i, gp, d) = (g.inp.as_ptr(), g.g.as_ptr(), g.dw.as_mut_ptr());
    let shape = GradShape {
        cin,
        cout,
        h,
        w,
        gw,
        goff,
    };
    macro_rules! run {
        ($cb:literal, $vb:literal, $slide:literal) => {
            for ky in 0..3 {
                for c0 in (0..cin).step_by($cb) {
                    for v0 in (0..cv).step_by($vb) {
                        // SAFETY: the asserts above bound every index of the block.
                        unsafe {
                            weight_grad_block::<S, $cb, $vb, $slide>(&shape, i, gp, ky, c0, v0, d)
                        }
                    }
                }
            }
        };
    }
    // Only the blocks that fit are compiled.
    let fits = |cb, vb, slide| GradBlock { cb, vb, slide }.registers() <= S::REGISTERS;
    macro_rules! blocks {
        ($(($cb:literal, $vb:literal))*) => {
            match (block.cb, block.vb, block.slide) {
                $(
                    ($cb, $vb, false) if fits($cb, $vb, false) => run!($cb, $vb, false),
                    ($cb, $vb, true) if fits($cb, $vb, true) => run!($cb, $vb, true),
                )*
                _ => unreachable!("grad_block fits the registers"),
            }
        };
    }
    blocks!(
        (1, 1)(1, 2)(1, 4)(1, 8)(2, 1)(2, 2)(2, 4)(2, 8)(4, 1)(4, 2)(4, 4)(4, 8)(8, 1)(8, 2)(8, 4)(
            8, 8
        )
    );
}

/// The shapes a [`weight_grad_block`] needs.
struct GradShape {
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    /// Row length and border of the gradient (padded or not).
    gw: usize,
    goff: usize,
}

/// The 3 (kx) x `CB` (input channels from `c0`) x `VB` (output registers from `v0`) registers
/// `dw[ky, 0..3, c0.., v0..]` of [`weight_grad`], kept in registers over all pixels, in one of two forms
/// ([`GradBlock::slide`]): each output pixel's gradient times the `3 * CB` inputs it was computed from,
/// broadcast; or (`SLIDE`, rows of 2 pixels or more) along a row, each input pixel `j` broadcast once and
/// multiplied by the gradients of the output pixels `j - kx` it touches (the last three loaded, kept in
/// registers). Every accumulator sums its pixels in row-major order either way: the same bits.
/// # Safety
/// The pointers cover the shapes in `s` (see [`weight_grad_on`]).
#[inline(always)]
unsafe fn weight_grad_block<S: Simd, const CB: usize, const VB: usize, const SLIDE: bool>(
    s: &GradShape,
    inp: *const f32,
    g: *const f32,
    ky: usize,
    c0: usize,
    v0: usize,
    dw: *mut f32,
) {
    let (cin, cout, w) = (s.cin, s.cout, s.w);
    let at =
        |kx: usize, c: usize, v: usize| ((ky * 3 + kx) * cin + c0 + c) * cout + S::LANES * (v0 + v);
    let mut acc: [[[S::V; VB]; CB]; 3] = [[[S::zero(); VB]; CB]; 3];
    // SAFETY (the loads and stores): the caller's contract.
    unsafe {
        for (kx, a) in acc.iter_mut().enumerate() {
            for (c, r) in a.iter_mut().enumerate() {
                for (v, x) in r.iter_mut().enumerate() {
                    *x = S::load(dw.add(at(kx, c, v)));
                }
            }
        }
        for y in 0..s.h {
            let row = inp.add(((y + ky) * (w + 2)) * cin + c0);
            let grow = g.add(((y + s.goff) * s.gw + s.goff) * cout + S::LANES * v0);
            if SLIDE && w >= 2 {
                // The gradient of output pixel o sits in gv[o % 3] (3 slots, no copies between pixels);
                // the kernel columns kx with 0 <= j - kx < w are LIVE (bit kx): all inside the row, some
                // at its ends. Both are known at compile time for every pixel, so nothing spills (w >= 2).
                let mut gv: [[S::V; VB]; 3] = [[S::zero(); VB]; 3];
                macro_rules! px {
                    ($j:expr, $r:literal, $live:literal) => {
                        grad_pixel::<S, CB, VB, $r, $live>(
                            &mut acc, &mut gv, row, grow, $j, cin, cout,
                        )
                    };
                }
                px!(0, 0, 0b001);
                px!(1, 1, 0b011);
                let mut j = 2;
                while j + 3 <= w {
                    px!(j, 2, 0b111);
                    px!(j + 1, 0, 0b111);
                    px!(j + 2, 1, 0b111);
                    j += 3;
                }
                // j % 3 == 2 here: the last 0 to 2 pixels inside the row, then the 2 past its end.
                match w - j {
                    0 => {
                        px!(w, 2, 0b110);
                        px!(w + 1, 0, 0b100);
                    }
                    1 => {
                        px!(j, 2, 0b111);
                        px!(w, 0, 0b110);
                        px!(w + 1, 1, 0b100);
                    }
                    _ => {
                        px!(j, 2, 0b111);
                        px!(j + 1, 0, 0b111);
                        px!(w, 1, 0b110);
                        px!(w + 1, 2, 0b100);
                    }
                }
                continue;
            }
            for x in 0..w {
                let mut gv: [S::V; VB] = [S::zero(); VB];
                for (v, r) in gv.iter_mut().enumerate() {
                    *r = S::load(grow.add(x * cout + S::LANES * v));
                }
                for (kx, a) in acc.iter_mut().enumerate() {
                    let px = row.add((x + kx) * cin);
                    for (c, r) in a.iter_mut().enumerate() {
                        let xv = S::splat(*px.add(c));
                        for v in 0..VB {
                            r[v] = S::mul_add(xv, gv[v], r[v]);
                        }
                    }
                }
            }
        }
        for (kx, a) in acc.iter().enumerate() {
            for (c, r) in a.iter().enumerate() {
                for (v, x) in r.iter().enumerate() {
                    S::store(dw.add(at(kx, c, v)), *x);
                }
            }
        }
    }
}

/// Input pixel `j` of a sliding [`weight_grad_block`] row (`row`: the row's input, `grow`: its gradient),
/// `R = j % 3`: where kernel column 0 is live (`j < w`), loads the gradient of output pixel `j` into
/// `gv[R]` (output pixel `o`'s is in `gv[o % 3]`); then adds the pixel's `CB` channels, broadcast, times
/// the gradients of the output pixels `j - kx` of the `LIVE` columns.
/// # Safety
/// `row` and `grow` cover pixel `j` (`CB` floats, `VB` registers).
#[inline(always)]
unsafe fn grad_pixel<S: Simd, const CB: usize, const VB: usize, const R: usize, const LIVE: u8>(
    acc: &mut [[[S::V; VB]; CB]; 3],
    gv: &mut [[S::V; VB]; 3],
    row: *const f32,
    grow: *const f32,
    j: usize,
    cin: usize,
    cout: usize,
) {
    // SAFETY (the loads): the caller's contract.
    unsafe {
        if LIVE & 1 != 0 {
            let g = grow.add(j * cout);
            for (v, r) in gv[R].iter_mut().enumerate() {
                *r = S::load(g.add(S::LANES * v));
            }
        }
        let inp = row.add(j * cin);
        for c in 0..CB {
            let xv = S::splat(*inp.add(c));
            for (kx, a) in acc.iter_mut().enumerate() {
                if LIVE >> kx & 1 != 0 {
                    let g = &gv[(R + 3 - kx) % 3];
                    for v in 0..VB {
                        a[c][v] = S::mul_add(xv, g[v], a[c][v]);
                    }
                }
            }
        }
    }
}

/// Whether [`weight_grad_across_inputs`] runs a weight gradient of `cin` to `cout` channels on `S`: 8
/// output channels, narrower than `S` (AVX-512's 8-channel layer, which `S`'s narrow registers would run
/// at half width), `cin` a multiple of its lanes, the 3 x 8 accumulators and 4 operands in its
/// registers.
fn across_inputs_fits<S: Simd>(cin: usize, cout: usize) -> bool {
    cout == 8 && cout < S::LANES && cin.is_multiple_of(S::LANES) && 3 * 8 + 4 <= S::REGISTERS
}

/// [`weight_grad`] with the vector lanes across input channels instead of output channels, for
/// `COUT` output channels fewer than a register's lanes. Per kernel row and `S::LANES` input channels:
/// 3 (kx) x `COUT` accumulators, loaded from `dw` (HWIO, so across its input channels, `COUT` floats
/// apart) and stored back once; each output pixel's `COUT` gradients are broadcast against the 3 input
/// vectors it was computed from. Every accumulator still adds its pixels in row-major order, one fused
/// multiply-add each (`x * g + acc`, the same product as [`weight_grad_on`]'s `g * x`): the same bits.
#[inline(always)]
fn weight_grad_across_inputs<S: Simd, const COUT: usize>(g: WeightGrad) {
    /// Most lanes of a register type (AVX-512's 16 floats).
    const MAX_LANES: usize = 16;
    let (h, w, cin) = (g.h, g.w, g.cin);
    assert!(g.cout == COUT && S::LANES <= MAX_LANES && cin.is_multiple_of(S::LANES));
    assert!(g.inp.len() >= (h + 2) * (w + 2) * cin);
    let (gw, goff) = if g.g_padded { (w + 2, 1) } else { (w, 0) };
    assert!(g.g.len() >= (h + 2 * goff) * gw * COUT && g.dw.len() >= 9 * cin * COUT);
    let (inp, grad) = (g.inp.as_ptr(), g.g.as_ptr());
    let mut lanes = [0f32; MAX_LANES];
    for ky in 0..3 {
        for c0 in (0..cin).step_by(S::LANES) {
            let at = |kx: usize, l: usize, co: usize| ((ky * 3 + kx) * cin + c0 + l) * COUT + co;
            let mut acc: [[S::V; COUT]; 3] = [[S::zero(); COUT]; 3];
            for (kx, a) in acc.iter_mut().enumerate() {
                for (co, x) in a.iter_mut().enumerate() {
                    for (l, v) in lanes.iter_mut().enumerate().take(S::LANES) {
                        *v = g.dw[at(kx, l, co)];
                    }
                    // SAFETY: `lanes` holds MAX_LANES >= S::LANES floats.
                    *x = unsafe { S::load(lanes.as_ptr()) };
                }
            }
            for y in 0..h {
                // SAFETY: the asserts above bound input rows y + ky (pixels 0 .. w + 2, channels c0 ..
                // c0 + LANES) and gradient row y (w pixels of COUT channels).
                unsafe {
                    let row = inp.add((y + ky) * (w + 2) * cin + c0);
                    let grow = grad.add(((y + goff) * gw + goff) * COUT);
                    for x in 0..w {
                        let xv: [S::V; 3] =
                            std::array::from_fn(|kx| S::load(row.add((x + kx) * cin)));
                        for co in 0..COUT {
                            let gv = S::splat(*grow.add(x * COUT + co));
                            for (a, &xk) in acc.iter_mut().zip(&xv) {
                                a[co] = S::mul_add(xk, gv, a[co]);
                            }
                        }
                    }
                }
            }
            for (kx, a) in acc.iter().enumerate() {
                for (co, &x) in a.iter().enumerate() {
                    // SAFETY: as above.
                    unsafe { S::store(lanes.as_mut_ptr(), x) };
                    for (l, &v) in lanes.iter().enumerate().take(S::LANES) {
                        g.dw[at(kx, l, co)] = v;
                    }
                }
            }
        }
    }
}

/// OIHW (PyTorch) weights `(cout, cin, 3, 3)` to HWIO.
pub fn oihw_to_hwio(w: &[f32], cin: usize, cout: usize, out: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                out[(t * cin + ci) * cout + co] = w[(co * cin + ci) * 9 + t];
            }
        }
    }
}

/// Adds HWIO weights to OIHW ones.
pub fn add_hwio_to_oihw(hwio: &[f32], cin: usize, cout: usize, oihw: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                oihw[(co * cin + ci) * 9 + t] += hwio[(t * cin + ci) * cout + co];
            }
        }
    }
}

/// The input-gradient weights in HWIO form of the transposed convolution: `f[ky, kx, co, ci] =
/// w[co, ci, 2-ky, 2-kx]` (from OIHW `w`), so that `dx = conv(g, f)` with `cout` input channels.
pub fn flip_oihw_to_hwio(w: &[f32], cin: usize, cout: usize, out: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                out[((8 - t) * cout + co) * cin + ci] = w[(co * cin + ci) * 9 + t];
            }
        }
    }
}

/// The linear layer's weights `(classes, c*h*w)` (PyTorch's flatten of NCHW) reordered for an NHWC input:
/// `out[k, p*c + ci] = w[k, ci*hw + p]`.
pub fn linear_chw_to_hwc(w: &[f32], classes: usize, c: usize, hw: usize, out: &mut [f32]) {
    let n = c * hw;
    for k in 0..classes {
        for ci in 0..c {
            for p in 0..hw {
                out[k * n + p * c + ci] = w[k * n + ci * hw + p];
            }
        }
    }
}

/// An NHWC image `(hw, c)` in PyTorch's CHW order: `out[ci*hw + p] = hwc[p*c + ci]`.
pub fn hwc_to_chw(hwc: &[f32], c: usize, hw: usize, out: &mut [f32]) {
    for ci in 0..c {
        for p in 0..hw {
            out[ci * hw + p] = hwc[p * c + ci];
        }
    }
}

/// NCHW plane-major `(c, h, w)` into the interior of a padded `(h+2, w+2, c)` buffer (border untouched).
pub fn chw_to_padded_hwc(src: &[f32], c: usize, h: usize, w: usize, dst: &mut [f32]) {
    let hw = h * w;
    for y in 0..h {
        for x in 0..w {
            let d = ((y + 1) * (w + 2) + x + 1) * c;
            for (ci, v) in dst[d..d + c].iter_mut().enumerate() {
                *v = src[ci * hw + y * w + x];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every kernel on every path this CPU has, against a plain loop over the definition (f64 sums).

    use super::*;
    use crate::kernels::testing::*;

    /// Every layer shape of the supported channel counts, on every path this CPU has.
    #[derive(Clone, Copy)]
    struct CheckAll;
    impl WithPath for CheckAll {
        type Output = ();
        #[inline(always)]
        fn run<P: Path>(self, path: P) {
            // 17 = 14 + 3: full blocks and remainders for every block size; 17, 18 and 19: every
            // remainder of the weight gradient's rows in threes; 1: its row too short to slide.
            for (h, w) in [(4, 17), (3, 18), (2, 19), (3, 1)] {
                for cin in [1, 8, 16, 32, 64] {
                    for cout in CHANNELS {
                        check(path, cin, cout, h, w);
                    }
                }
            }
        }
    }

    fn check<P: Path>(path: P, cin: usize, cout: usize, h: usize, w: usize) {
        let hw = h * w;
        let x = pad(&noise(hw * cin, 1 + cin as u32), cin, h, w);
        let wt = noise(9 * cin * cout, 2 + cout as u32);
        let bias = noise(cout, 3);
        let g = noise(hw * cout, 4);
        let relu_out = pad(&noise(hw * cout, 5), cout, h, w);
        let sums = conv_reference(&x, cin, h, w, &wt, &bias, cout);
        // Sums of up to 576 products of values in [-1, 1]: f32 rounding in another order is ~1e-5.
        let tol = 2e-4;
        for (name, epilogue, padded) in [
            ("relu", Epilogue::Relu, true),
            ("relu", Epilogue::Relu, false),
            ("relu-grad", Epilogue::ReluGrad(&relu_out), true),
            ("relu-grad", Epilogue::ReluGrad(&relu_out), false),
        ] {
            let mut out = vec![
                7.0;
                hw * cout
                    + if padded {
                        (2 * w + 2 * h + 4) * cout
                    } else {
                        0
                    }
            ];
            if padded {
                out.fill(0.0);
            }
            let run = |out: &mut [f32], vb| {
                let c = Conv {
                    inp: &x,
                    cin,
                    h,
                    w,
                    wt: &wt,
                    bias: Some(&bias),
                    epilogue,
                    out,
                    cout,
                    out_padded: padded,
                };
                path.call(ConvOp(c, vb))
            };
            let fresh = out.clone();
            run(&mut out, None);
            // Every other block width that fits gives the same bits (each accumulator takes its FMAs
            // in the same order whatever the block).
            let (lanes, registers) = register_type::<P>(cout);
            for vb in [1, 2, 4, 8] {
                if (cout / lanes).is_multiple_of(vb) && conv_block_fits(registers, vb) {
                    let mut other = fresh.clone();
                    run(&mut other, Some(vb));
                    assert!(other == out, "conv {cin}->{cout} vb {vb}");
                }
            }
            let got = if padded {
                assert!(out[..(w + 2) * cout].iter().all(|&v| v == 0.0), "border");
                interior(&out, cout, h, w)
            } else {
                out
            };
            let want: Vec<f32> = match epilogue {
                Epilogue::Relu => sums.iter().map(|s| s.max(0.0)).collect(),
                Epilogue::ReluGrad(y) => (sums.iter().zip(interior(y, cout, h, w)))
                    .map(|(&s, y)| if y > 0.0 { s } else { 0.0 })
                    .collect(),
            };
            let d = max_diff(&got, &want);
            assert!(d < tol, "conv {cin}->{cout} {name} padded {padded}: {d}");
        }
        let want = weight_grad_reference(&x, cin, h, w, &g, cout);
        for padded in [false, true] {
            let gp = if padded {
                pad(&g, cout, h, w)
            } else {
                g.clone()
            };
            let wg = |dw: &mut [f32], block| {
                let g = WeightGrad {
                    inp: &x,
                    cin,
                    h,
                    w,
                    g: &gp,
                    cout,
                    g_padded: padded,
                    dw,
                };
                path.call(WeightGradOp(g, block))
            };
            let mut dw = vec![0.5; 9 * cin * cout];
            wg(&mut dw, None);
            let want: Vec<f32> = want.iter().map(|v| v + 0.5).collect();
            let d = max_diff(&dw, &want);
            assert!(d < tol, "weight grad {cin}->{cout}: {d}");
            // Every other block that fits gives the same bits (each accumulator sums the pixels in
            // row-major order whatever the block).
            let (lanes, registers) = register_type::<P>(cout);
            for block in grad_blocks(registers, cout / lanes, cin) {
                let mut other = vec![0.5; 9 * cin * cout];
                wg(&mut other, Some(block));
                assert!(other == dw, "weight grad {cin}->{cout} {block:?}");
            }
        }
    }

    #[test]
    fn every_path_matches_the_definition() {
        on_every_path(CheckAll);
    }

    #[test]
    fn blocks_fit_the_registers() {
        for regs in [16, 32] {
            for cv in [1, 2, 4, 8, 16] {
                let vb = conv_block_registers(regs, cv);
                let n = block_pixels(regs, vb);
                assert!(cv % vb == 0 && (1..=MAX_BLOCK).contains(&n) && n * vb + 3 * vb < regs);
                for cin in [1, 8, 16, 32, 64] {
                    let b = grad_block(regs, cv, cin);
                    assert!(b.registers() <= regs && cin % b.cb == 0 && cv % b.vb == 0);
                }
            }
        }
        let block = |cb, vb, slide| GradBlock { cb, vb, slide };
        // AVX2's 16-channel layer after 32: 2 x 2 (12 FMAs for 8 loads a pixel).
        assert_eq!(grad_block(16, 2, 32), block(2, 2, false));
        // AVX-512's: 8 x 1 sliding (24 FMAs for 9 loads, not 25).
        assert_eq!(grad_block(32, 1, 32), block(8, 1, true));
        // and 1 register x 12 pixels in conv (36 FMAs for 17 loads a step), not 2 x 4 (24 for 12).
        assert_eq!(conv_block_registers(16, 4), 1);
        assert_eq!(block_pixels(16, 1), 12);
        // AVX-512's: 2 registers x 12 pixels (72 FMAs for 20 loads).
        assert_eq!((conv_block_registers(32, 2), block_pixels(32, 2)), (2, 12));
    }
}
