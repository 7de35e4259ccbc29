//! 3x3 "same" convolutions with fewer multiplications: Winograd's minimal filtering F(m x m, 3 x 3)
//! (Lavin and Gray, 2016) for m = 4 ([`Tiling::F4`], 4x fewer) and m = 2 ([`Tiling::F2`], 2.25x
//! fewer): the forward pass, the input gradient and the weight gradient, NHWC, written once over the
//! vector register type ([`Simd`]) and the tiling ([`Tile`]), taking the direct kernels' [`Conv`] and
//! [`WeightGrad`] (with weights and weight gradients in the Winograd domain).
//!
//! An m x m block of output pixels ("tile") is computed from the a x a input pixels around it (a = m +
//! 2). Per channel, the input tile `d` becomes `V = Bt d B`, the weights `g` become `U = G g Gt`, and the
//! output is `Y = At (sum over input channels of U . V) A`, where `.` multiplies the a x a positions
//! elementwise: a^2 multiplications per tile and channel pair where the direct kernels do 9 m^2 (F4:
//! 36 for 144; F2: 16 for 36). The matrices are in `F4`'s and `F2`'s documentation (points 0, 1, -1,
//! 2, -2 and infinity for F4; 0, 1, -1, infinity for F2).
//!
//! Rounding and bits: `Bt`, `At` and `A` are additions and multiply-adds by small integers (exact
//! multipliers), each in one fixed order; `G` and `Gt` (1/4, 1/6, 1/12, 1/24 for F4) run in f64 in
//! scalar code, once per weight update and once per chunk's weight gradient, rounded to f32 once. The
//! sums over input channels (forward, input gradient) and over tiles (weight gradient) are chains of
//! fused multiply-adds in a fixed order. So every path with fused multiply-adds (AVX-512, AVX2, NEON)
//! gives the same bits, whatever the block sizes, threads or models fused: the tests check each path
//! bit for bit against the same code on one-lane scalar "registers".
//!
//! The weight gradient is `dU = sum over tiles of V . (A dY At)` per position (for every input and
//! output channel pair), kept in the Winograd domain while a chunk's images add to it;
//! [`add_weight_grad_to_oihw`] turns it into the 3x3 gradient `Gt dU G` when the chunk's gradients are
//! flushed.
//!
//! Tiles are taken in row-major order in bands of up to 14: a band's transformed inputs and
//! GEMM outputs stay in the core's caches. The weight gradient transforms the whole image at once,
//! so that each block's accumulators stay in registers over a tile row (its sums over a row of tiles
//! are added to `dU` once a row: shorter chains round less).

// The transforms walk a tile's lines by index (`cols[x][y]`: the line y of every column x).
#![allow(clippy::needless_range_loop)]

use crate::kernels::direct::{Conv, Epilogue, WeightGrad, CHANNELS};
use crate::kernels::lines::Lines;
use crate::kernels::max;
use crate::kernels::simd::{Path, Simd, WithPath};

/// Most tiles per band (and per block of the forward GEMM, whose accumulators stay in registers).
const MAX_TILES: usize = 14;

/// Floats between two tiles' transformed inputs, whatever the channels: the GEMM's broadcasts then
/// sit at constant offsets (with `cin` apart, an address computation for each of its FMAs held AVX-512
/// at 61% of the direct kernels' speed).
const V_STRIDE: usize = 64;
const _: () = assert!(CHANNELS[CHANNELS.len() - 1] <= V_STRIDE);

/// Largest input tile side (F4's): the length of the arrays [`Tile`]'s transforms take.
pub const MAX_SIDE: usize = 6;

/// Which Winograd algorithm: the output tile's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tiling {
    /// F(2x2, 3x3): 4x4 input tiles, 16 positions.
    F2,
    /// F(4x4, 3x3): 6x6 input tiles, 36 positions.
    F4,
}

impl Tiling {
    /// The tiling for a convolution of `cin` to `cout` channels on `h x w` images: F4 where 4 divides
    /// both sides, else F2 where 2 does, else none (direct); both channel counts in [`CHANNELS`].
    pub fn for_layer(cin: usize, cout: usize, h: usize, w: usize) -> Option<Tiling> {
        if !(CHANNELS.contains(&cin) && CHANNELS.contains(&cout)) || h == 0 || w == 0 {
            None
        } else if h.is_multiple_of(4) && w.is_multiple_of(4) {
            Some(Tiling::F4)
        } else if h.is_multiple_of(2) && w.is_multiple_of(2) {
            Some(Tiling::F2)
        } else {
            None
        }
    }

    /// Output pixels along a tile's side.
    pub fn m(self) -> usize {
        match self {
            Tiling::F2 => F2::M,
            Tiling::F4 => F4::M,
        }
    }

    /// Positions of a transformed tile.
    pub fn positions(self) -> usize {
        (self.m() + 2) * (self.m() + 2)
    }

    /// Floats of the Winograd-domain weights (or weight gradient) of a `cin` to `cout` convolution.
    pub fn domain_len(self, cin: usize, cout: usize) -> usize {
        self.positions() * cin * cout
    }

    /// The name results record: "winograd-f2" or "winograd-f4".
    pub fn name(self) -> &'static str {
        match self {
            Tiling::F2 => "winograd-f2",
            Tiling::F4 => "winograd-f4",
        }
    }
}

