//! results.md: the protocol, the table of runs (mean ± std over seeds, paired differences to each
//! run's reference), the LR range tests, provenance and the list of plots.

use crate::optim::Optimizer;
use crate::results::set::ResultsSet;
use crate::results::stats::{one_reference, paired_diff, references, PairedDiff};
use crate::results::study::study_accuracy;
use crate::results::{Group, PairResult};
use sched_core::Suggestion;
use std::fmt::Write as _;

/// results.md of a results set whose runs are `groups`.
pub fn markdown(groups: &[Group], set: &ResultsSet) -> String {
    let table = Table::of(groups);
    let mut s = String::new();
    intro(&mut s, set, &table);
    let _ = writeln!(s, "| {} |", table.header().join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(table.header().len()));
    for i in 0..groups.len() {
        let _ = writeln!(s, "| {} |", table.row(i).join(" | "));
    }
    totals(&mut s, groups, set);
    lr_find_table(&mut s, groups);
    provenance(&mut s, set);
    let _ = writeln!(
        s,
        "\nPlots ({}): {}.",
        crate::plot::FORMAT,
        crate::plot::names(groups)
            .iter()
            .map(|n| format!("`plots/{n}.{}`", crate::plot::FORMAT))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

/// `mean ± std` with `digits` decimals (the mean alone for one seed).
fn pm(mean: f64, std: Option<f64>, digits: usize) -> String {
    match std {
        Some(s) => format!("{mean:.digits$} ± {s:.digits$}"),
        None => format!("{mean:.digits$}"),
    }
}

/// A value as JSON text (`null` for `None`, `[42,43]` for seeds), as results.md has always shown them.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The table of runs, with only the columns that have something to say for this set.
struct Table<'a> {
    groups: &'a [Group<'a>],
    /// Each run's reference run (by index), for the paired differences.
    refs: Vec<Option<usize>>,
    has_reference: bool,
    max_seeds: usize,
    has_study: bool,
    /// Any run trains with another optimizer than plain SGD.
    optimizers: bool,
    validation: bool,
}

impl<'a> Table<'a> {
    fn of(groups: &'a [Group<'a>]) -> Self {
        let refs = references(groups);
        let pairs = || groups.iter().flat_map(|g| g.pairs.iter());
        Self {
            groups,
            has_reference: refs.iter().any(Option::is_some),
            refs,
            max_seeds: groups.iter().map(|g| g.pairs.len()).max().unwrap_or(0),
            has_study: groups.iter().any(|g| study_accuracy(&g.name).is_some()),
            optimizers: pairs()
                .any(|p| p.optimizer.is_some_and(|o| !matches!(o, Optimizer::Sgd(_)))),
            validation: pairs().any(|p| p.final_val_accuracy().is_some()),
        }
    }

    fn header(&self) -> Vec<&'static str> {
        let mut header = vec!["#", "run"];
        if self.optimizers {
            header.extend(["optimizer", "lr"]);
        }
        header.extend(["steps per", "seeds", "final test accuracy"]);
        if self.has_reference {
            header.push(if self.max_seeds >= 2 {
                "Δ vs Constant (95% CI)"
            } else {
                "Δ vs Constant"
            });
        }
        header.extend(["best epoch accuracy", "final test loss"]);
        if self.validation {
            header.push("final validation accuracy");
        }
        if self.has_study {
            header.push("study");
        }
        header.extend([
            "train img/s per model",
            "eval img/s per model",
            "trained with",
        ]);
        header
    }

    /// Run `i`'s paired difference of final accuracy to its reference.
    fn diff(&self, i: usize) -> String {
        let g = &self.groups[i];
        let reference = self.refs[i].map(|r| &self.groups[r]);
        match reference.and_then(|r| paired_diff(g, r, |p| p.final_accuracy as f64)) {
            _ if self.refs[i] == Some(i) => "(reference)".to_string(),
            Some(PairedDiff {
                mean,
                half_width: Some(h),
                ..
            }) => format!("{mean:+.4} [{:+.4}, {:+.4}]", mean - h, mean + h),
            Some(d) => format!("{:+.4}", d.mean),
            None => "-".to_string(),
        }
    }

    fn row(&self, i: usize) -> Vec<String> {
        let g = &self.groups[i];
        let (acc, acc_sd) = g.mean_std(|r| r.final_accuracy as f64);
        let (best, best_sd) = g.mean_std(|r| {
            r.epochs
                .iter()
                .map(|e| e.test_accuracy)
                .fold(0f32, f32::max) as f64
        });
        let (loss, loss_sd) = g.mean_std(|r| r.final_test_loss as f64);
        let mut row = vec![(i + 1).to_string(), g.name.clone()];
        if self.optimizers {
            row.extend([g.optimizer().kind().to_string(), g.pairs[0].lr.to_string()]);
        }
        let step = format!("{:?}", g.pairs[0].step).to_lowercase();
        row.extend([step, g.pairs.len().to_string(), pm(acc, acc_sd, 4)]);
        if self.has_reference {
            row.push(self.diff(i));
        }
        row.extend([pm(best, best_sd, 4), pm(loss, loss_sd, 3)]);
        if self.validation {
            let (val, val_sd) = g.mean_std(|r| r.final_val_accuracy().map_or(f64::NAN, f64::from));
            row.push(pm(val, val_sd, 4));
        }
        if self.has_study {
            row.push(study_accuracy(&g.name).map_or("-".to_string(), |a| format!("{a:.4}")));
        }
        let (train, _) = g.mean_std(|r| r.train_images_per_sec);
        let (eval, _) = g.mean_std(|r| r.eval_images_per_sec);
        row.extend([
            format!("{train:.0}"),
            format!("{eval:.0}"),
            match g.pairs.iter().map(|p| p.fused).max().unwrap_or(1) {
                1 => "alone".to_string(),
                k => format!("{k} models fused"),
            },
        ]);
        row
    }
}

