//! The vector instructions the CPU trainer runs on, chosen at run time: AVX-512, AVX2 + FMA, NEON, or a
//! portable fallback ([`Isa`]). The kernels ([`crate::kernels::direct`]) and the per-image passes
//! ([`crate::nn::cpu`]) are written once, generic over [`Simd`] (one vector register type) and [`Path`] (the
//! register types one ISA offers); [`Isa::dispatch`] runs such generic code inside a function compiled
//! with that ISA's target features, so that the generic code (all `#[inline(always)]`) and the
//! intrinsics it calls are inlined and compiled for that ISA.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// A kernel path of the CPU trainer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isa {
    /// x86-64 with AVX-512 (F and VL) and FMA: 16-lane registers, 32 of them.
    Avx512,
    /// x86-64 with AVX2 and FMA: 8-lane registers, 16 of them.
    Avx2,
    /// aarch64 with NEON: 4-lane registers, 32 of them.
    Neon,
    /// Plain Rust on 4-float arrays (the compiler vectorizes it for the baseline of the target).
    Portable,
}

/// The `--isa` flag of the commands that train (`bench`, `lr-find`).
#[derive(clap::Args, Debug)]
pub struct IsaFlag {
    /// The CPU kernels' vector path (auto: $HOST_TRAIN_ISA, else the fastest this CPU has); a path the
    /// CPU lacks is an error naming the missing feature.
    #[arg(long, value_enum, default_value_t = IsaArg::Auto)]
    pub isa: IsaArg,
}

/// `--isa`: a path, or `auto` (the fastest this CPU has; the `HOST_TRAIN_ISA` environment variable
/// chooses where the flag is not given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IsaArg {
    /// $HOST_TRAIN_ISA if set, else the fastest path this CPU has.
    #[default]
    Auto,
    Avx512,
    Avx2,
    Neon,
    Portable,
}

/// The environment variable that forces a path where `--isa` is `auto` (the tests use it).
pub const ISA_ENV: &str = "HOST_TRAIN_ISA";

impl Isa {
    /// Every path, fastest first.
    pub const ALL: [Isa; 4] = [Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Portable];

    /// The name `--isa` takes.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Neon => "neon",
            Isa::Portable => "portable",
        }
    }

    /// The first CPU feature this path needs and this CPU lacks (`/proc/cpuinfo`'s names), or `None`
    /// where the path runs here.
    pub fn missing_feature(self) -> Option<&'static str> {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match self {
                Isa::Avx512 if !has!("avx512f") => Some("avx512f"),
                Isa::Avx512 if !has!("avx512vl") => Some("avx512vl"),
                Isa::Avx512 | Isa::Avx2 if !has!("avx2") => Some("avx2"),
                Isa::Avx512 | Isa::Avx2 if !has!("fma") => Some("fma"),
                Isa::Neon => Some("neon (not an aarch64 CPU)"),
                _ => None,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            match self {
                Isa::Avx512 => Some("avx512f (not an x86-64 CPU)"),
                Isa::Avx2 => Some("avx2 (not an x86-64 CPU)"),
                Isa::Neon if !std::arch::is_aarch64_feature_detected!("neon") => Some("neon"),
                _ => None,
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            match self {
                Isa::Portable => None,
                Isa::Neon => Some("neon (not an aarch64 CPU)"),
                _ => Some("avx2 (not an x86-64 CPU)"),
            }
        }
    }

    /// Whether this CPU runs the path.
    pub fn supported(self) -> bool {
        self.missing_feature().is_none()
    }

    /// The fastest path this CPU runs.
    pub fn best() -> Isa {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.supported())
            .unwrap_or(Isa::Portable)
    }

    /// The path `--isa` asks for (`auto`: `$HOST_TRAIN_ISA`, else [`Isa::best`]); a path this CPU lacks
    /// is an error naming the missing feature.
    pub fn select(arg: IsaArg) -> Result<Isa> {
        let forced = match arg {
            IsaArg::Auto => None,
            IsaArg::Avx512 => Some(Isa::Avx512),
            IsaArg::Avx2 => Some(Isa::Avx2),
            IsaArg::Neon => Some(Isa::Neon),
            IsaArg::Portable => Some(Isa::Portable),
        };
        let (isa, source) = match forced {
            Some(isa) => (isa, format!("--isa {}", isa.name())),
            None => match std::env::var(ISA_ENV) {
                Ok(v) if !v.is_empty() && v != "auto" => {
                    let source = format!("{ISA_ENV}={v}");
                    match Isa::ALL.into_iter().find(|i| i.name() == v) {
                        Some(isa) => (isa, source),
                        None => bail!(
                            "{source}: unknown path (expected auto, avx512, avx2, neon or portable)"
                        ),
                    }
                }
                _ => return Ok(Isa::best()),
            },
        };
        match isa.missing_feature() {
            None => Ok(isa),
            Some(feature) => bail!("{source}: this CPU lacks {feature}"),
        }
    }

    /// Runs `op` with the capability of this path (its [`Path`] value, which only this function
    /// creates, after checking the CPU), inside a function compiled with its target features. Panics
    /// if the CPU lacks them ([`Isa::select`] rules that out for the CLI).
    #[inline]
    pub fn dispatch<W: WithPath>(self, op: W) -> W::Output {
        assert!(
            self.supported(),
            "{} kernels on a CPU without them",
            self.name()
        );
        match self {
            // SAFETY: run_avx512's features (AVX-512F/VL, AVX2, FMA) are this CPU's: asserted above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::run_avx512(op) },
            // SAFETY: run_avx2's features (AVX2, FMA) are this CPU's: asserted above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86::run_avx2(op) },
            // SAFETY: run_neon's feature (NEON) is this CPU's: asserted above.
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => unsafe { arm::run_neon(op) },
            Isa::Portable => op.run(Portable(())),
            #[allow(unreachable_patterns)]
            _ => unreachable!("unsupported paths are rejected above"),
        }
    }
}