/// One Winograd algorithm's transforms, each on one line of a tile (applied to columns, then rows).
/// Arrays hold up to [`MAX_SIDE`] values; the first `M` or `A` count.
pub trait Tile {
    /// Output pixels along a tile's side.
    const M: usize;
    /// Input pixels along a tile's side.
    const A: usize = Self::M + 2;
    /// `Bt d`: `A` values to `A`.
    fn input<S: Simd>(d: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE];
    /// `At m`: `A` values to `M`.
    fn output<S: Simd>(m: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE];
    /// `A g`: `M` values to `A` (the output gradient's transform).
    fn gradient<S: Simd>(g: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE];
    /// `G g`: 3 weights to `A` values.
    fn weight(g: [f64; 3]) -> [f64; MAX_SIDE];
    /// `Gt d`: `A` values of a weight gradient to 3.
    fn weight_grad(d: [f64; MAX_SIDE]) -> [f64; 3];
}

/// F(2x2, 3x3):
///
/// ```text
///      | 1  0 -1  0 |        | 1    0    0   |
/// Bt = | 0  1  1  0 |    G = | 1/2  1/2  1/2 |    At = | 1  1  1  0 |
///      | 0 -1  1  0 |        | 1/2 -1/2  1/2 |         | 0  1 -1 -1 |
///      | 0  1  0 -1 |        | 0    0    1   |
/// ```
pub struct F2;

impl Tile for F2 {
    const M: usize = 2;
    #[inline(always)]
    fn input<S: Simd>(d: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let z = S::zero();
        [
            S::sub(d[0], d[2]),
            S::add(d[1], d[2]),
            S::sub(d[2], d[1]),
            S::sub(d[1], d[3]),
            z,
            z,
        ]
    }
    #[inline(always)]
    fn output<S: Simd>(m: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let z = S::zero();
        let y0 = S::add(S::add(m[0], m[1]), m[2]);
        let y1 = S::sub(S::sub(m[1], m[2]), m[3]);
        [y0, y1, z, z, z, z]
    }
    #[inline(always)]
    fn gradient<S: Simd>(g: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let z = S::zero();
        [
            g[0],
            S::add(g[0], g[1]),
            S::sub(g[0], g[1]),
            S::sub(z, g[1]),
            z,
            z,
        ]
    }
    fn weight(g: [f64; 3]) -> [f64; MAX_SIDE] {
        [
            g[0],
            (g[0] + g[1] + g[2]) / 2.0,
            (g[0] - g[1] + g[2]) / 2.0,
            g[2],
            0.0,
            0.0,
        ]
    }
    fn weight_grad(d: [f64; MAX_SIDE]) -> [f64; 3] {
        let (s, t) = ((d[1] + d[2]) / 2.0, (d[1] - d[2]) / 2.0);
        [d[0] + s, t, s + d[3]]
    }
}

/// F(4x4, 3x3):
///
/// ```text
///      | 4  0 -5  0  1  0 |        |  1/4     0     0   |
///      | 0 -4 -4  1  1  0 |        | -1/6  -1/6  -1/6  |         | 1  1  1  1  1  0 |
/// Bt = | 0  4 -4 -1  1  0 |    G = | -1/6   1/6  -1/6  |    At = | 0  1 -1  2 -2  0 |
///      | 0 -2 -1  2  1  0 |        |  1/24  1/12  1/6  |         | 0  1  1  4  4  0 |
///      | 0  2 -1 -2  1  0 |        |  1/24 -1/12  1/6  |         | 0  1 -1  8 -8  1 |
///      | 0  4  0 -5  0  1 |        |  0     0     1    |
/// ```
pub struct F4;

impl Tile for F4 {
    const M: usize = 4;
    #[inline(always)]
    fn input<S: Simd>(d: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let c = S::splat;
        let (p, q) = (S::sub(d[4], d[2]), S::sub(d[3], d[1]));
        [
            S::mul_add(c(4.0), d[0], S::mul_add(c(-5.0), d[2], d[4])),
            S::mul_add(c(-4.0), S::add(d[1], d[2]), S::add(d[3], d[4])),
            S::mul_add(c(4.0), S::sub(d[1], d[2]), S::sub(d[4], d[3])),
            S::mul_add(c(2.0), q, p),
            S::mul_add(c(-2.0), q, p),
            S::mul_add(c(4.0), d[1], S::mul_add(c(-5.0), d[3], d[5])),
        ]
    }
    #[inline(always)]
    fn output<S: Simd>(m: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let (c, z) = (S::splat, S::zero());
        let (s12, d12) = (S::add(m[1], m[2]), S::sub(m[1], m[2]));
        let (s34, d34) = (S::add(m[3], m[4]), S::sub(m[3], m[4]));
        [
            S::add(S::add(m[0], s12), s34),
            S::mul_add(c(2.0), d34, d12),
            S::mul_add(c(4.0), s34, s12),
            S::add(S::mul_add(c(8.0), d34, d12), m[5]),
            z,
            z,
        ]
    }
    #[inline(always)]
    fn gradient<S: Simd>(g: [S::V; MAX_SIDE]) -> [S::V; MAX_SIDE] {
        let c = S::splat;
        let (e, o) = (S::add(g[0], g[2]), S::add(g[1], g[3]));
        let e2 = S::mul_add(c(4.0), g[2], g[0]);
        let t = S::mul_add(c(4.0), g[3], g[1]);
        let o2 = S::add(t, t);
        [
            g[0],
            S::add(e, o),
            S::sub(e, o),
            S::add(e2, o2),
            S::sub(e2, o2),
            g[3],
        ]
    }
    fn weight(g: [f64; 3]) -> [f64; MAX_SIDE] {
        [
            g[0] / 4.0,
            -(g[0] + g[1] + g[2]) / 6.0,
            -(g[0] - g[1] + g[2]) / 6.0,
            (g[0] + 2.0 * g[1] + 4.0 * g[2]) / 24.0,
            (g[0] - 2.0 * g[1] + 4.0 * g[2]) / 24.0,
            g[2],
        ]
    }
    fn weight_grad(d: [f64; MAX_SIDE]) -> [f64; 3] {
        let (s12, d12) = (d[1] + d[2], d[1] - d[2]);
        let (s34, d34) = (d[3] + d[4], d[3] - d[4]);
        [
            d[0] / 4.0 - s12 / 6.0 + s34 / 24.0,
            -d12 / 6.0 + d34 / 12.0,
            -s12 / 6.0 + s34 / 6.0 + d[5],
        ]
    }
}

