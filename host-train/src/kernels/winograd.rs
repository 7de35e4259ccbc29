//! 3x3 "same" convolutions with 2.25x fewer multiplications: Winograd's minimal filtering F(2x2, 3x3)
//! (Lavin and Gray, 2016), the forward pass, the input gradient and the weight gradient, NHWC, written
//! once over the vector register type ([`Simd`]) as [`crate::kernels::direct`] is, and taking the same
//! [`Conv`] and [`WeightGrad`] (with weights and weight gradients in the Winograd domain).
//!
//! A 2x2 block of output pixels ("tile") is computed from the 4x4 input pixels around it. Per channel,
//! the input tile `d` becomes `V = Bt d B`, the weights `g` become `U = G g Gt`, and the output is
//! `Y = At (sum over input channels of U . V) A`, where `.` multiplies the 16 positions elementwise:
//! 16 multiplications per tile and channel pair where the direct kernels do 36.
//!
//! ```text
//!      | 1  0 -1  0 |        | 1    0    0   |
//! Bt = | 0  1  1  0 |    G = | 1/2  1/2  1/2 |    At = | 1  1  1  0 |
//!      | 0 -1  1  0 |        | 1/2 -1/2  1/2 |         | 0  1 -1 -1 |
//!      | 0  1  0 -1 |        | 0    0    1   |
//! ```
//!
//! The transforms are additions and subtractions (`Bt`, `At`) or halvings (`G`, applied once per weight
//! update in scalar code): exact or one rounding each, in a fixed order. The only multiplications are
//! the sums over input channels (forward, input gradient) or over tiles (weight gradient), each a chain
//! of fused multiply-adds in a fixed order. So every path with fused multiply-adds (AVX-512, AVX2,
//! NEON) gives the same bits, whatever the block sizes, threads or models fused: the tests check every
//! path bit for bit against a scalar model of these steps.
//!
//! The weight gradient is `dU = sum over tiles of V . (A dY At)` per position (for every input and
//! output channel pair), kept in the Winograd domain while a chunk's images add to it; [`weight_grad_to_hwio`]
//! turns it into the 3x3 gradient `Gt dU G` when the chunk's gradients are flushed.
//!
//! Applies where the image has an even height and width and both channel counts are in
//! [`CHANNELS`] ([`applies`]); the first layer (one input channel) stays direct.

use crate::kernels::direct::{Conv, Epilogue, WeightGrad, CHANNELS};
use crate::kernels::lines::Lines;
use crate::kernels::simd::{Path, Simd, WithPath};

/// Positions of a transformed tile (4 x 4).
pub const POSITIONS: usize = 16;

/// Most tiles per block of the forward GEMM (their accumulators stay in registers).
const MAX_TILES: usize = 14;

/// Floats between two tiles' transformed inputs, whatever the channels: the GEMM's broadcasts then
/// sit at constant offsets (with `cin` apart, an address computation for each of its FMAs held AVX-512
/// at 61% of the direct kernels' speed).
const V_STRIDE: usize = 64;
const _: () = assert!(CHANNELS[CHANNELS.len() - 1] <= V_STRIDE);

/// Whether the Winograd kernels compute a convolution of `cin` to `cout` channels on `h x w` images:
/// whole 2x2 tiles, and channel counts the vector types divide.
pub fn applies(cin: usize, cout: usize, h: usize, w: usize) -> bool {
    h.is_multiple_of(2)
        && w.is_multiple_of(2)
        && h > 0
        && w > 0
        && CHANNELS.contains(&cin)
        && CHANNELS.contains(&cout)
}

/// Floats of the Winograd-domain weights (or weight gradient) of a `cin` to `cout` convolution.
pub const fn domain_len(cin: usize, cout: usize) -> usize {
    POSITIONS * cin * cout
}

/// `G g Gt` of three by three values, rows first (one fixed order of the roundings).
fn weight_tile(g: [[f32; 3]; 3]) -> [[f32; 4]; 4] {
    let col = |a: f32, b: f32, c: f32| [a, ((a + b) + c) * 0.5, ((a - b) + c) * 0.5, c];
    let t: [[f32; 4]; 3] = std::array::from_fn(|ky| col(g[ky][0], g[ky][1], g[ky][2]));
    let mut u = [[0.0; 4]; 4];
    for x in 0..4 {
        let c = col(t[0][x], t[1][x], t[2][x]);
        for y in 0..4 {
            u[y][x] = c[y];
        }
    }
    u
}

/// HWIO weights (`9 * cin * cout`) into the Winograd domain: `u[(pos * cin + ci) * cout + co]`.
pub fn weights_from_hwio(hwio: &[f32], cin: usize, cout: usize, u: &mut [f32]) {
    assert!(hwio.len() >= 9 * cin * cout && u.len() >= domain_len(cin, cout));
    for ci in 0..cin {
        for co in 0..cout {
            let g = std::array::from_fn(|ky| {
                std::array::from_fn(|kx| hwio[((ky * 3 + kx) * cin + ci) * cout + co])
            });
            let t = weight_tile(g);
            for pos in 0..POSITIONS {
                u[(pos * cin + ci) * cout + co] = t[pos / 4][pos % 4];
            }
        }
    }
}