/// Code generic over the path it runs on, given the path's capability `path`; `run` must be
/// `#[inline(always)]` (so that it is compiled with the features of the function [`Isa::dispatch`]
/// calls it from).
pub trait WithPath {
    type Output;
    fn run<P: Path>(self, path: P) -> Self::Output;
}

/// One ISA's capability and register types: `Wide` for layers whose channels fill its widest
/// registers, `Narrow` for the others (AVX-512's 8-channel layers run on 256-bit registers, all 32
/// of them). A value of a `Path` type exists only where this CPU has the ISA: [`Isa::dispatch`]
/// creates it after checking, and nothing else can (its field is private), so a kernel that takes
/// one cannot run on a CPU without its instructions.
pub trait Path: Copy {
    type Wide: Simd;
    type Narrow: Simd;
    /// Runs `op` in this path's target-feature function, as [`Isa::dispatch`] does: a kernel called
    /// this way from generic code is compiled once per path, not once per call site.
    fn call<W: WithPath>(self, op: W) -> W::Output;
}

/// One vector register type. Every function must be `#[inline(always)]`, and may only run inside a
/// function compiled with the type's target features on a CPU that has them (what [`Isa::dispatch`]
/// guarantees).
pub trait Simd: Copy {
    /// A register.
    type V: Copy;
    /// f32 lanes per register.
    const LANES: usize;
    /// Architectural registers of this width (block sizes are chosen to fit them).
    const REGISTERS: usize;
    /// All lanes zero.
    fn zero() -> Self::V;
    /// All lanes `x`.
    fn splat(x: f32) -> Self::V;
    /// `LANES` floats from `p`.
    /// # Safety
    /// `p` is valid for reading `LANES` floats.
    unsafe fn load(p: *const f32) -> Self::V;
    /// `LANES` floats to `p`.
    /// # Safety
    /// `p` is valid for writing `LANES` floats.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// Whether [`Simd::mul_add`] rounds once (a fused multiply-add): then every path with it gives the
    /// same bits.
    const FUSED: bool;
    /// `a * b + c` (fused where the ISA has it).
    fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `max(a, 0)`.
    fn relu(a: Self::V) -> Self::V;
    /// `a` where `y > 0`, else `+0.0` (the ReLU's gradient; `a`'s bits are kept).
    fn keep_where_positive(a: Self::V, y: Self::V) -> Self::V;
}

/// The portable path: 4-float arrays, `a * b + c` rounded twice (a fused `mul_add` would be a libm call
/// on CPUs without FMA).
#[derive(Clone, Copy)]
pub struct Portable(());

impl Path for Portable {
    type Wide = Portable;
    type Narrow = Portable;
    #[inline(never)]
    fn call<W: WithPath>(self, op: W) -> W::Output {
        op.run(self)
    }
}