/// Runs `f` with the [`Tile`] of `tiling`.
macro_rules! with_tile {
    ($tiling:expr, $t:ident => $body:expr) => {
        match $tiling {
            Tiling::F2 => {
                type $t = F2;
                $body
            }
            Tiling::F4 => {
                type $t = F4;
                $body
            }
        }
    };
}

/// HWIO weights (`9 * cin * cout`) into the Winograd domain: `u[(pos * cin + ci) * cout + co]`, `G g
/// Gt` in f64 (rows first), rounded once.
pub fn weights_from_hwio(tiling: Tiling, hwio: &[f32], cin: usize, cout: usize, u: &mut [f32]) {
    with_tile!(tiling, T => weights_on::<T>(hwio, cin, cout, u))
}

fn weights_on<T: Tile>(hwio: &[f32], cin: usize, cout: usize, u: &mut [f32]) {
    let a = T::A;
    assert!(hwio.len() >= 9 * cin * cout && u.len() >= a * a * cin * cout);
    for ci in 0..cin {
        for co in 0..cout {
            let g = |ky: usize, kx: usize| hwio[((ky * 3 + kx) * cin + ci) * cout + co] as f64;
            let rows: [[f64; MAX_SIDE]; 3] =
                std::array::from_fn(|ky| T::weight([g(ky, 0), g(ky, 1), g(ky, 2)]));
            for x in 0..a {
                let col = T::weight([rows[0][x], rows[1][x], rows[2][x]]);
                for (y, &v) in col.iter().take(a).enumerate() {
                    u[((y * a + x) * cin + ci) * cout + co] = v as f32;
                }
            }
        }
    }
}

/// Adds the 3x3 weight gradient of a Winograd-domain one (`du`, from [`weight_grad`]) to `oihw`
/// (PyTorch's layout): `Gt dU G` in f64 (rows first), rounded once; zeroes `du`.
pub fn add_weight_grad_to_oihw(
    tiling: Tiling,
    du: &mut [f32],
    cin: usize,
    cout: usize,
    oihw: &mut [f32],
) {
    with_tile!(tiling, T => weight_grad_to_oihw::<T>(du, cin, cout, oihw))
}

fn weight_grad_to_oihw<T: Tile>(du: &mut [f32], cin: usize, cout: usize, oihw: &mut [f32]) {
    let a = T::A;
    let len = a * a * cin * cout;
    assert!(du.len() >= len && oihw.len() >= 9 * cin * cout);
    for ci in 0..cin {
        for co in 0..cout {
            let d = |y: usize, x: usize| du[((y * a + x) * cin + ci) * cout + co] as f64;
            let rows: [[f64; 3]; MAX_SIDE] = std::array::from_fn(|y| {
                if y >= a {
                    return [0.0; 3];
                }
                let mut line = [0.0; MAX_SIDE];
                for (x, l) in line.iter_mut().enumerate().take(a) {
                    *l = d(y, x);
                }
                T::weight_grad(line)
            });
            for kx in 0..3 {
                let mut line = [0.0; MAX_SIDE];
                for (y, l) in line.iter_mut().enumerate().take(a) {
                    *l = rows[y][kx];
                }
                let col = T::weight_grad(line);
                for ky in 0..3 {
                    oihw[((co * cin + ci) * 3 + ky) * 3 + kx] += col[ky] as f32;
                }
            }
        }
    }
    du[..len].fill(0.0);
}

/// The per-thread buffers of one band of tiles: its transformed input and the GEMM's output (for the
/// weight gradient, of the whole image: its transformed input and output gradient).
#[derive(Default)]
pub struct Workspace {
    v: Lines,
    m: Lines,
}

impl Workspace {
    fn fit(&mut self, positions: usize, cin: usize, cout: usize) {
        debug_assert!(cin <= V_STRIDE);
        self.v.fit(positions * MAX_TILES * V_STRIDE);
        self.m.fit(positions * MAX_TILES * cout);
    }
}

/// Runs `c` (its `wt` in the Winograd domain of `tiling`, [`weights_from_hwio`]) with the buffers
/// `work`; `path` is the capability [`crate::kernels::simd::Isa::dispatch`] hands out.
#[inline(always)]
pub fn conv<P: Path>(path: P, tiling: Tiling, c: Conv, work: &mut Workspace) {
    path.call(ConvOp {
        c,
        tiling,
        work,
        forced: None,
    })
}

/// Adds the weight gradient of `g` to `g.dw`, in the Winograd domain of `tiling`
/// ([`add_weight_grad_to_oihw`] turns it into the 3x3 one); `path` as in [`conv`].
#[inline(always)]
pub fn weight_grad<P: Path>(path: P, tiling: Tiling, g: WeightGrad, work: &mut Workspace) {
    path.call(WeightGradOp {
        g,
        tiling,
        work,
        forced: None,
    })
}

