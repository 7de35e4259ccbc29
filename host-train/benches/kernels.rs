//! Time of each direct 3x3 kernel of the CPU trainer (`src/kernels/direct.rs`) on one 28x28 image, per layer of
//! a network and per kernel path this CPU has, with its rate in FLOP/s (criterion's "elem/s" here count
//! floating-point operations: 2 per multiply-add). One training image runs, per layer, the forward pass,
//! the weight gradient and (but the first layer) the input gradient; `scripts/fma-peak.sh` gives the
//! machine's peak to compare with.
//!
//!     cargo bench -p host-train --bench kernels [-- FILTER]
//!
//! `HOST_TRAIN_BENCH_CONV=64,32,16` benchmarks another network (the study's `32,16,8` by default).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use direct::{Conv, Epilogue, WeightGrad};
use host_train::kernels::{direct, simd};
use simd::{Isa, Path, WithPath};
use std::time::Duration;

const SIDE: usize = 28;

/// One kernel call on buffers of the right sizes.
struct Kernel<'a> {
    what: What,
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
            What::Forward | What::InputGrad => direct::conv(
                path,
                Conv {
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
                },
            ),
            What::WeightGrad => direct::weight_grad(
                path,
                WeightGrad {
                    inp: self.inp,
                    cin: self.cin,
                    h,
                    w,
                    g: self.wt,
                    cout: self.cout,
                    g_padded: true,
                    dw: self.out,
                },
            ),
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
    let values = |n: usize| {
        (0..n)
            .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
            .collect::<Vec<f32>>()
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
                    _ => values(9 * kin * kout),
                };
                let bias = values(kout);
                let relu_out = values(padded * kout);
                let mut out = vec![0.0; (padded * kout).max(9 * kin * kout)];
                group.bench_function(format!("layer{} {cin}->{cout} {name}", l + 1), |b| {
                    b.iter(|| {
                        isa.dispatch(Kernel {
                            what,
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
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
