//! The statistics of a results set: which run each run is compared with, and paired differences over
//! seeds with their 95% t intervals.

use super::{Group, PairResult};

use super::study::REFERENCE_RUN;

/// The run each run's paired differences are taken against (by index; a reference run is its own):
/// [`REFERENCE_RUN`] when the set has it; else the first run with a constant lr (`Fixed`) of the
/// same optimizer, a Schedule-Free run counting as its base optimizer (SGD or AdamW) and never as a
/// reference.
pub fn references(groups: &[Group]) -> Vec<Option<usize>> {
    if let Some(r) = groups.iter().position(|g| g.name == REFERENCE_RUN) {
        return vec![Some(r); groups.len()];
    }
    let is_constant =
        |g: &Group| g.pairs[0].spec.kind() == "Fixed" && !g.optimizer().is_schedule_free();
    groups
        .iter()
        .map(|g| {
            let kind = g.optimizer().base_kind();
            groups
                .iter()
                .position(|r| is_constant(r) && r.optimizer().base_kind() == kind)
        })
        .collect()
}

/// Whether every run's reference is the same run (the study's sets).
pub fn one_reference(refs: &[Option<usize>]) -> Option<usize> {
    let first = refs.first().copied().flatten()?;
    refs.iter().all(|&r| r == Some(first)).then_some(first)
}

/// Student's t quantile t(0.975, df) for df = 1..=30 (beyond 30 the normal 1.96 is within 4%).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// A paired difference over seeds: mean, the half-width of its 95% t interval (with >= 2 seeds), and
/// the number of seeds both runs have.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedDiff {
    pub mean: f64,
    pub half_width: Option<f64>,
    pub n: usize,
}

/// `f(run) - f(reference)` over the seeds both have (same seed: same initial weights and batches).
pub fn paired_diff(
    run: &Group,
    reference: &Group,
    f: impl Fn(&PairResult) -> f64,
) -> Option<PairedDiff> {
    let d: Vec<f64> = run
        .pairs
        .iter()
        .filter_map(|p| {
            let r = reference.pairs.iter().find(|r| r.seed == p.seed)?;
            Some(f(p) - f(r))
        })
        .collect();
    let n = d.len();
    if n == 0 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let half_width = (n >= 2).then(|| {
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        T_975.get(n - 2).copied().unwrap_or(1.96) * sd / (n as f64).sqrt()
    });
    Some(PairedDiff {
        mean,
        half_width,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stepping;

    fn pair(name: &str, seed: u64, acc: f32) -> PairResult {
        PairResult {
            name: name.into(),
            spec: serde_json::from_str(r#"{"kind":"Fixed"}"#).unwrap(),
            group_specs: Vec::new(),
            param_groups: Vec::new(),
            hyperparameters: Default::default(),
            step: Stepping::Batch,
            lr: 0.1,
            momentum: 0.0,
            optimizer: None,
            seed,
            epochs: Vec::new(),
            final_accuracy: acc,
            final_test_loss: 0.0,
            train_images_per_sec: 0.0,
            eval_images_per_sec: 0.0,
            wall_seconds: 0.0,
            train_images: 0,
            test_images: 0,
            batch_size: 1,
            fused: 1,
            trace_lr: Vec::new(),
            trace_momentum: Vec::new(),
            trace_loss: Vec::new(),
            lr_find: None,
            model: Default::default(),
            kernels: None,
            convolutions: Vec::new(),
        }
    }

    #[test]
    fn paired_difference_with_t_interval() {
        let (a, b) = (
            [pair("a", 1, 0.80), pair("a", 2, 0.82), pair("a", 3, 0.84)],
            [
                pair("b", 1, 0.78),
                pair("b", 2, 0.81),
                pair("b", 3, 0.80),
                pair("b", 4, 0.5),
            ],
        );
        fn g(v: &[PairResult]) -> Group<'_> {
            Group {
                name: v[0].name.clone(),
                pairs: v.iter().collect(),
            }
        }
        let d = paired_diff(&g(&a), &g(&b), |p| p.final_accuracy as f64).unwrap();
        // Differences 0.02, 0.01, 0.04 (seed 4 has no partner): mean 0.0233, sd 0.01528,
        // half-width t(0.975, 2) * sd / sqrt(3) = 4.303 * 0.008819 = 0.03795.
        assert_eq!(d.n, 3);
        assert!((d.mean - 0.023333).abs() < 1e-5, "{d:?}");
        assert!((d.half_width.unwrap() - 0.037950).abs() < 1e-4, "{d:?}");
        let one = paired_diff(&g(&a[..1]), &g(&b), |p| p.final_accuracy as f64).unwrap();
        assert_eq!((one.n, one.half_width), (1, None));
    }
}