/// Calls `$f::<$t, I, O>(...)` with `I` and `O` the register types of path `$p` for `$cin` input and
/// `$cout` output channels (its widest type that divides them).
macro_rules! with_types {
    ($p:ident, $cin:expr, $cout:expr, $f:ident::<$t:ident>($($arg:expr),*)) => {{
        let wide = |ch: usize| ch.is_multiple_of(<$p::Wide as Simd>::LANES);
        match (wide($cin), wide($cout)) {
            (true, true) => $f::<$t, $p::Wide, $p::Wide>($($arg),*),
            (true, false) => $f::<$t, $p::Wide, $p::Narrow>($($arg),*),
            (false, true) => $f::<$t, $p::Narrow, $p::Wide>($($arg),*),
            (false, false) => $f::<$t, $p::Narrow, $p::Narrow>($($arg),*),
        }
    }};
}

/// [`conv`] compiled once per path; with the GEMM block (output registers, tiles) forced (tests).
struct ConvOp<'a, 'w> {
    c: Conv<'a>,
    tiling: Tiling,
    work: &'w mut Workspace,
    forced: Option<(usize, usize)>,
}

impl WithPath for ConvOp<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        let ConvOp {
            c,
            tiling,
            work,
            forced,
        } = self;
        with_tile!(tiling, T => with_types!(P, c.cin, c.cout, conv_on::<T>(c, work, forced)))
    }
}

/// [`weight_grad`] compiled once per path; with the block (input channels, output registers) forced.
struct WeightGradOp<'a, 'w> {
    g: WeightGrad<'a>,
    tiling: Tiling,
    work: &'w mut Workspace,
    forced: Option<(usize, usize)>,
}

impl WithPath for WeightGradOp<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        let WeightGradOp {
            g,
            tiling,
            work,
            forced,
        } = self;
        with_tile!(tiling, T => with_types!(P, g.cin, g.cout, weight_grad_on::<T>(g, work, forced)))
    }
}

/// The tiles of an image, `across` a row, taken in bands.
#[derive(Clone, Copy)]
struct Tiles {
    across: usize,
    total: usize,
}

impl Tiles {
    fn of<T: Tile>(h: usize, w: usize) -> Self {
        Self {
            across: w / T::M,
            total: (h / T::M) * (w / T::M),
        }
    }

    /// The bands: `(first tile, tiles)`, of even sizes up to [`MAX_TILES`].
    fn bands(self) -> impl Iterator<Item = (usize, usize)> {
        let size = self.total.div_ceil(self.total.div_ceil(MAX_TILES));
        (0..self.total)
            .step_by(size)
            .map(move |t0| (t0, size.min(self.total - t0)))
    }

    /// Tile `t`'s top-left output pixel.
    fn origin<T: Tile>(self, t: usize) -> (usize, usize) {
        (t / self.across * T::M, t % self.across * T::M)
    }
}