/// `Gt dU G` of a 4 x 4 gradient, rows first.
fn gradient_tile(d: [[f32; 4]; 4]) -> [[f32; 3]; 3] {
    let col = |a: f32, b: f32, c: f32, e: f32| {
        let (s, t) = ((b + c) * 0.5, (b - c) * 0.5);
        [a + s, t, e + s]
    };
    let t: [[f32; 3]; 4] = std::array::from_fn(|y| col(d[y][0], d[y][1], d[y][2], d[y][3]));
    let mut g = [[0.0; 3]; 3];
    for x in 0..3 {
        let c = col(t[0][x], t[1][x], t[2][x], t[3][x]);
        for y in 0..3 {
            g[y][x] = c[y];
        }
    }
    g
}

/// Adds the 3x3 weight gradient of a Winograd-domain one (`du`, from [`weight_grad`]) to `oihw`
/// (PyTorch's layout), and zeroes `du`.
pub fn add_weight_grad_to_oihw(du: &mut [f32], cin: usize, cout: usize, oihw: &mut [f32]) {
    assert!(du.len() >= domain_len(cin, cout) && oihw.len() >= 9 * cin * cout);
    for ci in 0..cin {
        for co in 0..cout {
            let d = std::array::from_fn(|y| {
                std::array::from_fn(|x| du[((y * 4 + x) * cin + ci) * cout + co])
            });
            let g = gradient_tile(d);
            for (k, o) in oihw[(co * cin + ci) * 9..][..9].iter_mut().enumerate() {
                *o += g[k / 3][k % 3];
            }
        }
    }
    du[..domain_len(cin, cout)].fill(0.0);
}

/// The per-thread buffers of one tile row: its transformed input and the GEMM's output (or, for the
/// weight gradient, the transformed output gradient).
#[derive(Default)]
pub struct Workspace {
    v: Lines,
    m: Lines,
}

impl Workspace {
    fn fit(&mut self, tiles: usize, cin: usize, cout: usize) {
        debug_assert!(cin <= V_STRIDE);
        self.v.fit(POSITIONS * tiles * V_STRIDE);
        self.m.fit(POSITIONS * tiles * cout);
    }
}

/// Runs `c` (its `wt` in the Winograd domain, [`weights_from_hwio`]) with the buffers `work`; `path` is
/// the capability [`crate::kernels::simd::Isa::dispatch`] hands out.
#[inline(always)]
pub fn conv<P: Path>(path: P, c: Conv, work: &mut Workspace) {
    path.call(ConvOp(c, work, None))
}

/// Adds the weight gradient of `g` to `g.dw`, in the Winograd domain ([`add_weight_grad_to_oihw`]
/// turns it into the 3x3 one); `path` as in [`conv`].
#[inline(always)]
pub fn weight_grad<P: Path>(path: P, g: WeightGrad, work: &mut Workspace) {
    path.call(WeightGradOp(g, work, None))
}

/// [`conv`] compiled once per path; with the GEMM block (output registers, tiles) forced (tests).
struct ConvOp<'a, 'w>(Conv<'a>, &'w mut Workspace, Option<(usize, usize)>);

impl WithPath for ConvOp<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        let ConvOp(c, work, forced) = self;
        let wide_in = c.cin.is_multiple_of(<P::Wide as Simd>::LANES);
        match (wide_in, c.cout.is_multiple_of(<P::Wide as Simd>::LANES)) {
            (true, true) => conv_on::<P::Wide, P::Wide>(c, work, forced),
            (true, false) => conv_on::<P::Wide, P::Narrow>(c, work, forced),
            (false, true) => conv_on::<P::Narrow, P::Wide>(c, work, forced),
            (false, false) => conv_on::<P::Narrow, P::Narrow>(c, work, forced),
        }
    }
}

/// [`weight_grad`] compiled once per path; with the block (input channels, output registers) forced.
struct WeightGradOp<'a, 'w>(WeightGrad<'a>, &'w mut Workspace, Option<(usize, usize)>);

impl WithPath for WeightGradOp<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        let WeightGradOp(g, work, forced) = self;
        let wide_in = g.cin.is_multiple_of(<P::Wide as Simd>::LANES);
        match (wide_in, g.cout.is_multiple_of(<P::Wide as Simd>::LANES)) {
            (true, true) => weight_grad_on::<P::Wide, P::Wide>(g, work, forced),
            (true, false) => weight_grad_on::<P::Wide, P::Narrow>(g, work, forced),
            (false, true) => weight_grad_on::<P::Narrow, P::Wide>(g, work, forced),
            (false, false) => weight_grad_on::<P::Narrow, P::Narrow>(g, work, forced),
        }
    }
}

/// `Bt` on four values: `[d0 - d2, d1 + d2, d2 - d1, d1 - d3]`.
#[inline(always)]
fn bt<S: Simd>(d: [S::V; 4]) -> [S::V; 4] {
    [
        S::sub(d[0], d[2]),
        S::add(d[1], d[2]),
        S::sub(d[2], d[1]),
        S::sub(d[1], d[3]),
    ]
}

/// `At` on four values: `[(m0 + m1) + m2, (m1 - m2) - m3]`.
#[inline(always)]
fn at<S: Simd>(m: [S::V; 4]) -> [S::V; 2] {
    [
        S::add(S::add(m[0], m[1]), m[2]),
        S::sub(S::sub(m[1], m[2]), m[3]),
    ]
}

