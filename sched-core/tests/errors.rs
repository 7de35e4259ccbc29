//! Bad input gives a typed error naming the schedule, the parameter and the rule; never a panic.

use sched_core::*;

fn message<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    r.expect_err("should be rejected").to_string()
}

#[test]
fn constructors_name_the_parameter_and_rule() {
    let cases: Vec<(String, &str)> = vec![
        (
            message(StepLR::new(0, 0.1)),
            "StepLR: `step_size` must be >= 1",
        ),
        (
            message(StepLR::new(1, 0.0)),
            "StepLR: `gamma` must be > 0 and finite",
        ),
        (
            message(StepLR::new(1, f64::NAN)),
            "StepLR: `gamma` must be > 0 and finite",
        ),
        (
            message(ExponentialLR::new(-0.5)),
            "ExponentialLR: `gamma` must be > 0 and finite",
        ),
        (
            message(ConstantLR::new(1.5, 3)),
            "ConstantLR: `factor` must be in (0, 1]",
        ),
        (
            message(LinearLR::new(0.0, 1.0, 5)),
            "LinearLR: `start_factor` must be in (0, 1]",
        ),
        (
            message(LinearLR::new(0.5, 1.0, 0)),
            "LinearLR: `total_iters` must be >= 1",
        ),
        (
            message(PolynomialLR::new(0, 1.0)),
            "PolynomialLR: `total_iters` must be >= 1",
        ),
        (
            message(CosineAnnealingLR::new(0, 0.0)),
            "CosineAnnealingLR: `T_max` must be >= 1",
        ),
        (
            message(CosineAnnealingLR::new(10, -1.0)),
            "CosineAnnealingLR: `eta_min` must be >= 0 and finite",
        ),
        (
            message(CosineAnnealingWarmRestarts::new(0, 1, 0.0)),
            "CosineAnnealingWarmRestarts: `T_0` must be >= 1",
        ),
        (
            message(CosineAnnealingWarmRestarts::new(5, 0, 0.0)),
            "CosineAnnealingWarmRestarts: `T_mult` must be >= 1",
        ),
        (
            message(CyclicLR::new(0.1, 0.01)),
            "CyclicLR: `base_lr` must be <= max_lr",
        ),
        (
            message(OneCycleLR::new(0.1, 0)),
            "OneCycleLR: `total_steps` must be >= 1",
        ),
        (
            message(OneCycleLR::new(-0.1, 100)),
            "OneCycleLR: `max_lr` must be > 0 and finite",
        ),
        (
            message(SWALR::new(-0.01, 10, Anneal::Cos)),
            "SWALR: `swa_lr` must be >= 0 and finite",
        ),
        (
            message(MultiStepLR::new(&[1; 17], 0.1)),
            "MultiStepLR: `milestones` must have at most 16 entries",
        ),
        (
            message(LambdaLR::parse("0.95 ** epoc")),
            "invalid expression at byte 8: unknown name",
        ),
        (
            message(Scheduler::new(
                StepLR {
                    step_size: 0,
                    gamma: 0.1,
                },
                0.1,
                0.0,
            )),
            "StepLR: `step_size` must be >= 1",
        ),
        (
            message(Scheduler::new(StepLR::new(1, 0.5).unwrap(), f32::NAN, 0.0)),
            "optimizer: `lr` must be >= 0 and finite",
        ),
    ];
    for (got, want) in cases {
        assert!(got.starts_with(want), "got `{got}`, want `{want}...`");
    }
}

#[test]
fn one_cycle_rules() {
    let mut s = OneCycleLR::new(0.1, 100).unwrap();
    s.pct_start = 1.0;
    assert_eq!(
        message(Scheduler::new(s.clone(), 0.1, 0.0)),
        "OneCycleLR: `pct_start` must be in (0, 1)"
    );
    s.pct_start = 0.5;
    s.total_steps = Some(2); // 0.5 * 2 - 1 = 0: a zero-length first phase
    assert!(message(Scheduler::new(s.clone(), 0.1, 0.0)).contains("zero length"));
    s.total_steps = None;
    assert!(message(Scheduler::new(s, 0.1, 0.0)).contains("epochs and steps_per_epoch"));
}

