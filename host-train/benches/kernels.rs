//! Time of each 3x3 kernel of the CPU trainer on one 28x28 image, direct (`src/kernels/direct.rs`) and
//! Winograd F(2x2, 3x3) (`src/kernels/winograd.rs`, where it applies), per layer of a network and per
//! kernel path this CPU has, with its rate in FLOP/s (criterion's "elem/s" here count
//! floating-point operations of the direct convolution: 2 per multiply-add, for both, so that the
//! rates compare as speeds). One training image runs, per layer, the forward pass,
//! the weight gradient and (but the first layer) the input gradient; `scripts/fma-peak.sh` gives the
//! machine's peak to compare with.
//!
//!     cargo bench -p host-train --bench kernels [-- FILTER]
//!
//! `HOST_TRAIN_BENCH_CONV=64,32,16` benchmarks another network (the study's `32,16,8` by default).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use direct::{Conv, Epilogue, WeightGrad};
use host_train::kernels::{direct, lines::Lines, simd, winograd};
use simd::{Isa, Path, WithPath};
use std::time::Duration;
use winograd::Tiling;

const SIDE: usize = 28;

/// One kernel call on buffers of the right sizes.
struct Kernel<'a> {
    what: What,
    /// The Winograd tiling and its buffers, or `None` for the direct kernels.
    winograd: Option<(Tiling, &'a mut winograd::Workspace)>,
    cin: usize,
    cout: usize,
    /// Padded input (`cin` channels).
    inp: &'a [f32],
    wt: &'a [f32],
    bias: &'a [f32],
    /// The input gradient's ReLU output (padded, `cout` channels).
    relu_out: &'a [f32],
    /// Padded output or gradient (`cout` channels).
    out: &'a mut [f32],
}

#[derive(Clone, Copy)]
enum What {
    Forward,
    InputGrad,
    WeightGrad,
}

impl WithPath for Kernel<'_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, path: P) {
        let (h, w) = (SIDE, SIDE);
        match self.what {
            What::Forward | What::InputGrad => {
                let c = Conv {
                    inp: self.inp,
                    cin: self.cin,
                    h,
                    w,
                    wt: self.wt,
                    bias: matches!(self.what, What::Forward).then_some(self.bias),
                    epilogue: match self.what {
                        What::Forward => Epilogue::Relu,
                        _ => Epilogue::ReluGrad(self.relu_out),
                    },
                    out: self.out,
                    cout: self.cout,
                    out_padded: true,
                };
                match self.winograd {
                    Some((tiling, work)) => winograd::conv(path, tiling, c, work),
                    None => direct::conv(path, c),
                }
            }
            What::WeightGrad => {
                let g = WeightGrad {
                    inp: self.inp,
                    cin: self.cin,
                    h,
                    w,
                    g: self.wt,
                    cout: self.cout,
                    g_padded: true,
                    dw: self.out,
                };
                match self.winograd {
                    Some((tiling, work)) => winograd::weight_grad(path, tiling, g, work),
                    None => direct::weight_grad(path, g),
                }
            }
        }
    }
}

fn conv_list() -> Vec<usize> {
    match std::env::var("HOST_TRAIN_BENCH_CONV") {
        Ok(s) => s
            .split(',')
            .map(|c| {
                c.trim()
                    .parse()
                    .expect("HOST_TRAIN_BENCH_CONV: channel counts like 32,16,8")
            })
            .collect(),
        Err(_) => vec![32, 16, 8],
    }
}

fn kernels(c: &mut Criterion) {
    let conv = conv_list();
    let padded = (SIDE + 2) * (SIDE + 2);
    // On cache lines, as the trainer's buffers.
    let values = |n: usize| {
        let mut v = Lines::zeros(n);
        for (i, x) in v.iter_mut().enumerate() {
            *x = ((i * 7919) % 2001) as f32 / 1000.0 - 1.0;
        }
        v
    };
    for isa in Isa::ALL {
        if let Some(f) = isa.missing_feature() {
            eprintln!("{}: skipped (this CPU lacks {f})", isa.name());
            continue;
        }
        let mut group = c.benchmark_group(isa.name());
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        for (l, &cout) in conv.iter().enumerate() {
            let cin = if l == 0 { 1 } else { conv[l - 1] };
            group.throughput(Throughput::Elements(
                (2 * 9 * cin * cout * SIDE * SIDE) as u64,
            ));
            let mut whats = vec![
                ("forward", What::Forward),
                ("weight-grad", What::WeightGrad),
            ];
            if l > 0 {
                whats.push(("input-grad", What::InputGrad));
            }
            for (name, what) in whats {
                // The input gradient is a convolution of the output gradient: cout channels in, cin out.
                let (kin, kout) = match what {
                    What::InputGrad => (cout, cin),
                    _ => (cin, cout),
                };
                let inp = values(padded * kin);
                let wt = match what {
                    What::WeightGrad => values(padded * kout),
                    _ => values(Tiling::F4.domain_len(kin, kout)),
                };
                let bias = values(kout);
                let relu_out = values(padded * kout);
                let mut out = Lines::zeros((padded * kout).max(Tiling::F4.domain_len(kin, kout)));
                let mut work = winograd::Workspace::default();
                let mut algos = vec![None];
                if Tiling::for_layer(kin, kout, SIDE, SIDE).is_some() {
                    algos.extend([Some(Tiling::F2), Some(Tiling::F4)]);
                }
                for tiling in algos {
                    let algo = tiling.map_or("direct", Tiling::name);
                    let id = format!("layer{} {cin}->{cout} {name} {algo}", l + 1);
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            isa.dispatch(Kernel {
                                what,
                                winograd: tiling.map(|t| (t, &mut work)),
                                cin: kin,
                                cout: kout,
                                inp: &inp,
                                wt: &wt,
                                bias: &bias,
                                relu_out: &relu_out,
                                out: &mut out,
                            })
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