impl Simd for Portable {
    type V = [f32; 4];
    const LANES: usize = 4;
    const REGISTERS: usize = 16;
    #[inline(always)]
    fn zero() -> Self::V {
        [0.0; 4]
    }
    #[inline(always)]
    fn splat(x: f32) -> Self::V {
        [x; 4]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        // SAFETY: the caller guarantees 4 readable floats.
        unsafe { p.cast::<[f32; 4]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        // SAFETY: the caller guarantees 4 writable floats.
        unsafe { p.cast::<[f32; 4]>().write_unaligned(v) }
    }
    const FUSED: bool = false;
    #[inline(always)]
    fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] * b[i] + c[i])
    }
    #[inline(always)]
    fn add(a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    fn sub(a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| a[i] - b[i])
    }
    #[inline(always)]
    fn relu(a: Self::V) -> Self::V {
        a.map(|x| x.max(0.0))
    }
    #[inline(always)]
    fn keep_where_positive(a: Self::V, y: Self::V) -> Self::V {
        std::array::from_fn(|i| if y[i] > 0.0 { a[i] } else { 0.0 })
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Path, Simd, WithPath};
    use std::arch::x86_64::*;

    /// AVX-512: 16-lane registers, and 256-bit ones (all 32, through AVX-512VL) for 8-channel layers.
    #[derive(Clone, Copy)]
    pub struct Avx512(());
    impl Path for Avx512 {
        type Wide = Zmm;
        type Narrow = Ymm<32>;
        #[inline]
        fn call<W: WithPath>(self, op: W) -> W::Output {
            // SAFETY: `self` exists only on a CPU with AVX-512F/VL, AVX2 and FMA (run_avx512 made it).
            unsafe { run_avx512(op) }
        }
    }

    /// AVX2 + FMA: 8-lane registers, 16 of them.
    #[derive(Clone, Copy)]
    pub struct Avx2(());
    impl Path for Avx2 {
        type Wide = Ymm<16>;
        type Narrow = Ymm<16>;
        #[inline]
        fn call<W: WithPath>(self, op: W) -> W::Output {
            // SAFETY: `self` exists only on a CPU with AVX2 and FMA (run_avx2 made it).
            unsafe { run_avx2(op) }
        }
    }

    /// # Safety
    /// The CPU has AVX-512F, AVX-512VL, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    pub(super) unsafe fn run_avx512<W: WithPath>(op: W) -> W::Output {
        op.run(Avx512(()))
    }

    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_avx2<W: WithPath>(op: W) -> W::Output {
        op.run(Avx2(()))
    }

    /// A 512-bit register (AVX-512F).
    #[derive(Clone, Copy)]
    pub struct Zmm;
    impl Simd for Zmm {
        type V = __m512;
        const LANES: usize = 16;
        const REGISTERS: usize = 32;
        #[inline(always)]
        fn zero() -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        fn splat(x: f32) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            // SAFETY: the caller guarantees LANES readable floats at p (Simd::load's contract); Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            // SAFETY: the caller guarantees LANES writable floats at p (Simd::store's contract); Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_storeu_ps(p, v) }
        }
        const FUSED: bool = true;
        #[inline(always)]
        fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn add(a: __m512, b: __m512) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        fn sub(a: __m512, b: __m512) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_sub_ps(a, b) }
        }
        #[inline(always)]
        fn relu(a: __m512) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe { _mm512_max_ps(a, _mm512_setzero_ps()) }
        }
        #[inline(always)]
        fn keep_where_positive(a: __m512, y: __m512) -> __m512 {
            // SAFETY: a register-only intrinsic; Zmm's functions run only inlined into run_avx512 (AVX-512F enabled, checked on this CPU).
            unsafe {
                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(y, _mm512_setzero_ps()), a)
            }
        }
    }

    /// A 256-bit register (AVX + FMA); `R` of them: 16, or 32 with AVX-512VL.
    #[derive(Clone, Copy)]
    pub struct Ymm<const R: usize>;
    impl<const R: usize> Simd for Ymm<R> {
        type V = __m256;
        const LANES: usize = 8;
        const REGISTERS: usize = R;
        #[inline(always)]
        fn zero() -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_setzero_ps() }
        }
        #[inline(always)]
        fn splat(x: f32) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            // SAFETY: the caller guarantees LANES readable floats at p (Simd::load's contract); Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            // SAFETY: the caller guarantees LANES writable floats at p (Simd::store's contract); Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_storeu_ps(p, v) }
        }
        const FUSED: bool = true;
        #[inline(always)]
        fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn add(a: __m256, b: __m256) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        fn sub(a: __m256, b: __m256) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_sub_ps(a, b) }
        }
        #[inline(always)]
        fn relu(a: __m256) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_max_ps(a, _mm256_setzero_ps()) }
        }
        #[inline(always)]
        fn keep_where_positive(a: __m256, y: __m256) -> __m256 {
            // SAFETY: a register-only intrinsic; Ymm's functions run only inlined into run_avx2 or run_avx512 (AVX2 and FMA enabled, checked on this CPU).
            unsafe { _mm256_and_ps(a, _mm256_cmp_ps::<_CMP_GT_OQ>(y, _mm256_setzero_ps())) }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::{Path, Simd, WithPath};
    use std::arch::aarch64::*;

    /// NEON: 4-lane registers, 32 of them.
    #[derive(Clone, Copy)]
    pub struct Neon(());
    impl Path for Neon {
        type Wide = Neon;
        type Narrow = Neon;
        #[inline]
        fn call<W: WithPath>(self, op: W) -> W::Output {
            // SAFETY: `self` exists only on a CPU with NEON (run_neon made it).
            unsafe { run_neon(op) }
        }
    }

    /// # Safety
    /// The CPU has NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn run_neon<W: WithPath>(op: W) -> W::Output {
        op.run(Neon(()))
    }
    impl Simd for Neon {
        type V = float32x4_t;
        const LANES: usize = 4;
        const REGISTERS: usize = 32;
        #[inline(always)]
        fn zero() -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vdupq_n_f32(0.0) }
        }
        #[inline(always)]
        fn splat(x: f32) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vdupq_n_f32(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> float32x4_t {
            // SAFETY: the caller guarantees LANES readable floats at p (Simd::load's contract); Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vld1q_f32(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: float32x4_t) {
            // SAFETY: the caller guarantees LANES writable floats at p (Simd::store's contract); Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vst1q_f32(p, v) }
        }
        const FUSED: bool = true;
        #[inline(always)]
        fn mul_add(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vfmaq_f32(c, a, b) }
        }
        #[inline(always)]
        fn add(a: float32x4_t, b: float32x4_t) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vaddq_f32(a, b) }
        }
        #[inline(always)]
        fn sub(a: float32x4_t, b: float32x4_t) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vsubq_f32(a, b) }
        }
        #[inline(always)]
        fn relu(a: float32x4_t) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe { vmaxq_f32(a, vdupq_n_f32(0.0)) }
        }
        #[inline(always)]
        fn keep_where_positive(a: float32x4_t, y: float32x4_t) -> float32x4_t {
            // SAFETY: a register-only intrinsic; Neon's functions run only inlined into run_neon (NEON enabled, checked on this CPU).
            unsafe {
                let keep = vcgtq_f32(y, vdupq_n_f32(0.0));
                vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), keep))
            }
        }
    }
}