/// `A` on two values: `[g0, g0 + g1, g0 - g1, 0 - g1]`.
#[inline(always)]
fn a<S: Simd>(g: [S::V; 2]) -> [S::V; 4] {
    [
        g[0],
        S::add(g[0], g[1]),
        S::sub(g[0], g[1]),
        S::sub(S::zero(), g[1]),
    ]
}

/// Transforms the input tiles of tile row `ty` (`tiles` of them) into `v[(pos * tiles + t) * V_STRIDE + ci]`:
/// `Bt d B`, columns first.
/// # Safety
/// `inp` is a padded `(2 * tiles + 2)`-wide image of `cin` channels with rows `2 ty .. 2 ty + 3`; `v`
/// holds `16 * tiles * V_STRIDE` floats; `S::LANES` divides `cin`, at most `V_STRIDE`.
#[inline(always)]
unsafe fn input_row<S: Simd>(inp: *const f32, cin: usize, ty: usize, tiles: usize, v: *mut f32) {
    let row = (2 * tiles + 2) * cin;
    for t in 0..tiles {
        for c0 in (0..cin).step_by(S::LANES) {
            // SAFETY: the caller's contract bounds rows 2ty..2ty+3, columns 2t..2t+3 and `v`.
            unsafe {
                let base = inp.add(2 * ty * row + 2 * t * cin + c0);
                let d: [[S::V; 4]; 4] =
                    std::array::from_fn(|y| std::array::from_fn(|x| S::load(base.add(y * row + x * cin))));
                let cols: [[S::V; 4]; 4] = std::array::from_fn(|x| bt::<S>([d[0][x], d[1][x], d[2][x], d[3][x]]));
                for y in 0..4 {
                    let r = bt::<S>([cols[0][y], cols[1][y], cols[2][y], cols[3][y]]);
                    for (x, &rv) in r.iter().enumerate() {
                        S::store(v.add(((y * 4 + x) * tiles + t) * V_STRIDE + c0), rv);
                    }
                }
            }
        }
    }
}