/// The title, the protocol and what the columns mean.
fn intro(s: &mut String, set: &ResultsSet, table: &Table) {
    let p = &set.protocol;
    let _ = writeln!(s, "# Fashion-MNIST LR-schedule benchmark (host-train)\n");
    let _ = writeln!(
        s,
        "Protocol: {} epochs, {} training / {} test images, batch {}, seeds {}; device {}, {} ({} threads).\n",
        p.epochs, json_text(&p.train_images), json_text(&p.test_images), json_text(&p.batch_size), json_text(&p.seeds), set.device,
        set.machine.cpu, set.machine.threads
    );
    let _ = writeln!(
        s,
        "Final test accuracy is the mean ± sample standard deviation over the seeds{}.\n",
        if table.has_study {
            "; \"study\" is the study's single run (PyTorch, 15 epochs, full data)"
        } else {
            ""
        }
    );
    if table.has_reference {
        let interval = if table.max_seeds >= 2 {
            "mean and 95% t interval"
        } else {
            "one seed, so no interval"
        };
        let to = match one_reference(&table.refs) {
            Some(r) => format!("the run \"{}\"", table.groups[r].name),
            None => "the run with a constant lr of the same optimizer (a Schedule-Free run: of its base optimizer, SGD or AdamW)".to_string(),
        };
        let _ = writeln!(s, "\"Δ vs Constant\" is the paired difference of final test accuracy to {to} over the seeds both have (a seed fixes the initial weights and the batches), {interval}.\n");
    }
}

/// The total time, and the pairs that have not finished.
fn totals(s: &mut String, groups: &[Group], set: &ResultsSet) {
    // The pairs of a fused group share its wall time: each counts 1/K of it.
    let wall: f64 = groups
        .iter()
        .flat_map(|g| g.pairs.iter())
        .map(|p| p.wall_seconds / p.fused.max(1) as f64)
        .sum();
    let _ = writeln!(
        s,
        "\nTotal training + evaluation time: {:.1} min. A fused group of K models trains K times the images per second of one column entry.",
        wall / 60.0
    );
    if !set.missing.is_empty() {
        let missing: Vec<String> = set
            .missing
            .iter()
            .map(|m| format!("{} (seed {})", m.name, m.seed))
            .collect();
        let _ = writeln!(s, "\nNot finished (yet): {}.", missing.join(", "));
    }
}

/// The range tests of the runs that found their lr, with every suggestion.
fn lr_find_table(s: &mut String, groups: &[Group]) {
    let found: Vec<&PairResult> = groups
        .iter()
        .flat_map(|g| g.pairs.iter().copied())
        .filter(|p| p.lr_find.is_some())
        .collect();
    if found.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## LR range test\n\nRuns with `lr = \"find\"` or `max_lr = \"find\"` trained at the suggestion of an LR range test (fastai's `lr_find`) from their seed's initial weights and first batches (the curves are in results.json).\n");
    let rules = Suggestion::NAMES.join(" | ");
    let _ = writeln!(
        s,
        "| run | seed | set | rule | found lr | range test | {rules} | final test accuracy |"
    );
    let _ = writeln!(s, "|{}", "---|".repeat(7 + Suggestion::NAMES.len()));
    for p in found {
        let Some(f) = &p.lr_find else { continue };
        let t = &f.range_test;
        let suggested: Vec<String> = Suggestion::NAMES
            .iter()
            .map(|name| {
                t.suggestions
                    .get(*name)
                    .copied()
                    .flatten()
                    .map_or("-".to_string(), |s| format!("{:.3e}", s.lr))
            })
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3e} | {} steps, {:e} to {:e}, momentum {}, {} | {} | {:.4} |",
            p.name,
            p.seed,
            f.target,
            f.rule,
            f.lr,
            t.lr.len(),
            t.start_lr,
            t.end_lr,
            t.momentum,
            t.stopped,
            suggested.join(" | "),
            p.final_accuracy
        );
    }
}

/// Which commits of host-train trained the set, or what is known of it.
fn provenance(s: &mut String, set: &ResultsSet) {
    let mut builds: Vec<String> = Vec::new();
    for b in set.runs.iter().flat_map(|r| r.builds.iter().flatten()) {
        let dirty = if b.dirty {
            " (with uncommitted changes)"
        } else {
            ""
        };
        let text = format!("{}{dirty}", b.commit);
        if !builds.contains(&text) {
            builds.push(text);
        }
    }
    let _ = match (builds.is_empty(), set.provenance.as_deref()) {
        (false, _) => writeln!(
            s,
            "\nTrained by host-train at commit {}.",
            builds.join(", ")
        ),
        (true, Some(p)) => writeln!(s, "\nProvenance: {p}"),
        (true, None) => writeln!(s, "\nThe commit that trained these runs was not recorded."),
    };
}