/// One-lane scalar "registers", for tests: the kernels' own code on them is the reference their vector
/// paths must match bit for bit (`F`: whether `mul_add` rounds once, as on AVX2, AVX-512 and NEON, or
/// twice, as on the portable path).
#[cfg(test)]
#[derive(Clone, Copy)]
pub struct Scalar<const F: bool>;

#[cfg(test)]
impl<const F: bool> Path for Scalar<F> {
    type Wide = Self;
    type Narrow = Self;
    fn call<W: WithPath>(self, op: W) -> W::Output {
        op.run(self)
    }
}

#[cfg(test)]
impl<const F: bool> Simd for Scalar<F> {
    type V = f32;
    const LANES: usize = 1;
    const REGISTERS: usize = 16;
    const FUSED: bool = F;
    fn zero() -> f32 {
        0.0
    }
    fn splat(x: f32) -> f32 {
        x
    }
    unsafe fn load(p: *const f32) -> f32 {
        // SAFETY: the caller guarantees one readable float.
        unsafe { p.read_unaligned() }
    }
    unsafe fn store(p: *mut f32, v: f32) {
        // SAFETY: the caller guarantees one writable float.
        unsafe { p.write_unaligned(v) }
    }
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        if F {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }
    fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    fn relu(a: f32) -> f32 {
        if a > 0.0 {
            a
        } else {
            0.0
        }
    }
    fn keep_where_positive(a: f32, y: f32) -> f32 {
        if y > 0.0 {
            a
        } else {
            0.0
        }
    }
}