#[test]
fn plateau_factor_must_be_below_one() {
    let s = ReduceLROnPlateau {
        factor: 1.0,
        ..Default::default()
    };
    assert_eq!(
        message(Scheduler::new(s, 0.1, 0.0)),
        "ReduceLROnPlateau: `factor` must be in (0, 1)"
    );
}

#[test]
fn composites_check_children_and_milestones() {
    let step: LeafSpec = StepLR::new(2, 0.5).unwrap().into();
    let seq = |children: &[LeafSpec], milestones: &[u32]| SequentialLR {
        schedulers: children.iter().cloned().collect(),
        milestones: milestones.iter().copied().collect(),
    };
    assert_eq!(
        message(Scheduler::new(seq(&[], &[]), 0.1, 0.0)),
        "SequentialLR: `schedulers` must hold at least one scheduler"
    );
    assert_eq!(
        message(Scheduler::new(
            seq(std::slice::from_ref(&step), &[3]),
            0.1,
            0.0
        )),
        "SequentialLR: `milestones` must have one entry fewer than schedulers"
    );
    assert_eq!(
        message(Scheduler::new(
            seq(&[step.clone(), step.clone(), step.clone()], &[5, 5]),
            0.1,
            0.0
        )),
        "SequentialLR: `milestones` must be strictly increasing and >= 1"
    );
    // A ReduceLROnPlateau in a composite needs the metric (PyTorch refuses it altogether).
    let plateau: LeafSpec = ReduceLROnPlateau::default().into();
    let mut chain = Scheduler::new(
        ChainedScheduler {
            schedulers: [plateau].into_iter().collect(),
        },
        0.1,
        0.0,
    )
    .unwrap();
    assert!(chain.needs_metric());
    assert_eq!(
        message(chain.step()),
        "ReduceLROnPlateau steps on a metric: call step_with_metric(metric)"
    );
    assert_eq!(chain.steps(), 0);
}

/// Nested compositions: what PyTorch 2.15 rejects is rejected up front, naming the child.
#[test]
fn nested_composites_are_checked_where_pytorch_checks_them() {
    let leaf = |s: LeafSpec| ChildSpec::from(s);
    let step: LeafSpec = StepLR::new(2, 0.5).unwrap().into();
    let chain = ChildSpec::from(ChainedScheduler {
        schedulers: [step.clone(), step.clone()].into_iter().collect(),
    });
    // A composite later in a SequentialLR: PyTorch raises NotImplementedError at the switch.
    let later = SequentialLR {
        schedulers: [leaf(step.clone()), chain.clone()].into_iter().collect(),
        milestones: [3].into_iter().collect(),
    };
    assert_eq!(
        message(Scheduler::new(later, 0.1, 0.0)),
        "SequentialLR: `schedulers[1]` must be a single scheduler: PyTorch restarts a later child with `_update_lr(0)`, which raises NotImplementedError for a composite; only the first may be one"
    );
    let third = SequentialLR {
        schedulers: [chain.clone(), leaf(step.clone()), chain.clone()]
            .into_iter()
            .collect(),
        milestones: [3, 6].into_iter().collect(),
    };
    assert!(message(Scheduler::new(third, 0.1, 0.0))
        .starts_with("SequentialLR: `schedulers[2]` must be a single scheduler"));
    // First is fine, and so is a composite anywhere in a ChainedScheduler or a SwitchLR.
    let first = SequentialLR {
        schedulers: [chain.clone(), leaf(step.clone())].into_iter().collect(),
        milestones: [3].into_iter().collect(),
    };
    assert!(Scheduler::new(first, 0.1, 0.0).is_ok());
    let switch = SwitchLR {
        schedulers: [leaf(step.clone()), chain.clone()].into_iter().collect(),
        milestones: [3].into_iter().collect(),
    };
    assert!(Scheduler::new(switch, 0.1, 0.0).is_ok());
    // A nested composite's own rules.
    let plateau: LeafSpec = ReduceLROnPlateau::default().into();
    let nested_plateau = ChainedScheduler {
        schedulers: [
            leaf(step.clone()),
            ChildSpec::from(SwitchLR {
                schedulers: [step.clone(), plateau].into_iter().collect(),
                milestones: [2].into_iter().collect(),
            }),
        ]
        .into_iter()
        .collect(),
    };
    // A nested ReduceLROnPlateau: a metric is needed once it is the one that steps.
    let mut nested = Scheduler::new(nested_plateau, 0.1, 0.0).unwrap();
    assert!(nested.needs_metric());
    assert!(nested.step().is_ok()); // the SwitchLR's StepLR steps
    assert_eq!(nested.step(), Err(Error::MetricRequired)); // its ReduceLROnPlateau would
    assert!(nested.step_with_metric(1.0).is_ok());
    let nested_milestones = ChainedScheduler {
        schedulers: [ChildSpec::from(SequentialLR {
            schedulers: [step.clone(), step.clone()].into_iter().collect(),
            milestones: Default::default(),
        })]
        .into_iter()
        .collect(),
    };
    assert_eq!(
        message(Scheduler::new(nested_milestones, 0.1, 0.0)),
        "SequentialLR: `milestones` must have one entry fewer than schedulers"
    );
    // At most MAX_LEAVES single schedulers in all: three chains of three are nine.
    let three = ChildSpec::from(ChainedScheduler {
        schedulers: [step.clone(), step.clone(), step.clone()]
            .into_iter()
            .collect(),
    });
    let nine = ChainedScheduler {
        schedulers: [three.clone(), three.clone(), three].into_iter().collect(),
    };
    assert_eq!(MAX_LEAVES, 8);
    assert_eq!(
        message(Scheduler::new(nine, 0.1, 0.0)),
        "ChainedScheduler: `schedulers` must hold at most MAX_LEAVES (8) single schedulers in all"
    );
}