/// Output registers and tiles of one forward GEMM block for `cv` registers of output channels: the
/// block's `n * vb` accumulators, `vb` weights and a broadcast fit the registers; the best rate
/// `fmas / max(fmas, loads, 8)` (8 accumulators hide the FMA latency), then the fewest loads per FMA.
const fn gemm_block(registers: usize, cv: usize) -> (usize, usize) {
    let mut best = (1, 1);
    let (mut best_fmas, mut best_loads, mut best_cycles) = (0, 0, 1);
    let mut vb = 1;
    while vb <= cv && vb <= 4 {
        if cv.is_multiple_of(vb) && registers > 2 * vb + 1 {
            let mut n = (registers - vb - 1) / vb;
            if n > MAX_TILES {
                n = MAX_TILES;
            }
            let (fmas, loads) = (n * vb, n + vb);
            let cycles = max(max(fmas, loads), 8);
            let (rate, best_rate) = (fmas * best_cycles, best_fmas * cycles);
            if best_fmas == 0 || rate > best_rate || (rate == best_rate && loads * best_fmas < best_loads * fmas) {
                best = (vb, n);
                (best_fmas, best_loads, best_cycles) = (fmas, loads, cycles);
            }
        }
        vb *= 2;
    }
    best
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn conv_on<I: Simd, O: Simd>(c: Conv, work: &mut Workspace, forced: Option<(usize, usize)>) {
    let (h, w, cin, cout) = (c.h, c.w, c.cin, c.cout);
    assert!(applies(cin, cout, h, w) && cin.is_multiple_of(I::LANES) && cout.is_multiple_of(O::LANES));
    assert!(c.inp.len() >= (h + 2) * (w + 2) * cin && c.wt.len() >= domain_len(cin, cout));
    let (out_h, out_w) = if c.out_padded { (h + 2, w + 2) } else { (h, w) };
    assert!(c.out.len() >= out_h * out_w * cout && c.bias.is_none_or(|b| b.len() >= cout));
    if let Epilogue::ReluGrad(y) = c.epilogue {
        assert!(y.len() >= (h + 2) * (w + 2) * cout);
    }
    let tiles = w / 2;
    work.fit(tiles, cin, cout);
    let (vb, n) = forced.unwrap_or(gemm_block(O::REGISTERS, cout / O::LANES));
    let mut c = c;
    for ty in 0..h / 2 {
        // SAFETY: the asserts above bound the rows and the buffers (`work` fits `tiles`).
        unsafe { input_row::<I>(c.inp.as_ptr(), cin, ty, tiles, work.v.as_mut_ptr()) };
        for pos in 0..POSITIONS {
            gemm_row::<O>(&c, work, pos, tiles, vb, n);
        }
        // SAFETY: as above; the output rows 2ty, 2ty + 1 are within `out` (and a ReluGrad's `y`).
        unsafe { output_row::<O>(&mut c, &work.m, ty, tiles) };
    }
}

/// `m[pos][t][co] = sum over ci (in order) of v[pos][t][ci] * u[pos][ci][co]` for one position of one
/// tile row, in blocks of `vb` output registers by up to `n` tiles.
#[inline(always)]
fn gemm_row<O: Simd>(c: &Conv, work: &mut Workspace, pos: usize, tiles: usize, vb: usize, n: usize) {
    let (cin, cout) = (c.cin, c.cout);
    // Blocks of even size along the row (14 tiles in blocks of at most 6: 5, 5, 4).
    let n_even = tiles.div_ceil(tiles.div_ceil(n));
    let v = work.v[pos * tiles * V_STRIDE..].as_ptr();
    let m = work.m[pos * tiles * cout..].as_mut_ptr();
    let u = c.wt[pos * cin * cout..].as_ptr();
    let mut t0 = 0;
    while t0 < tiles {
        let nt = n_even.min(tiles - t0);
        for c0 in (0..cout).step_by(O::LANES * vb) {
            macro_rules! block {
                ($vb:literal: $($n:literal)*) => {
                    // SAFETY: tiles t0..t0+nt of this position's rows of `v` and `m`, channels
                    // c0..c0+LANES*vb of `u`'s rows and `m`'s (conv_on's asserts and `work.fit`).
                    unsafe {
                        let (v, u, m) = (v.add(t0 * V_STRIDE), u.add(c0), m.add(t0 * cout + c0));
                        match nt {
                            $($n => gemm_block_at::<O, $vb, $n>(v, cin, u, cout, m),)*
                            _ => unreachable!("nt <= MAX_TILES"),
                        }
                    }
                };
            }
            match vb {
                1 => block!(1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14),
                2 if O::REGISTERS > 5 => block!(2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14),
                4 if O::REGISTERS > 9 => block!(4: 1 2 3 4 5 6 7),
                _ => unreachable!("gemm_block's widths"),
            }
        }
        t0 += nt;
    }
}

/// One GEMM block: `N` tiles by `VB` output registers, accumulated over the input channels in order.
/// # Safety
/// `v` holds `N` tiles of `cin` values, `u` `cin` rows of `cout` (from the block's first channel), `m`
/// `N` rows of `cout`.
#[inline(always)]
unsafe fn gemm_block_at<O: Simd, const VB: usize, const N: usize>(
    v: *const f32,
    cin: usize,
    u: *const f32,
    cout: usize,
    m: *mut f32,
) {
    let mut acc: [[O::V; VB]; N] = [[O::zero(); VB]; N];
    // SAFETY (the loads and stores): the caller's contract.
    unsafe {
        for ci in 0..cin {
            let uv: [O::V; VB] = std::array::from_fn(|r| O::load(u.add(ci * cout + O::LANES * r)));
            unrolled!(t in 0..N, {
                let x = O::splat(*v.add(t * V_STRIDE + ci));
                for r in 0..VB {
                    acc[t][r] = O::mul_add(x, uv[r], acc[t][r]);
                }
            });
        }
        for (t, a) in acc.iter().enumerate() {
            for (r, &x) in a.iter().enumerate() {
                O::store(m.add(t * cout + O::LANES * r), x);
            }
        }
    }
}

/// `At M A`, plus the bias, through the epilogue, into output rows `2 ty`, `2 ty + 1`.
/// # Safety
/// `m` holds the tile row's `16 * tiles * cout` sums; `c`'s buffers passed [`conv_on`]'s asserts.
#[inline(always)]
unsafe fn output_row<O: Simd>(c: &mut Conv, m: &[f32], ty: usize, tiles: usize) {
    let (w, cout) = (c.w, c.cout);
    let off = usize::from(c.out_padded);
    let out_w = w + 2 * off;
    let m = m.as_ptr();
    let o = c.out.as_mut_ptr();
    for t in 0..tiles {
        for c0 in (0..cout).step_by(O::LANES) {
            // SAFETY: the caller's contract; pixels (2ty + y, 2t + x) of the output and of a
            // ReluGrad's padded `y`.
            unsafe {
                let mv: [[O::V; 4]; 4] = std::array::from_fn(|y| {
                    std::array::from_fn(|x| O::load(m.add(((y * 4 + x) * tiles + t) * cout + c0)))
                });
                let cols: [[O::V; 2]; 4] = std::array::from_fn(|x| at::<O>([mv[0][x], mv[1][x], mv[2][x], mv[3][x]]));
                let bias = c.bias.map(|b| O::load(b.as_ptr().add(c0)));
                for y in 0..2 {
                    let r = at::<O>([cols[0][y], cols[1][y], cols[2][y], cols[3][y]]);
                    for (x, &s) in r.iter().enumerate() {
                        let s = bias.map_or(s, |b| O::add(s, b));
                        let (py, px) = (2 * ty + y, 2 * t + x);
                        let v = match c.epilogue {
                            Epilogue::Relu => O::relu(s),
                            Epilogue::ReluGrad(relu_out) => {
                                let at = ((py + 1) * (w + 2) + px + 1) * cout + c0;
                                O::keep_where_positive(s, O::load(relu_out.as_ptr().add(at)))
                            }
                        };
                        O::store(o.add(((py + off) * out_w + px + off) * cout + c0), v);
                    }
                }
            }
        }
    }
}

/// Transforms the output gradient's tiles of tile row `ty` into `gy[(pos * tiles + t) * cout + co]`:
/// `A dY At`, columns first.
/// # Safety
/// `g` is a `2 * tiles`-wide gradient of `cout` channels (padded when `padded`) with rows `2 ty`,
/// `2 ty + 1`; `gy` holds `16 * tiles * cout` floats; `S::LANES` divides `cout`.
#[inline(always)]
unsafe fn gradient_row<S: Simd>(
    g: *const f32,
    cout: usize,
    padded: bool,
    ty: usize,
    tiles: usize,
    gy: *mut f32,
) {
    let off = usize::from(padded);
    let row = (2 * tiles + 2 * off) * cout;
    for t in 0..tiles {
        for c0 in (0..cout).step_by(S::LANES) {
            // SAFETY: the caller's contract bounds the tile's pixels and `gy`.
            unsafe {
                let base = g.add((2 * ty + off) * row + (2 * t + off) * cout + c0);
                let d: [[S::V; 2]; 2] = std::array::from_fn(|y| {
                    std::array::from_fn(|x| S::load(base.add(y * row + x * cout)))
                });
                let cols: [[S::V; 4]; 2] = std::array::from_fn(|x| a::<S>([d[0][x], d[1][x]]));
                for y in 0..4 {
                    let r = a::<S>([cols[0][y], cols[1][y]]);
                    for (x, &rv) in r.iter().enumerate() {
                        S::store(gy.add(((y * 4 + x) * tiles + t) * cout + c0), rv);
                    }
                }
            }
        }
    }
}

/// Input channels and output registers of one weight-gradient block for `cv` registers of output
/// channels and `cin` input channels: `cb * vb` accumulators, `vb` gradients and a broadcast fit the
/// registers; the most accumulators, then the fewest loads a tile (`cb + vb`).
fn grad_block(registers: usize, cv: usize, cin: usize) -> (usize, usize) {
    let mut best = (1, 1);
    for vb in [1, 2, 4].into_iter().filter(|&v| cv.is_multiple_of(v)) {
        for cb in [1, 2, 4, 8, 16].into_iter().filter(|&c| cin.is_multiple_of(c)) {
            let (fmas, best_fmas) = (cb * vb, best.0 * best.1);
            let fewer_loads = fmas == best_fmas && cb + vb < best.0 + best.1;
            if grad_block_fits(registers, cb, vb) && (fmas > best_fmas || fewer_loads) {
                best = (cb, vb);
            }
        }
    }
    best
}

const fn grad_block_fits(registers: usize, cb: usize, vb: usize) -> bool {
    cb * vb + vb + 1 <= registers
}

#[inline(always)]
fn weight_grad_on<I: Simd, O: Simd>(
    g: WeightGrad,
    work: &mut Workspace,
    forced: Option<(usize, usize)>,
) {
    let (h, w, cin, cout) = (g.h, g.w, g.cin, g.cout);
    assert!(applies(cin, cout, h, w) && cin.is_multiple_of(I::LANES) && cout.is_multiple_of(O::LANES));
    let (gh, gw) = if g.g_padded { (h + 2, w + 2) } else { (h, w) };
    assert!(g.inp.len() >= (h + 2) * (w + 2) * cin && g.g.len() >= gh * gw * cout);
    assert!(g.dw.len() >= domain_len(cin, cout));
    let tiles = w / 2;
    work.fit(tiles, cin, cout);
    let (cb, vb) = forced.unwrap_or_else(|| grad_block(O::REGISTERS, cout / O::LANES, cin));
    for ty in 0..h / 2 {
        // SAFETY: the asserts above bound the rows and the buffers (`work` fits `tiles`).
        unsafe {
            input_row::<I>(g.inp.as_ptr(), cin, ty, tiles, work.v.as_mut_ptr());
            gradient_row::<O>(g.g.as_ptr(), cout, g.g_padded, ty, tiles, work.m.as_mut_ptr());
        }
        for pos in 0..POSITIONS {
            let v = work.v[pos * tiles * V_STRIDE..].as_ptr();
            let gy = &work.m[pos * tiles * cout..].as_ptr();
            let du = g.dw[pos * cin * cout..].as_mut_ptr();
            for ci in (0..cin).step_by(cb) {
                for c0 in (0..cout).step_by(O::LANES * vb) {
                    macro_rules! blocks {
                        ($(($c:literal, $v:literal))*) => {
                            // SAFETY: this position's rows of `v` and `gy` (tiles of `cin` and `cout`
                            // values), and the block's `cb` rows of `du` from channel c0 (the asserts).
                            unsafe {
                                let (v, gy, du) = (v.add(ci), gy.add(c0), du.add(ci * cout + c0));
                                match (cb, vb) {
                                    $(($c, $v) if grad_block_fits(O::REGISTERS, $c, $v) => {
                                        grad_block_at::<O, $c, $v>(v, gy, cout, tiles, du)
                                    })*
                                    _ => unreachable!("grad_block's sizes"),
                                }
                            }
                        };
                    }
                    blocks!((1, 1) (2, 1) (4, 1) (8, 1) (16, 1) (1, 2) (2, 2) (4, 2) (8, 2) (1, 4) (2, 4) (4, 4));
                }
            }
        }
    }
}

/// One weight-gradient block: `CB` input channels by `VB` output registers of `du`, loaded, added to
/// tile by tile in order, stored.
/// # Safety
/// `v` holds `tiles` rows of `V_STRIDE` values from the block's first input channel, `gy` `tiles` rows
/// of `cout` from its first output channel, `du` `CB` rows of `cout` from there.
#[inline(always)]
unsafe fn grad_block_at<O: Simd, const CB: usize, const VB: usize>(
    v: *const f32,
    gy: *const f32,
    cout: usize,
    tiles: usize,
    du: *mut f32,
) {
    // SAFETY (the loads and stores): the caller's contract.
    unsafe {
        let mut acc: [[O::V; VB]; CB] =
            std::array::from_fn(|i| std::array::from_fn(|r| O::load(du.add(i * cout + O::LANES * r))));
        for t in 0..tiles {
            let gv: [O::V; VB] = std::array::from_fn(|r| O::load(gy.add(t * cout + O::LANES * r)));
            for (i, a) in acc.iter_mut().enumerate() {
                let x = O::splat(*v.add(t * V_STRIDE + i));
                for r in 0..VB {
                    a[r] = O::mul_add(x, gv[r], a[r]);
                }
            }
        }
        for (i, a) in acc.iter().enumerate() {
            for (r, &x) in a.iter().enumerate() {
                O::store(du.add(i * cout + O::LANES * r), x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every kernel on every path this CPU has: bit for bit against a scalar model of its steps (the
    //! same additions and multiply-adds in the same order; fused as the path's), and within rounding
    //! of the definition (f64 sums).

    use super::*;
    use crate::kernels::direct::{oihw_to_hwio, Conv, Epilogue, WeightGrad};
    use crate::kernels::simd::Isa;
    use crate::kernels::testing::*;

    /// `a * b + c` as a path computes it.
    fn mul_add(fused: bool, a: f32, b: f32, c: f32) -> f32 {
        if fused {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }

    fn bt_scalar(d: [f32; 4]) -> [f32; 4] {
        [d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]]
    }

    fn at_scalar(m: [f32; 4]) -> [f32; 2] {
        [(m[0] + m[1]) + m[2], (m[1] - m[2]) - m[3]]
    }

    fn a_scalar(g: [f32; 2]) -> [f32; 4] {
        [g[0], g[0] + g[1], g[0] - g[1], 0.0 - g[1]]
    }

    /// `V[pos]` of tile (ty, tx), channel ci, of a padded input: columns first, as `input_row`.
    fn v_model(inp: &[f32], w: usize, cin: usize, ty: usize, tx: usize, ci: usize) -> [f32; 16] {
        let d = |y: usize, x: usize| inp[((2 * ty + y) * (w + 2) + 2 * tx + x) * cin + ci];
        let cols: [[f32; 4]; 4] =
            std::array::from_fn(|x| bt_scalar([d(0, x), d(1, x), d(2, x), d(3, x)]));
        let mut v = [0.0; 16];
        for y in 0..4 {
            let r = bt_scalar([cols[0][y], cols[1][y], cols[2][y], cols[3][y]]);
            v[y * 4..][..4].copy_from_slice(&r);
        }
        v
    }

    /// The forward pass's model: unpadded `h x w x cout` sums plus bias, before the epilogue.
    #[allow(clippy::too_many_arguments)]
    fn conv_model(
        fused: bool,
        inp: &[f32],
        cin: usize,
        h: usize,
        w: usize,
        u: &[f32],
        bias: Option<&[f32]>,
        cout: usize,
    ) -> Vec<f32> {
        let mut out = vec![0.0; h * w * cout];
        for ty in 0..h / 2 {
            for tx in 0..w / 2 {
                let v: Vec<[f32; 16]> = (0..cin).map(|ci| v_model(inp, w, cin, ty, tx, ci)).collect();
                for co in 0..cout {
                    let m: [f32; 16] = std::array::from_fn(|pos| {
                        (0..cin).fold(0.0, |acc, ci| {
                            mul_add(fused, v[ci][pos], u[(pos * cin + ci) * cout + co], acc)
                        })
                    });
                    let cols: [[f32; 2]; 4] =
                        std::array::from_fn(|x| at_scalar([m[x], m[4 + x], m[8 + x], m[12 + x]]));
                    for y in 0..2 {
                        let r = at_scalar([cols[0][y], cols[1][y], cols[2][y], cols[3][y]]);
                        for (x, s) in r.into_iter().enumerate() {
                            let s = bias.map_or(s, |b| s + b[co]);
                            out[((2 * ty + y) * w + 2 * tx + x) * cout + co] = s;
                        }
                    }
                }
            }
        }
        out
    }

    /// The weight gradient's model: `du` after adding the image's tiles (unpadded gradient `g`).
    #[allow(clippy::too_many_arguments)]
    fn weight_grad_model(
        fused: bool,
        inp: &[f32],
        cin: usize,
        h: usize,
        w: usize,
        g: &[f32],
        cout: usize,
        du: &mut [f32],
    ) {
        for ty in 0..h / 2 {
            for tx in 0..w / 2 {
                for co in 0..cout {
                    let d = |y: usize, x: usize| g[((2 * ty + y) * w + 2 * tx + x) * cout + co];
                    let cols: [[f32; 4]; 2] = std::array::from_fn(|x| a_scalar([d(0, x), d(1, x)]));
                    let gy: [f32; 16] =
                        std::array::from_fn(|pos| a_scalar([cols[0][pos / 4], cols[1][pos / 4]])[pos % 4]);
                    for ci in 0..cin {
                        let v = v_model(inp, w, cin, ty, tx, ci);
                        for pos in 0..16 {
                            let at = (pos * cin + ci) * cout + co;
                            du[at] = mul_add(fused, v[pos], gy[pos], du[at]);
                        }
                    }
                }
            }
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Whether the kernels of `P` for these channel counts fuse their multiply-adds.
    fn fused<P: Path>() -> bool {
        <P::Wide as Simd>::FUSED
    }

    fn check<P: Path>(path: P, cin: usize, cout: usize, h: usize, w: usize) {
        let hw = h * w;
        let fused = fused::<P>();
        let x = pad(&noise(hw * cin, 11 + cin as u32), cin, h, w);
        let oihw = noise(9 * cin * cout, 12 + cout as u32);
        let mut hwio = vec![0.0; 9 * cin * cout];
        oihw_to_hwio(&oihw, cin, cout, &mut hwio);
        let mut u = vec![0.0; domain_len(cin, cout)];
        weights_from_hwio(&hwio, cin, cout, &mut u);
        let bias = noise(cout, 13);
        let g = noise(hw * cout, 14);
        let relu_out = pad(&noise(hw * cout, 15), cout, h, w);
        let sums = conv_reference(&x, cin, h, w, &hwio, &bias, cout);
        let model = conv_model(fused, &x, cin, h, w, &u, Some(&bias), cout);
        let mut work = Workspace::default();
        // Sums of up to 576 products of values in [-1, 1], through transforms that add up to 16 of
        // them: f32 rounding is ~1e-5.
        let tol = 5e-4;
        for (name, epilogue, padded) in [
            ("relu", Epilogue::Relu, true),
            ("relu", Epilogue::Relu, false),
            ("relu-grad", Epilogue::ReluGrad(&relu_out), true),
            ("relu-grad", Epilogue::ReluGrad(&relu_out), false),
        ] {
            let len = if padded { (h + 2) * (w + 2) * cout } else { hw * cout };
            let run = |work: &mut Workspace, forced| {
                let mut out = vec![0.0; len];
                let c = Conv {
                    inp: &x,
                    cin,
                    h,
                    w,
                    wt: &u,
                    bias: Some(&bias),
                    epilogue,
                    out: &mut out,
                    cout,
                    out_padded: padded,
                };
                path.call(ConvOp(c, work, forced));
                if padded {
                    assert!(out[..(w + 2) * cout].iter().all(|&v| v == 0.0), "border");
                    interior(&out, cout, h, w)
                } else {
                    out
                }
            };
            let got = run(&mut work, None);
            let keep = |s: f32, k: usize| match epilogue {
                Epilogue::Relu => if s > 0.0 { s } else { 0.0 },
                Epilogue::ReluGrad(y) => {
                    let (py, px, c) = (k / cout / w, k / cout % w, k % cout);
                    if y[((py + 1) * (w + 2) + px + 1) * cout + c] > 0.0 { s } else { 0.0 }
                }
            };
            let want_bits: Vec<f32> = model.iter().enumerate().map(|(k, &s)| keep(s, k)).collect();
            assert!(bits(&got) == bits(&want_bits), "conv {cin}->{cout} {name}: not the model's bits");
            let want: Vec<f32> = sums.iter().enumerate().map(|(k, &s)| keep(s, k)).collect();
            let d = max_diff(&got, &want);
            assert!(d < tol, "conv {cin}->{cout} {name} padded {padded}: {d}");
            // Every other GEMM block gives the same bits.
            for vb in [1, 2, 4] {
                for n in [1, 3, MAX_TILES] {
                    let lanes = if cout.is_multiple_of(<P::Wide as Simd>::LANES) {
                        <P::Wide as Simd>::LANES
                    } else {
                        <P::Narrow as Simd>::LANES
                    };
                    if (cout / lanes).is_multiple_of(vb) && (vb < 4 || n <= 7) {
                        assert!(run(&mut work, Some((vb, n))) == got, "conv {cin}->{cout} block {vb}x{n}");
                    }
                }
            }
        }
        // The weight gradient, added to a gradient already there; padded or not.
        let start = noise(domain_len(cin, cout), 16);
        let mut model = start.clone();
        weight_grad_model(fused, &x, cin, h, w, &g, cout, &mut model);
        for padded in [false, true] {
            let gp = if padded { pad(&g, cout, h, w) } else { g.clone() };
            let run = |work: &mut Workspace, forced| {
                let mut du = start.clone();
                let wg = WeightGrad { inp: &x, cin, h, w, g: &gp, cout, g_padded: padded, dw: &mut du };
                path.call(WeightGradOp(wg, work, forced));
                du
            };
            let du = run(&mut work, None);
            assert!(bits(&du) == bits(&model), "weight grad {cin}->{cout}: not the model's bits");
            for cb in [1, 2, 4, 8, 16] {
                for vb in [1, 2, 4] {
                    let lanes = if cout.is_multiple_of(<P::Wide as Simd>::LANES) {
                        <P::Wide as Simd>::LANES
                    } else {
                        <P::Narrow as Simd>::LANES
                    };
                    let registers = if lanes == <P::Wide as Simd>::LANES {
                        <P::Wide as Simd>::REGISTERS
                    } else {
                        <P::Narrow as Simd>::REGISTERS
                    };
                    let fits = cin.is_multiple_of(cb)
                        && (cout / lanes).is_multiple_of(vb)
                        && grad_block_fits(registers, cb, vb);
                    if fits {
                        assert!(bits(&run(&mut work, Some((cb, vb)))) == bits(&du), "weight grad block {cb}x{vb}");
                    }
                }
            }
        }
        // From the Winograd domain to PyTorch's layout, against the definition.
        let mut du: Vec<f32> = vec![0.0; domain_len(cin, cout)];
        let wg = WeightGrad { inp: &x, cin, h, w, g: &g, cout, g_padded: false, dw: &mut du };
        weight_grad(path, wg, &mut work);
        let mut got = vec![0.25; 9 * cin * cout];
        add_weight_grad_to_oihw(&mut du, cin, cout, &mut got);
        assert!(du.iter().all(|&v| v == 0.0), "zeroed");
        let hwio_want = weight_grad_reference(&x, cin, h, w, &g, cout);
        let mut want = vec![0.25; 9 * cin * cout];
        crate::kernels::direct::add_hwio_to_oihw(&hwio_want, cin, cout, &mut want);
        let d = max_diff(&got, &want);
        assert!(d < 2e-3, "weight grad {cin}->{cout}: {d} from the definition");
    }

    /// Every supported shape on every path this CPU has.
    struct CheckAll;
    impl WithPath for CheckAll {
        type Output = ();
        #[inline(always)]
        fn run<P: Path>(self, path: P) {
            // 30 wide: 15 tiles, blocks of every GEMM width and a remainder; 2 x 2: one tile.
            for (h, w) in [(4, 30), (6, 8), (2, 2)] {
                for cin in CHANNELS {
                    for cout in CHANNELS {
                        check(path, cin, cout, h, w);
                    }
                }
            }
        }
    }

    #[test]
    fn every_path_gives_the_models_bits_and_the_definitions_values() {
        for isa in Isa::ALL {
            match isa.missing_feature() {
                Some(f) => eprintln!("{}: skipped (this CPU lacks {f})", isa.name()),
                None => {
                    isa.dispatch(CheckAll);
                    eprintln!("{}: checked", isa.name());
                }
            }
        }
    }

    /// On small integers every transform and sum is exact: the Winograd kernels give the definition's
    /// values exactly (any slip in a transform shows as a whole number).
    struct ExactOnIntegers;
    impl WithPath for ExactOnIntegers {
        type Output = ();
        #[inline(always)]
        fn run<P: Path>(self, path: P) {
            let (h, w, cin, cout) = (6, 10, 16, 8);
            let int = |n: usize, seed: u32| -> Vec<f32> {
                noise(n, seed).iter().map(|v| (v * 4.0).round()).collect()
            };
            let x = pad(&int(h * w * cin, 21), cin, h, w);
            let hwio = int(9 * cin * cout, 22);
            let g = int(h * w * cout, 23);
            let mut u = vec![0.0; domain_len(cin, cout)];
            weights_from_hwio(&hwio, cin, cout, &mut u);
            let mut out = vec![0.0; h * w * cout];
            let y = pad(&vec![1.0; h * w * cout], cout, h, w);
            let c = Conv {
                inp: &x,
                cin,
                h,
                w,
                wt: &u,
                bias: None,
                epilogue: Epilogue::ReluGrad(&y),
                out: &mut out,
                cout,
                out_padded: false,
            };
            conv(path, c, &mut Workspace::default());
            let zero = vec![0.0; cout];
            assert_eq!(out, conv_reference(&x, cin, h, w, &hwio, &zero, cout));
            let mut du = vec![0.0; domain_len(cin, cout)];
            let wg = WeightGrad { inp: &x, cin, h, w, g: &g, cout, g_padded: false, dw: &mut du };
            weight_grad(path, wg, &mut Workspace::default());
            let mut got = vec![0.0; 9 * cin * cout];
            add_weight_grad_to_oihw(&mut du, cin, cout, &mut got);
            let mut want = vec![0.0; 9 * cin * cout];
            let reference = weight_grad_reference(&x, cin, h, w, &g, cout);
            crate::kernels::direct::add_hwio_to_oihw(&reference, cin, cout, &mut want);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn exact_on_small_integers_on_every_path() {
        for isa in Isa::ALL.into_iter().filter(|i| i.supported()) {
            isa.dispatch(ExactOnIntegers);
        }
    }

    #[test]
    fn applies_and_block_choices() {
        assert!(applies(8, 16, 28, 28) && !applies(1, 32, 28, 28) && !applies(8, 8, 27, 28));
        // AVX-512's 16-channel output: 1 register x 14 tiles; AVX2's: 2 x 6 (12 FMAs for 8 loads).
        assert_eq!(gemm_block(32, 1), (1, 14));
        assert_eq!(gemm_block(16, 2), (2, 6));
        // The weight gradient: AVX-512's 16 channels from 32: 16 x 1; AVX2's 4 x 2.
        assert_eq!(grad_block(32, 1, 32), (16, 1));
        assert_eq!(grad_block(16, 2, 32), (4, 2));
    }
}
