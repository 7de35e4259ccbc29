//! The optimizers' parsing, errors and formulas.

use super::*;
use anyhow::Result;

fn parse(text: &str) -> Result<Optimizer> {
    Optimizer::from_toml(toml::from_str::<toml::Table>(text).unwrap().into())
}

#[test]
fn defaults_are_the_references() {
    assert_eq!(
        parse("kind = \"AdamW\"").unwrap(),
        Optimizer::AdamW(AdamW {
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false
        })
    );
    assert_eq!(parse("kind = \"SGD\"").unwrap(), Optimizer::default());
    let sf = parse("kind = \"SGDScheduleFree\"\nwarmup_steps = 100").unwrap();
    assert_eq!(sf.momentum(), 0.9);
    assert!(sf.is_schedule_free());
}

#[test]
fn bad_optimizers_name_the_field_and_the_rule() {
    let err = |t: &str| parse(t).unwrap_err().to_string();
    assert_eq!(
        err("kind = \"Adam\""),
        "`optimizer.kind` = \"Adam\": unknown optimizer; expected one of SGD, AdamW, SGDScheduleFree, AdamWScheduleFree, RMSprop, RAdam"
    );
    assert!(err("kind = \"AdamW\"\nbeta = [0.9, 0.99]").contains(
        "unknown field `beta`, expected one of `betas`, `eps`, `weight_decay`, `amsgrad`"
    ));
    assert_eq!(
        err("kind = \"AdamW\"\nbetas = [0.9, 1.0]"),
        "`optimizer.betas[1]` must be in [0, 1); got 1"
    );
    assert_eq!(
        err("kind = \"AdamW\"\neps = -1e-8"),
        "`optimizer.eps` must be >= 0 and finite; got -0.00000001"
    );
    assert!(err("kind = \"SGD\"\nnesterov = true")
        .starts_with("`optimizer.nesterov` = true requires a momentum > 0 and zero dampening"));
    assert_eq!(
        err("kind = \"SGDScheduleFree\"\nmomentum = 0.0"),
        "`optimizer.momentum` must be in (0, 1); got 0"
    );
    assert!(err("momentum = 0.9").starts_with("`optimizer.kind` is missing"));
}

/// Plain SGD with momentum as PyTorch documents it, on a quadratic, against the update written
/// out by hand; and the chunks of a gradient are summed before the update.
#[test]
fn sgd_follows_its_formula() {
    let config = Optimizer::Sgd(Sgd {
        momentum: 0.5,
        weight_decay: 0.1,
        ..Sgd::default()
    });
    let mut opt = ModelOptimizer::new(config, State::default(), 2);
    let at = |lr, momentum| {
        [GroupStep {
            lr,
            momentum,
            optimizer: config,
        }]
    };
    let mut p = [1.0f32, -2.0];
    let (mut pe, mut buf) = ([1.0f32, -2.0], [0.0f32; 2]);
    for step in 0..3 {
        let g = [2.0 * p[0], 2.0 * p[1]];
        // Two chunks of the same gradient's halves.
        let parts = [g[0] / 2.0, g[1] / 2.0, g[0] / 2.0, g[1] / 2.0];
        opt.step(&mut p, &parts, &at(0.1, 0.5));
        for i in 0..2 {
            let d = 2.0 * pe[i] + 0.1 * pe[i];
            buf[i] = if step == 0 { d } else { buf[i] * 0.5 + d };
            pe[i] -= 0.1 * buf[i];
        }
    }
    assert_eq!(p, pe);
}

/// Schedule-Free with constant lr and no warmup: y is the interpolation of x (the uniform
/// average of the z's) and z, which eval() recovers.
#[test]
fn schedule_free_eval_recovers_the_average() {
    let beta = 0.9f32;
    let config = Optimizer::SgdScheduleFree(SgdScheduleFree::default());
    let mut opt = ModelOptimizer::new(config, State::default(), 1);
    let at = |lr| {
        [GroupStep {
            lr,
            momentum: beta,
            optimizer: config,
        }]
    };
    let mut p = [1.0f32];
    opt.set_mode(&mut p, &at(0.1), true);
    let mut zs = vec![1.0f64];
    for _ in 0..20 {
        let g = [2.0 * p[0]];
        opt.step(&mut p, &g, &at(0.1));
        zs.push(opt.groups[0].state.buffers[0].as_ref().unwrap()[0] as f64);
    }
    // x_T is the average of z_1..z_T with equal weights (constant lr, r = 0), and
    // y = (1 - beta) z + beta x: eval() turns y into x.
    let x = zs.iter().skip(1).sum::<f64>() / 20.0;
    let mut y = p;
    opt.set_mode(&mut y, &at(0.1), false);
    assert!(!opt.groups[0].state.scalars.train_mode);
    assert!(
        (y[0] as f64 - x).abs() < 1e-5 * x.abs().max(1e-3),
        "{} vs {x}",
        y[0]
    );
    opt.set_mode(&mut y, &at(0.1), true);
    assert!((y[0] - p[0]).abs() < 1e-6);
}