/// The later-composite rule for a spec read from JSON (nesting deeper than two levels fails
/// while reading: `spec_errors_name_the_path_of_the_bad_value`).
#[cfg(feature = "serde")]
#[test]
fn a_later_composite_read_from_json_is_rejected_naming_its_path() {
    let json: Spec = serde_json::from_str(
        r#"{"kind":"SequentialLR","milestones":[4],"schedulers":[{"kind":"StepLR","step_size":2},{"kind":"SequentialLR","milestones":[2],"schedulers":[{"kind":"StepLR","step_size":2},{"kind":"StepLR","step_size":3}]}]}"#,
    )
    .unwrap();
    assert!(message(Scheduler::from_spec(&json, 0.1, 0.0))
        .starts_with("SequentialLR: `schedulers[1]` must be a single scheduler"));
}

#[test]
fn stepping_errors_leave_the_state_alone() {
    let mut s = Scheduler::new(OneCycleLR::new(0.1, 3).unwrap(), 0.1, 0.0).unwrap();
    for _ in 0..3 {
        s.step().unwrap();
    }
    let before = s.clone();
    assert_eq!(s.step(), Err(Error::PastTotalSteps { total_steps: 3 }));
    assert_eq!(s, before);

    let mut s = Scheduler::new(ExponentialLR::new(1e30).unwrap(), 1.0, 0.0).unwrap();
    s.step().unwrap();
    let before = s.clone();
    assert_eq!(
        s.step(),
        Err(Error::NonFiniteLr {
            schedule: "ExponentialLR"
        })
    );
    assert_eq!(s, before);

    let mut s = Scheduler::new(LambdaLR::parse("1 / (epoch - 2)").unwrap(), 1.0, 0.0).unwrap();
    s.step().unwrap();
    let before = s.clone();
    assert!(s.step().is_err());
    assert_eq!(s, before);

    // A nested child failing after others stepped: every counter goes back, the nested
    // composites' own counts included.
    let chain = ChainedScheduler {
        schedulers: [
            LeafSpec::from(StepLR::new(1, 0.5).unwrap()),
            LeafSpec::from(OneCycleLR::new(0.1, 3).unwrap()),
        ]
        .into_iter()
        .collect(),
    };
    let switch = SwitchLR {
        schedulers: [
            ChildSpec::from(ExponentialLR::new(0.9).unwrap()),
            ChildSpec::from(chain),
        ]
        .into_iter()
        .collect(),
        milestones: [1].into_iter().collect(),
    };
    let mut s = Scheduler::new(switch, 0.1, 0.0).unwrap();
    while s.step().is_ok() {}
    let before = s.clone();
    assert_eq!(s.step(), Err(Error::PastTotalSteps { total_steps: 3 }));
    assert_eq!(s, before);

    // No ChainedScheduler: the nested composites' counts go up only once their child stepped.
    let inner = SequentialLR {
        schedulers: [
            LeafSpec::from(StepLR::new(1, 0.5).unwrap()),
            LeafSpec::from(OneCycleLR::new(0.1, 3).unwrap()),
        ]
        .into_iter()
        .collect(),
        milestones: [2].into_iter().collect(),
    };
    let outer = SequentialLR {
        schedulers: [
            ChildSpec::from(inner),
            ChildSpec::from(StepLR::new(1, 0.5).unwrap()),
        ]
        .into_iter()
        .collect(),
        milestones: [100].into_iter().collect(),
    };
    let mut s = Scheduler::new(outer, 0.1, 0.0).unwrap();
    while s.step().is_ok() {}
    let before = s.clone();
    assert_eq!(s.step(), Err(Error::PastTotalSteps { total_steps: 3 }));
    assert_eq!(s, before);
    assert!(s.steps() < 100);

    let mut p = Scheduler::new(ReduceLROnPlateau::default(), 0.1, 0.0).unwrap();
    assert_eq!(p.step(), Err(Error::MetricRequired));
    let mut q = Scheduler::new(StepLR::new(1, 0.5).unwrap(), 0.1, 0.0).unwrap();
    assert_eq!(q.step_with_metric(1.0), Err(Error::MetricNotAccepted));
}