/// Transforms the input tiles `t0 .. t0 + band` into `v[(pos * band + t) * stride + ci]`: `Bt d B`,
/// columns first.
/// # Safety
/// `inp` is the padded `w`-wide image of `cin` channels that `tiles` cover; `v` holds `A^2 * band *
/// stride` floats; `S::LANES` divides `cin`, at most `stride`.
#[inline(always)]
unsafe fn input_band<T: Tile, S: Simd>(
    inp: *const f32,
    (w, cin): (usize, usize),
    tiles: Tiles,
    (t0, band): (usize, usize),
    (v, stride): (*mut f32, usize),
) {
    let (a, row) = (T::A, (w + 2) * cin);
    for t in 0..band {
        let (y0, x0) = tiles.origin::<T>(t0 + t);
        for c0 in (0..cin).step_by(S::LANES) {
            // SAFETY: the caller's contract bounds the tile's input pixels (padded rows y0 .. y0 + A,
            // columns x0 .. x0 + A) and `v`.
            unsafe {
                let base = inp.add(y0 * row + x0 * cin + c0);
                let mut cols = [[S::zero(); MAX_SIDE]; MAX_SIDE];
                for (x, col) in cols.iter_mut().enumerate().take(a) {
                    let d = std::array::from_fn(|y| {
                        if y < a {
                            S::load(base.add(y * row + x * cin))
                        } else {
                            S::zero()
                        }
                    });
                    *col = T::input::<S>(d);
                }
                for y in 0..a {
                    let r = T::input::<S>(std::array::from_fn(|x| cols[x][y]));
                    for (x, &rv) in r.iter().enumerate().take(a) {
                        S::store(v.add(((y * a + x) * band + t) * stride + c0), rv);
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
            if best_fmas == 0
                || rate > best_rate
                || (rate == best_rate && loads * best_fmas < best_loads * fmas)
            {
                best = (vb, n);
                (best_fmas, best_loads, best_cycles) = (fmas, loads, cycles);
            }
        }
        vb *= 2;
    }
    best
}

#[inline(always)]
fn conv_on<T: Tile, I: Simd, O: Simd>(
    c: Conv,
    work: &mut Workspace,
    forced: Option<(usize, usize)>,
) {
    let (h, w, cin, cout) = (c.h, c.w, c.cin, c.cout);
    assert!(CHANNELS.contains(&cin) && CHANNELS.contains(&cout));
    assert!(h.is_multiple_of(T::M) && w.is_multiple_of(T::M));
    assert!(cin.is_multiple_of(I::LANES) && cout.is_multiple_of(O::LANES));
    let positions = T::A * T::A;
    assert!(c.inp.len() >= (h + 2) * (w + 2) * cin && c.wt.len() >= positions * cin * cout);
    let (out_h, out_w) = if c.out_padded { (h + 2, w + 2) } else { (h, w) };
    assert!(c.out.len() >= out_h * out_w * cout && c.bias.is_none_or(|b| b.len() >= cout));
    if let Epilogue::ReluGrad(y) = c.epilogue {
        assert!(y.len() >= (h + 2) * (w + 2) * cout);
    }
    work.fit(positions, cin, cout);
    let (vb, n) = forced.unwrap_or(gemm_block(O::REGISTERS, cout / O::LANES));
    let tiles = Tiles::of::<T>(h, w);
    let mut c = c;
    for (t0, band) in tiles.bands() {
        // SAFETY: the asserts above bound the tiles and the buffers (`work` fits MAX_TILES).
        unsafe {
            input_band::<T, I>(
                c.inp.as_ptr(),
                (w, cin),
                tiles,
                (t0, band),
                (work.v.as_mut_ptr(), V_STRIDE),
            )
        };
        for pos in 0..positions {
            gemm_band::<O>(&c, work, (pos, band), vb, n);
        }
        // SAFETY: as above; the band's output pixels are within `out` (and a ReluGrad's `y`).
        unsafe { output_band::<T, O>(&mut c, &work.m, tiles, (t0, band)) };
    }
}

/// `m[pos][t][co] = sum over ci (in order) of v[pos][t][ci] * u[pos][ci][co]` for one position of a
/// band, in blocks of `vb` output registers by up to `n` tiles.
#[inline(always)]
fn gemm_band<O: Simd>(
    c: &Conv,
    work: &mut Workspace,
    (pos, band): (usize, usize),
    vb: usize,
    n: usize,
) {
    let (cin, cout) = (c.cin, c.cout);
    // Blocks of even size along the band (14 tiles in blocks of at most 6: 5, 5, 4).
    let n_even = band.div_ceil(band.div_ceil(n));
    let v = work.v[pos * band * V_STRIDE..].as_ptr();
    let m = work.m[pos * band * cout..].as_mut_ptr();
    let u = c.wt[pos * cin * cout..].as_ptr();
    let mut t0 = 0;
    while t0 < band {
        let nt = n_even.min(band - t0);
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
/// `v` holds `N` tiles of `V_STRIDE` values (`cin` used), `u` `cin` rows of `cout` (from the block's first channel), `m`
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

/// `At M A`, plus the bias, through the epilogue, into the band's output pixels.
/// # Safety
/// `m` holds the band's `A^2 * band * cout` sums; `c`'s buffers passed [`conv_on`]'s asserts.
#[inline(always)]
unsafe fn output_band<T: Tile, O: Simd>(
    c: &mut Conv,
    m: &[f32],
    tiles: Tiles,
    (t0, band): (usize, usize),
) {
    let (w, cout, a) = (c.w, c.cout, T::A);
    let off = usize::from(c.out_padded);
    let out_w = w + 2 * off;
    let m = m.as_ptr();
    let o = c.out.as_mut_ptr();
    for t in 0..band {
        let (y0, x0) = tiles.origin::<T>(t0 + t);
        for c0 in (0..cout).step_by(O::LANES) {
            // SAFETY: the caller's contract; the tile's pixels of the output and of a ReluGrad's
            // padded `y`.
            unsafe {
                let mut cols = [[O::zero(); MAX_SIDE]; MAX_SIDE];
                for (x, col) in cols.iter_mut().enumerate().take(a) {
                    let mv = std::array::from_fn(|y| {
                        if y < a {
                            O::load(m.add(((y * a + x) * band + t) * cout + c0))
                        } else {
                            O::zero()
                        }
                    });
                    *col = T::output::<O>(mv);
                }
                let bias = c.bias.map(|b| O::load(b.as_ptr().add(c0)));
                for y in 0..T::M {
                    let r = T::output::<O>(std::array::from_fn(|x| cols[x][y]));
                    for (x, &s) in r.iter().enumerate().take(T::M) {
                        let s = bias.map_or(s, |b| O::add(s, b));
                        let (py, px) = (y0 + y, x0 + x);
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

/// Transforms the output gradient's tiles `t0 .. t0 + band` into `gy[(pos * band + t) * cout + co]`:
/// `A dY At`, columns first.
/// # Safety
/// `g` is the `w`-wide gradient of `cout` channels (padded when `padded`) that `tiles` cover; `gy`
/// holds `A^2 * band * cout` floats; `S::LANES` divides `cout`.
#[inline(always)]
unsafe fn gradient_band<T: Tile, S: Simd>(
    g: *const f32,
    (w, cout, padded): (usize, usize, bool),
    tiles: Tiles,
    (t0, band): (usize, usize),
    gy: *mut f32,
) {
    let (a, off) = (T::A, usize::from(padded));
    let row = (w + 2 * off) * cout;
    for t in 0..band {
        let (y0, x0) = tiles.origin::<T>(t0 + t);
        for c0 in (0..cout).step_by(S::LANES) {
            // SAFETY: the caller's contract bounds the tile's pixels and `gy`.
            unsafe {
                let base = g.add((y0 + off) * row + (x0 + off) * cout + c0);
                let mut cols = [[S::zero(); MAX_SIDE]; MAX_SIDE];
                for (x, col) in cols.iter_mut().enumerate().take(T::M) {
                    let d = std::array::from_fn(|y| {
                        if y < T::M {
                            S::load(base.add(y * row + x * cout))
                        } else {
                            S::zero()
                        }
                    });
                    *col = T::gradient::<S>(d);
                }
                for y in 0..a {
                    let r = T::gradient::<S>(std::array::from_fn(|x| {
                        if x < T::M {
                            cols[x][y]
                        } else {
                            S::zero()
                        }
                    }));
                    for (x, &rv) in r.iter().enumerate().take(a) {
                        S::store(gy.add(((y * a + x) * band + t) * cout + c0), rv);
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
        for cb in [1, 2, 4, 8, 16]
            .into_iter()
            .filter(|&c| cin.is_multiple_of(c))
        {
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
    cb * vb + vb < registers
}

#[inline(always)]
fn weight_grad_on<T: Tile, I: Simd, O: Simd>(
    g: WeightGrad,
    work: &mut Workspace,
    forced: Option<(usize, usize)>,
) {
    let (h, w, cin, cout) = (g.h, g.w, g.cin, g.cout);
    assert!(CHANNELS.contains(&cin) && CHANNELS.contains(&cout));
    assert!(h.is_multiple_of(T::M) && w.is_multiple_of(T::M));
    assert!(cin.is_multiple_of(I::LANES) && cout.is_multiple_of(O::LANES));
    let positions = T::A * T::A;
    let (gh, gw) = if g.g_padded { (h + 2, w + 2) } else { (h, w) };
    assert!(g.inp.len() >= (h + 2) * (w + 2) * cin && g.g.len() >= gh * gw * cout);
    assert!(g.dw.len() >= positions * cin * cout);
    let (cb, vb) = forced.unwrap_or_else(|| grad_block(O::REGISTERS, cout / O::LANES, cin));
    let tiles = Tiles::of::<T>(h, w);
    // The whole image's transforms, position by position (`cin` and `cout` floats a tile), so that
    // each block's accumulators stay in registers over all its tiles.
    let n = tiles.total;
    work.v.fit(positions * n * cin);
    work.m.fit(positions * n * cout);
    // SAFETY: the asserts above bound the tiles and the buffers (fitted to the image's tiles).
    unsafe {
        let image = (0, n);
        input_band::<T, I>(
            g.inp.as_ptr(),
            (w, cin),
            tiles,
            image,
            (work.v.as_mut_ptr(), cin),
        );
        let shape = (w, cout, g.g_padded);
        gradient_band::<T, O>(g.g.as_ptr(), shape, tiles, image, work.m.as_mut_ptr());
    }
    for pos in 0..positions {
        let v = work.v[pos * n * cin..].as_ptr();
        let gy = work.m[pos * n * cout..].as_ptr();
        let du = g.dw[pos * cin * cout..].as_mut_ptr();
        for ci in (0..cin).step_by(cb) {
            for c0 in (0..cout).step_by(O::LANES * vb) {
                macro_rules! blocks {
                    ($(($c:literal, $v:literal))*) => {
                        // SAFETY: this position's rows of `v` and `gy` (the image's tiles), and the
                        // block's `cb` rows of `du` from channel c0 (the asserts).
                        unsafe {
                            let (v, gy, du) = (v.add(ci), gy.add(c0), du.add(ci * cout + c0));
                            match (cb, vb) {
                                $(($c, $v) if grad_block_fits(O::REGISTERS, $c, $v) => {
                                    grad_block_at::<O, $c, $v>((v, cin), gy, cout, (n, tiles.across), du)
                                })*
                                _ => unreachable!("grad_block's sizes"),
                            }
                        }
                    };
                }
                blocks!((1, 1)(2, 1)(4, 1)(8, 1)(16, 1)(1, 2)(2, 2)(4, 2)(8, 2)(
                    1, 4
                )(2, 4)(4, 4));
            }
        }
    }
}

/// One weight-gradient block: `CB` input channels by `VB` output registers of `du`, loaded, added to
/// tile by tile in order, stored.
/// # Safety
/// `v` holds `tiles` rows `stride` apart from the block's first input channel, `gy` `tiles` rows of
/// `cout` from its first output channel, `du` `CB` rows of `cout` from there.
#[inline(always)]
unsafe fn grad_block_at<O: Simd, const CB: usize, const VB: usize>(
    (v, stride): (*const f32, usize),
    gy: *const f32,
    cout: usize,
    (tiles, row): (usize, usize),
    du: *mut f32,
) {
    // SAFETY (the loads and stores): the caller's contract.
    unsafe {
        for t0 in (0..tiles).step_by(row) {
            let mut acc: [[O::V; VB]; CB] = [[O::zero(); VB]; CB];
            for t in t0..t0 + row {
                let gv: [O::V; VB] =
                    std::array::from_fn(|r| O::load(gy.add(t * cout + O::LANES * r)));
                for (i, a) in acc.iter_mut().enumerate() {
                    let x = O::splat(*v.add(t * stride + i));
                    for r in 0..VB {
                        a[r] = O::mul_add(x, gv[r], a[r]);
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                for (r, &x) in a.iter().enumerate() {
                    let at = du.add(i * cout + O::LANES * r);
                    O::store(at, O::add(O::load(at), x));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every kernel on every path this CPU has, for both tilings: bit for bit against the same code on
    //! one-lane scalar registers (fused or not, as the path), within rounding of the definition (f64
    //! sums), and exactly the definition on small integers.

    use super::*;
    use crate::kernels::direct::{add_hwio_to_oihw, oihw_to_hwio};
    use crate::kernels::simd::Scalar;
    use crate::kernels::testing::*;

    /// The same value: the same bits, or both zero (ReLU's zeros may carry either sign).
    fn same(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits() || (*x == 0.0 && *y == 0.0))
    }

    /// One case's buffers.
    struct Case {
        tiling: Tiling,
        cin: usize,
        cout: usize,
        h: usize,
        w: usize,
        x: Vec<f32>,
        hwio: Vec<f32>,
        u: Vec<f32>,
        bias: Vec<f32>,
        g: Vec<f32>,
        relu_out: Vec<f32>,
    }

    impl Case {
        fn new(tiling: Tiling, cin: usize, cout: usize, h: usize, w: usize) -> Self {
            let oihw = noise(9 * cin * cout, 12 + cout as u32);
            let mut hwio = vec![0.0; 9 * cin * cout];
            oihw_to_hwio(&oihw, cin, cout, &mut hwio);
            let mut u = vec![0.0; tiling.domain_len(cin, cout)];
            weights_from_hwio(tiling, &hwio, cin, cout, &mut u);
            Self {
                tiling,
                cin,
                cout,
                h,
                w,
                x: pad(&noise(h * w * cin, 11 + cin as u32), cin, h, w),
                hwio,
                u,
                bias: noise(cout, 13),
                g: noise(h * w * cout, 14),
                relu_out: pad(&noise(h * w * cout, 15), cout, h, w),
            }
        }

        /// The forward pass on `path` (epilogue ReLU or ReLU-gradient), the output's interior.
        fn conv<P: Path>(
            &self,
            path: P,
            grad: bool,
            padded: bool,
            forced: Option<(usize, usize)>,
        ) -> Vec<f32> {
            let (h, w, cout) = (self.h, self.w, self.cout);
            let mut out = vec![
                0.0;
                if padded {
                    (h + 2) * (w + 2) * cout
                } else {
                    h * w * cout
                }
            ];
            let c = Conv {
                inp: &self.x,
                cin: self.cin,
                h,
                w,
                wt: &self.u,
                bias: Some(&self.bias),
                epilogue: if grad {
                    Epilogue::ReluGrad(&self.relu_out)
                } else {
                    Epilogue::Relu
                },
                out: &mut out,
                cout,
                out_padded: padded,
            };
            let mut work = Workspace::default();
            path.call(ConvOp {
                c,
                tiling: self.tiling,
                work: &mut work,
                forced,
            });
            if padded {
                assert!(out[..(w + 2) * cout].iter().all(|&v| v == 0.0), "border");
                interior(&out, cout, h, w)
            } else {
                out
            }
        }

        /// The weight gradient on `path`, added to `start`.
        fn weight_grad<P: Path>(
            &self,
            path: P,
            start: &[f32],
            padded: bool,
            forced: Option<(usize, usize)>,
        ) -> Vec<f32> {
            let (h, w, cout) = (self.h, self.w, self.cout);
            let gp = if padded {
                pad(&self.g, cout, h, w)
            } else {
                self.g.clone()
            };
            let mut du = start.to_vec();
            let g = WeightGrad {
                inp: &self.x,
                cin: self.cin,
                h,
                w,
                g: &gp,
                cout,
                g_padded: padded,
                dw: &mut du,
            };
            let mut work = Workspace::default();
            path.call(WeightGradOp {
                g,
                tiling: self.tiling,
                work: &mut work,
                forced,
            });
            du
        }

        fn check<P: Path>(&self, path: P) {
            let (tiling, cin, cout, h, w) = (self.tiling, self.cin, self.cout, self.h, self.w);
            let fused = <P::Wide as Simd>::FUSED;
            let label = format!("{tiling:?} {cin}->{cout} {h}x{w}");
            let sums = conv_reference(&self.x, cin, h, w, &self.hwio, &self.bias, cout);
            for grad in [false, true] {
                let got = self.conv(path, grad, true, None);
                assert!(
                    same(&got, &self.conv(path, grad, false, None)),
                    "{label}: padded or not"
                );
                let model = if fused {
                    self.conv(Scalar::<true>, grad, false, None)
                } else {
                    self.conv(Scalar::<false>, grad, false, None)
                };
                assert!(
                    same(&got, &model),
                    "{label} (ReLU gradient {grad}): not the scalar code's bits"
                );
                let want: Vec<f32> = sums
                    .iter()
                    .enumerate()
                    .map(|(k, &s)| {
                        let keep = if grad {
                            let (p, c) = (k / cout, k % cout);
                            self.relu_out[((p / w + 1) * (w + 2) + p % w + 1) * cout + c] > 0.0
                        } else {
                            s > 0.0
                        };
                        if keep {
                            s
                        } else {
                            0.0
                        }
                    })
                    .collect();
                // Sums of up to 576 products of values in [-1, 1]: f32 rounding through F4's
                // transforms (multipliers up to 8 on each side) is ~1e-4.
                let d = max_diff(&got, &want);
                assert!(d < 2e-3, "{label}: {d} from the definition");
                let (lanes, registers) = register_type::<P>(cout);
                for vb in [1, 2, 4] {
                    for n in [1, 3, 7, MAX_TILES] {
                        let fits = (cout / lanes).is_multiple_of(vb) && registers > 2 * vb + 1;
                        if fits && (vb < 4 || n <= 7) {
                            let other = self.conv(path, grad, true, Some((vb, n)));
                            assert!(same(&other, &got), "{label}: block {vb}x{n}");
                        }
                    }
                }
            }
            let start = noise(tiling.domain_len(cin, cout), 16);
            let du = self.weight_grad(path, &start, false, None);
            let model = if fused {
                self.weight_grad(Scalar::<true>, &start, false, None)
            } else {
                self.weight_grad(Scalar::<false>, &start, false, None)
            };
            assert!(
                same(&du, &model),
                "{label}: weight gradient not the scalar code's bits"
            );
            assert!(
                same(&du, &self.weight_grad(path, &start, true, None)),
                "{label}: padded gradient"
            );
            let (lanes, registers) = register_type::<P>(cout);
            for cb in [1, 2, 4, 8, 16] {
                for vb in [1, 2, 4] {
                    let fits = cin.is_multiple_of(cb) && (cout / lanes).is_multiple_of(vb);
                    if fits && grad_block_fits(registers, cb, vb) {
                        let other = self.weight_grad(path, &start, false, Some((cb, vb)));
                        assert!(
                            same(&other, &du),
                            "{label}: weight-gradient block {cb}x{vb}"
                        );
                    }
                }
            }
            // To PyTorch's layout, against the definition.
            let zero = vec![0.0; tiling.domain_len(cin, cout)];
            let mut du = self.weight_grad(path, &zero, false, None);
            let mut got = vec![0.25; 9 * cin * cout];
            add_weight_grad_to_oihw(tiling, &mut du, cin, cout, &mut got);
            assert!(du.iter().all(|&v| v == 0.0), "zeroed");
            let mut want = vec![0.25; 9 * cin * cout];
            add_hwio_to_oihw(
                &weight_grad_reference(&self.x, cin, h, w, &self.g, cout),
                cin,
                cout,
                &mut want,
            );
            let d = max_diff(&got, &want);
            assert!(d < 5e-3, "{label}: weight gradient {d} from the definition");
        }
    }

    /// Every supported shape on every path this CPU has.
    #[derive(Clone, Copy)]
    struct CheckAll;
    impl WithPath for CheckAll {
        type Output = ();
        #[inline(always)]
        fn run<P: Path>(self, path: P) {
            // F2: 15 tiles across (two bands), and a single tile; F4: 14 tiles (7 across, two rows:
            // one band), 15 (three bands), and a single tile.
            let shapes = [
                (Tiling::F2, 4, 30),
                (Tiling::F2, 2, 2),
                (Tiling::F4, 8, 28),
                (Tiling::F4, 12, 20),
                (Tiling::F4, 4, 4),
            ];
            for (tiling, h, w) in shapes {
                for cin in CHANNELS {
                    for cout in CHANNELS {
                        Case::new(tiling, cin, cout, h, w).check(path);
                    }
                }
            }
        }
    }

    #[test]
    fn every_path_gives_the_scalar_bits_and_the_definitions_values() {
        on_every_path(CheckAll);
    }

    /// On small integers every transform and sum is exact: the kernels give the definition's values
    /// exactly (any slip in a transform shows as a whole number). F2's `G` halves (weights are
    /// integers); F4's divides by 2^k * 3 (weights are multiples of 9, so `U` is a short binary
    /// fraction), and its `At` multiplies by up to 8 (inputs -1, 0, 1 keep every sum within f32's
    /// exact integers).
    #[derive(Clone, Copy)]
    struct ExactOnIntegers;
    impl WithPath for ExactOnIntegers {
        type Output = ();
        #[inline(always)]
        fn run<P: Path>(self, path: P) {
            let int = |n: usize, seed: u32, range: f32, scale: f32| -> Vec<f32> {
                noise(n, seed)
                    .iter()
                    .map(|v| (v * range).round() * scale)
                    .collect()
            };
            for (tiling, h, w, range, scale) in
                [(Tiling::F2, 6, 10, 4.0, 1.0), (Tiling::F4, 8, 12, 1.0, 9.0)]
            {
                let (cin, cout) = (16, 8);
                let mut case = Case::new(tiling, cin, cout, h, w);
                case.x = pad(&int(h * w * cin, 21, range, 1.0), cin, h, w);
                case.hwio = int(9 * cin * cout, 22, range, scale);
                weights_from_hwio(tiling, &case.hwio, cin, cout, &mut case.u);
                case.bias = vec![0.0; cout];
                case.relu_out = pad(&vec![1.0; h * w * cout], cout, h, w);
                case.g = int(h * w * cout, 23, range, 1.0);
                let want = conv_reference(&case.x, cin, h, w, &case.hwio, &case.bias, cout);
                assert_eq!(case.conv(path, true, false, None), want, "{tiling:?}");
                let mut du =
                    case.weight_grad(path, &vec![0.0; tiling.domain_len(cin, cout)], false, None);
                let mut got = vec![0.0; 9 * cin * cout];
                add_weight_grad_to_oihw(tiling, &mut du, cin, cout, &mut got);
                let mut want = vec![0.0; 9 * cin * cout];
                let reference = weight_grad_reference(&case.x, cin, h, w, &case.g, cout);
                add_hwio_to_oihw(&reference, cin, cout, &mut want);
                // F4's `Gt` divides by 3 in f64: a zero may come back as 1e-14.
                let d = max_diff(&got, &want);
                assert!(d < 1e-9, "{tiling:?} weight gradient: {d}");
            }
        }
    }

    #[test]
    fn exact_on_small_integers_on_every_path() {
        on_every_path(ExactOnIntegers);
    }

    #[test]
    fn tilings_and_block_choices() {
        assert_eq!(Tiling::for_layer(32, 16, 28, 28), Some(Tiling::F4));
        assert_eq!(Tiling::for_layer(32, 16, 30, 30), Some(Tiling::F2));
        assert_eq!(Tiling::for_layer(1, 32, 28, 28), None);
        assert_eq!(Tiling::for_layer(8, 8, 27, 28), None);
        assert_eq!((Tiling::F2.positions(), Tiling::F4.positions()), (16, 36));
        // AVX-512's 16-channel output: 1 register x 14 tiles; AVX2's: 2 x 6 (12 FMAs for 8 loads).
        assert_eq!(gemm_block(32, 1), (1, 14));
        assert_eq!(gemm_block(16, 2), (2, 6));
        // The weight gradient: AVX-512's 16 channels from 32: 16 x 1; AVX2's 4 x 2.
        assert_eq!(grad_block(32, 1, 32), (16, 1));
        assert_eq!(grad_block(16, 2, 32), (4, 2));
    }
}