#[cfg(feature = "serde")]
#[test]
fn spec_errors_list_the_valid_kinds_and_keys() {
    let err = serde_json::from_str::<Spec>(r#"{"kind":"StepLr","step_size":2}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown variant `StepLr`")
            && err.contains("`StepLR`")
            && err.contains("`OneCycleLR`"),
        "{err}"
    );
    let err = serde_json::from_str::<Spec>(r#"{"kind":"StepLR","step_size":2,"gama":0.5}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown field `gama`, expected `step_size` or `gamma`"),
        "{err}"
    );
    let err = serde_json::from_str::<Spec>(r#"{"kind":"StepLR"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `step_size`"), "{err}");
    let err = serde_json::from_str::<Spec>(r#"{"kind":"LambdaLR","lr_lambda":"0.95 ** epoc"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown name"), "{err}");
    let err = serde_json::from_str::<Spec>(r#"{"step_size":2}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `kind`"), "{err}");
}

#[cfg(feature = "serde")]
#[test]
fn omitted_arguments_take_pytorchs_defaults() {
    let spec: Spec =
        serde_json::from_str(r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":100}"#).unwrap();
    let Spec::OneCycleLR(s) = spec else { panic!() };
    assert_eq!(
        (
            s.pct_start,
            s.div_factor,
            s.final_div_factor,
            s.base_momentum,
            s.max_momentum
        ),
        (0.3, 25.0, 1e4, 0.85, 0.95)
    );
    assert!(s.cycle_momentum && !s.three_phase && s.anneal_strategy == Anneal::Cos);
    let spec: Spec =
        serde_json::from_str(r#"{"kind":"CyclicLR","base_lr":0.001,"max_lr":0.01}"#).unwrap();
    let Spec::CyclicLR(s) = spec else { panic!() };
    assert_eq!(
        (
            s.step_size_up,
            s.step_size_down,
            s.mode,
            s.base_momentum,
            s.max_momentum
        ),
        (2000, None, CyclicMode::Triangular, 0.8, 0.9)
    );
    let spec: Spec = serde_json::from_str(r#"{"kind":"ReduceLROnPlateau"}"#).unwrap();
    assert_eq!(spec, Spec::ReduceLROnPlateau(ReduceLROnPlateau::default()));
    // A spec survives a round trip through its own serialization.
    let text = serde_json::to_string(&spec).unwrap();
    assert_eq!(serde_json::from_str::<Spec>(&text).unwrap(), spec);
}

/// A bad value's message starts with its path in the spec, as a new user needs it.
#[cfg(feature = "serde")]
#[test]
fn spec_errors_name_the_path_of_the_bad_value() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"kind":"CyclicLR","base_lr":0.001,"max_lr":0.01,"mode":"zigzag"}"#,
            "mode: unknown variant `zigzag`, expected one of `triangular`, `triangular2`, `exp_range`",
        ),
        (
            r#"{"kind":"StepLR","step_size":"three"}"#,
            "step_size: invalid type: string \"three\", expected an integer >= 1",
        ),
        (
            r#"{"kind":"StepLR","step_size":-2}"#,
            "step_size: invalid value: integer `-2`, expected an integer >= 1",
        ),
        (
            r#"{"kind":"ChainedScheduler","schedulers":[{"kind":"StepLR","step_size":2},{"kind":"ExponentialLR","gamma":"0.9"}]}"#,
            "schedulers[1].gamma: invalid type: string \"0.9\", expected a number",
        ),
        (
            r#"{"schedulers":[{"kind":"StepLR","step_size":2},{"kind":"ExponentialLR","gama":0.9}],"kind":"ChainedScheduler"}"#,
            "schedulers[1]: unknown field `gama`, expected `gamma`",
        ),
        (
            r#"{"kind":"SequentialLR","milestones":[-5],"schedulers":[{"kind":"StepLR","step_size":2}]}"#,
            "milestones[0]: invalid value: integer `-5`, expected a non-negative integer",
        ),
        (
            r#"{"kind":"WarmupLR","warmup_steps":5,"schedule":{"T_max":10.5,"kind":"CosineAnnealingLR"}}"#,
            "schedule.T_max: invalid type: floating point `10.5`, expected an integer >= 1",
        ),
        (
            r#"{"kind":"LambdaLR","lr_lambda":"0.95 ** epoch +"}"#,
            "lr_lambda: invalid expression at byte 15: unexpected end",
        ),
        (
            r#"{"kind":"StepLr","step_size":2}"#,
            "kind: unknown variant `StepLr`, expected one of `LambdaLR`",
        ),
        // Library kinds: the library's names, or the libraries.
        (
            r#"{"kind":"optax.cosine_schedule","init_value":0.1}"#,
            "kind: unknown variant `optax.cosine_schedule`, expected one of optax's: `optax.constant_schedule`, `optax.polynomial_schedule`,",
        ),
        (
            r#"{"kind":"mxnet.FactorScheduler","step":10}"#,
            "kind: unknown library `mxnet` in `mxnet.FactorScheduler`: the libraries here are `timm`, `transformers`, `optax`, `keras`, `fastai` (a kind is `library.name`, e.g. `optax.sgdr_schedule`)",
        ),
        (
            r#"{"kind":"fastai.combine_scheds","pcts":[0.5,0.5],"scheds":[{"kind":"fastai.SchedCos","start":0.1,"end":0.0},{"kind":"fastai.SchedCosine","start":0.1,"end":0.0}]}"#,
            "scheds[1].kind: unknown variant `fastai.SchedCosine`, expected one of `fastai.SchedLin`, `fastai.SchedCos`",
        ),
        (
            r#"{"kind":"keras.CosineDecay","initial_learning_rate":0.1,"decay_step":100}"#,
            "unknown field `decay_step`, expected one of `initial_learning_rate`, `decay_steps`, `alpha`, `warmup_target`, `warmup_steps`",
        ),
        (
            r#"{"kind":"optax.piecewise_constant_schedule","init_value":0.1,"boundaries_and_scales":{"ten":0.5}}"#,
            "boundaries_and_scales: key `ten` is not a step (a non-negative integer)",
        ),
        (
            r#"{"kind":"transformers.get_linear_schedule_with_warmup","num_warmup_steps":10}"#,
            "missing field `num_training_steps`",
        ),
        (
            r#"{"kind":"SwitchLR","milestones":[3],"schedulers":[{"kind":"StepLR","step_size":2},{"kind":"SwitchLR"}]}"#,
            "schedulers[1]: missing field `schedulers`",
        ),
        (
            r#"{"kind":"ChainedScheduler","schedulers":[{"kind":"SequentialLR","milestones":[2],"schedulers":[{"kind":"StepLR","step_size":2},{"kind":"ExponentialLR","gamma":"0.9"}]}]}"#,
            "schedulers[0].schedulers[1].gamma: invalid type: string \"0.9\", expected a number",
        ),
        (
            r#"{"kind":"ChainedScheduler","schedulers":[{"kind":"ChainedScheduler","schedulers":[{"kind":"StepLr","step_size":2}]}]}"#,
            "schedulers[0].schedulers[0].kind: unknown variant `StepLr`, expected one of `LambdaLR`",
        ),
        // Nesting deeper than two levels.
        (
            r#"{"kind":"SequentialLR","milestones":[5],"schedulers":[{"kind":"ChainedScheduler","schedulers":[{"kind":"StepLR","step_size":2},{"kind":"SwitchLR","milestones":[],"schedulers":[{"kind":"StepLR","step_size":2}]}]},{"kind":"StepLR","step_size":2}]}"#,
            "schedulers[0].schedulers[1]: `SwitchLR` cannot be nested here: composites nest two levels deep, so a composite inside another (or a WarmupLR's schedule) holds single schedulers",
        ),
        (
            r#"{"kind":"WarmupLR","warmup_steps":5,"schedule":{"kind":"ChainedScheduler","schedulers":[]}}"#,
            "schedule: `ChainedScheduler` cannot be nested here",
        ),
        (
            r#"{"kind":"OneCycleLR","max_lr":0.1,"total_steps":100,"cycle_momentum":"yes"}"#,
            "cycle_momentum: invalid type: string \"yes\", expected a boolean",
        ),
        (
            r#"{"kind":"Fixed","gamma":0.1}"#,
            "unknown field `gamma`, there are no fields",
        ),
        (r#"{"step_size":2}"#, "missing field `kind`"),
        (
            r#"{"kind":"StepLR","step_size":2,"gama":0.5}"#,
            "unknown field `gama`, expected `step_size` or `gamma`",
        ),
    ];
    for (json, want) in cases {
        let got = serde_json::from_str::<Spec>(json).unwrap_err().to_string();
        assert!(
            got.starts_with(want),
            "{json}\n got `{got}`\nwant `{want}...`"
        );
    }
    // The same through TOML's self-describing values and through a nested leaf read alone.
    let got = serde_json::from_str::<LeafSpec>(r#"{"step_size":"x","kind":"StepLR"}"#)
        .unwrap_err()
        .to_string();
    assert!(
        got.starts_with("step_size: invalid type: string \"x\""),
        "{got}"
    );
}

/// A restored state is input too: a composite made to contain itself is an error, not an
/// endless recursion.
#[cfg(feature = "serde")]
#[test]
fn a_state_whose_composite_contains_itself_is_an_error() {
    let step = LeafSpec::from(StepLR::new(2, 0.5).unwrap());
    let chain = ChainedScheduler {
        schedulers: [step.clone(), step.clone()].into_iter().collect(),
    };
    let seq = SequentialLR {
        schedulers: [ChildSpec::from(chain), ChildSpec::from(step)]
            .into_iter()
            .collect(),
        milestones: [5].into_iter().collect(),
    };
    let s = Scheduler::new(seq, 0.1, 0.0).unwrap();
    let mut state = serde_json::to_value(&s).unwrap();
    let root = &mut state["body"]["Composite"]["nodes"][1];
    assert_eq!(root["children"][0], serde_json::json!({"Node": 0}));
    root["children"][0] = serde_json::json!({"Node": 1});
    let mut bad: Scheduler = serde_json::from_value(state).unwrap();
    assert_eq!(message(bad.step()), "Scheduler: `state` is inconsistent");
}

/// Parameters may come before `kind`, and a spec read back equals the original.
#[cfg(feature = "serde")]
#[test]
fn kind_may_come_last_and_specs_round_trip() {
    let a: Spec = serde_json::from_str(
        r#"{"schedule":{"T_max":10,"kind":"CosineAnnealingLR"},"warmup_steps":5,"kind":"WarmupLR"}"#,
    )
    .unwrap();
    let b: Spec = serde_json::from_str(
        r#"{"kind":"WarmupLR","warmup_steps":5,"schedule":{"kind":"CosineAnnealingLR","T_max":10}}"#,
    )
    .unwrap();
    assert_eq!(a, b);
    let text = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<Spec>(&text).unwrap(), a);
    assert_eq!(
        serde_json::from_str::<Spec>(r#"{"kind":"Fixed"}"#).unwrap(),
        Spec::Fixed
    );
    // Nested: each child carries its own `kind`, single schedulers and composites alike.
    let nested: Spec = serde_json::from_str(
        r#"{"kind":"SequentialLR","milestones":[6],"schedulers":[{"kind":"ChainedScheduler","schedulers":[{"kind":"LinearLR","start_factor":0.25,"total_iters":5},{"kind":"ExponentialLR","gamma":0.9}]},{"kind":"CosineAnnealingLR","T_max":10}]}"#,
    )
    .unwrap();
    let text = serde_json::to_string(&nested).unwrap();
    assert!(text.contains(r#"{"kind":"ChainedScheduler","schedulers":[{"kind":"LinearLR""#));
    assert_eq!(serde_json::from_str::<Spec>(&text).unwrap(), nested);
    let mut code = String::new();
    nested.write_rust(&mut code).unwrap();
    assert!(code.starts_with("sched_core::Spec::from(sched_core::SequentialLR { schedulers: vec(&[sched_core::ChildSpec::ChainedScheduler(sched_core::ChainedScheduler { schedulers: vec(&[sched_core::LeafSpec::from(sched_core::LinearLR {"), "{code}");
}

/// The library kinds' own rules, checked where the library checks them (or where its formula
/// would fail), each naming the kind and the parameter.
#[cfg(feature = "libraries")]
#[test]
fn library_kinds_name_the_parameter_and_rule() {
    use sched_core::{fastai, keras, optax, timm, transformers};
    let build = |spec: Spec| message(Scheduler::from_spec(&spec, 0.1, 0.0));
    let cases = [
        (
            build(
                timm::CosineLRScheduler {
                    noise_range_t: Some(timm::NoiseRange::From(10)),
                    ..timm::CosineLRScheduler::with_defaults(100)
                }
                .into(),
            ),
            "timm.CosineLRScheduler: `noise_range_t` must be null: timm's noise draws from a torch.Generator, which sched-core does not reproduce",
        ),
        (
            build(timm::WSDLRScheduler::with_defaults(100, 200).into()),
            "timm.WSDLRScheduler: `decay_t` must be in (0, t_initial]",
        ),
        (
            build(transformers::WsdSchedule::with_defaults(10, 20).into()),
            "transformers.get_wsd_schedule: `num_stable_steps` or num_training_steps must be given",
        ),
        (
            build(transformers::CosineWithMinLrScheduleWithWarmup::with_defaults(10, 100).into()),
            "transformers.get_cosine_with_min_lr_schedule_with_warmup: `min_lr` one of min_lr or min_lr_rate must be set",
        ),
        (
            build(
                transformers::PolynomialDecayScheduleWithWarmup {
                    lr_end: 0.5,
                    ..transformers::PolynomialDecayScheduleWithWarmup::with_defaults(10, 100)
                }
                .into(),
            ),
            "transformers.get_polynomial_decay_schedule_with_warmup: `lr_end` must be smaller than the initial lr",
        ),
        (
            build(optax::WarmupCosineDecaySchedule::with_defaults(0.0, 0.1, 10, 10).into()),
            "optax.warmup_cosine_decay_schedule: `decay_steps` must exceed warmup_steps",
        ),
        (
            build(optax::SgdrSchedule::with_defaults(heapless::Vec::new()).into()),
            "optax.sgdr_schedule: `cosine_kwargs` must hold at least one schedule",
        ),
        (
            build(fastai::SchedCos::with_defaults(0.1, 0.0).into()),
            "fastai.SchedCos: `total_steps` must be given: fastai's schedules are functions of pos = t / total_steps",
        ),
        (
            build(
                fastai::CombineScheds {
                    total_steps: Some(10),
                    ..fastai::CombineScheds::with_defaults(
                        heapless::Vec::from_slice(&[0.3, 0.6]).unwrap(),
                        heapless::Vec::from_slice(&[
                            fastai::Sched::with_defaults(fastai::Annealing::Cos, 0.1, 0.0),
                            fastai::Sched::with_defaults(fastai::Annealing::Lin, 0.1, 0.0),
                        ])
                        .unwrap(),
                    )
                }
                .into(),
            ),
            "fastai.combine_scheds: `pcts` must add up to 1 (fastai asserts sum(pcts) == 1.)",
        ),
        (
            build(
                keras::PiecewiseConstantDecay::with_defaults(
                    heapless::Vec::from_slice(&[10]).unwrap(),
                    heapless::Vec::from_slice(&[0.1]).unwrap(),
                )
                .into(),
            ),
            "keras.PiecewiseConstantDecay: `values` must have one entry more than boundaries",
        ),
    ];
    for (got, want) in cases {
        assert!(got.starts_with(want), "got `{got}`\nwant `{want}...`");
    }
}
