//! `host-train report`: merges result folders (e.g. shards) into one results set, and writes the
//! results files `bench` writes: results.json, results.csv, trace.csv, results.md and plots.

use crate::store::{self, read_pair, read_plan, Group, PairResult};
use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(after_help = "Example:
  host-train report runs/sweep/shard0 runs/sweep/shard1 --out runs/sweep/all")]
pub struct ReportArgs {
    /// Bench output folders (each with bench.json and runs/).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged results (default: the folder itself when there is one).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Skip the plots (tables only).
    #[arg(long)]
    no_plots: bool,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let out = match (&args.out, args.dirs.len()) {
        (Some(o), _) => o.clone(),
        (None, 1) => args.dirs[0].clone(),
        (None, _) => bail!(
            "report: give --out DIR to merge {} folders",
            args.dirs.len()
        ),
    };
    let n = write_all(&args.dirs, &out, !args.no_plots)?;
    eprintln!(
        "report: {n} result(s) -> {}",
        out.join("results.md").display()
    );
    Ok(())
}

/// The study's single-run final accuracies, by run name.
pub fn study_accuracy(name: &str) -> Option<f32> {
    Some(match name {
        "Constant Learning Rate" => 0.8160,
        "Step LR Scheduler Epochs" => 0.8083,
        "Step LR Scheduler Batches" => 0.7762,
        "MultiStep LR Scheduler Epochs" => 0.8143,
        "Multiplicative LR Scheduler Epochs" => 0.8215,
        "Lambda LR Scheduler Epochs" => 0.8172,
        "Exponential LR Scheduler Epochs" => 0.7754,
        "One Cycle LR Scheduler Batches" => 0.8610,
        "Cyclic LR Scheduler Batches" => 0.8564,
        "Cosine Annealing LR Scheduler Epochs" => 0.8062,
        "Cosine Annealing With Warm Restarts Scheduler Epochs" => 0.8142,
        "Reduce LR On Plateau Scheduler" => 0.8044,
        "Combining Multiple LR Schedulers Epochs V1" => 0.7937,
        "Combining Multiple LR Schedulers Epochs V2" => 0.8285,
        _ => return None,
    })
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "threads": rayon::current_num_threads(),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "avx512f": is_x86_feature_detected_avx512(),
    })
}

fn is_x86_feature_detected_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Reads every finished pair under `dirs` and writes the results set to `out`; returns the pair count.
pub fn write_all(dirs: &[PathBuf], out: &Path, plots: bool) -> Result<usize> {
    let mut plans = Vec::new();
    let mut results: Vec<PairResult> = Vec::new();
    let mut seen = BTreeSet::new();
    for dir in dirs {
        let plan = read_plan(dir)?;
        let runs_dir = dir.join("runs");
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(&runs_dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => Vec::new(),
        };
        entries.sort();
        for e in entries {
            if store::result_path(&e).exists() {
                let r = read_pair(&e)?;
                if seen.insert((r.name.clone(), r.seed)) {
                    results.push(r);
                } else {
                    eprintln!(
                        "report: {} seed {} appears twice; kept the first",
                        r.name, r.seed
                    );
                }
            }
        }
        plans.push(plan);
    }
    // The config's run order, then seed.
    let mut order: Vec<String> = Vec::new();
    for p in &plans {
        for r in &p.runs {
            if !order.contains(r) {
                order.push(r.clone());
            }
        }
    }
    let pos = |n: &str| order.iter().position(|o| o == n).unwrap_or(usize::MAX);
    results.sort_by(|a, b| (pos(&a.name), &a.name, a.seed).cmp(&(pos(&b.name), &b.name, b.seed)));
    let mut missing = Vec::new();
    for p in &plans {
        for r in &p.runs {
            for s in &p.seeds {
                if !seen.contains(&(r.clone(), *s)) && !missing.contains(&(r.clone(), *s)) {
                    missing.push((r.clone(), *s));
                }
            }
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;

    // results.json (without the per-step traces: trace.csv has them).
    let lean: Vec<PairResult> = results
        .iter()
        .map(|r| PairResult {
            trace_lr: Vec::new(),
            trace_momentum: Vec::new(),
            trace_loss: Vec::new(),
            ..r.clone()
        })
        .collect();
    let plan0 = &plans[0];
    let doc = json!({
        "runs": lean,
        "machine": machine(),
        "device": plan0.device,
        "versions": {"host-train": env!("CARGO_PKG_VERSION"), "candle": "0.11"},
        "protocol": {
            "epochs": plan0.epochs,
            "train_images": results.first().map(|r| r.train_images),
            "test_images": results.first().map(|r| r.test_images),
            "batch_size": results.first().map(|r| r.batch_size),
            "seeds": plans.iter().flat_map(|p| p.seeds.clone()).collect::<BTreeSet<_>>(),
        },
        "sources": dirs,
        "missing": missing.iter().map(|(n, s)| json!({"name": n, "seed": s})).collect::<Vec<_>>(),
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&doc)?,
    )?;

    let mut csv = String::from("name,seed,epoch,train_loss,test_loss,test_accuracy,lr,momentum\n");
    let mut trace = String::from("name,seed,step,lr,momentum\n");
    for r in &results {
        for e in &r.epochs {
            writeln!(
                csv,
                "\"{}\",{},{},{},{},{},{:e},{}",
                r.name,
                r.seed,
                e.epoch,
                e.train_loss,
                e.test_loss,
                e.test_accuracy,
                e.lr,
                e.momentum
            )?;
        }
        for (i, (lr, m)) in r.trace_lr.iter().zip(&r.trace_momentum).enumerate() {
            writeln!(
                trace,
                "\"{}\",{},{},{:.8e},{:.8e}",
                r.name, r.seed, i, lr, m
            )?;
        }
    }
    std::fs::write(out.join("results.csv"), csv)?;
    std::fs::write(out.join("trace.csv"), trace)?;

    let mut groups: Vec<Group> = Vec::new();
    for r in &results {
        match groups.iter_mut().find(|g| g.name == r.name) {
            Some(g) => g.pairs.push(r),
            None => groups.push(Group {
                name: r.name.clone(),
                pairs: vec![r],
            }),
        }
    }
    std::fs::write(out.join("results.md"), markdown(&groups, &doc, &missing))?;
    if plots && !groups.is_empty() {
        crate::plot::all(&out.join("plots"), &groups)?;
    }
    Ok(results.len())
}

fn pm(mean: f64, std: Option<f64>, digits: usize) -> String {
    match std {
        Some(s) => format!("{mean:.digits$} ± {s:.digits$}"),
        None => format!("{mean:.digits$}"),
    }
}

fn markdown(groups: &[Group], doc: &serde_json::Value, missing: &[(String, u64)]) -> String {
    let p = &doc["protocol"];
    let mut s = String::new();
    let _ = writeln!(s, "# Fashion-MNIST LR-schedule benchmark (host-train)\n");
    let _ = writeln!(
        s,
        "Protocol: {} epochs, {} training / {} test images, batch {}, seeds {}; device {}, {} ({} threads).\n",
        p["epochs"], p["train_images"], p["test_images"], p["batch_size"], p["seeds"], doc["device"].as_str().unwrap_or("?"),
        doc["machine"]["cpu"].as_str().unwrap_or("?"), doc["machine"]["threads"]
    );
    let _ = writeln!(s, "Final test accuracy is the mean ± sample standard deviation over the seeds; \"study\" is the study's single run (PyTorch, 15 epochs, full data).\n");
    let _ = writeln!(s, "| # | run | steps per | seeds | final test accuracy | best epoch accuracy | final test loss | study | train img/s | eval img/s |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for (i, g) in groups.iter().enumerate() {
        let (acc, acc_sd) = g.mean_std(|r| r.final_accuracy as f64);
        let (best, best_sd) = g.mean_std(|r| {
            r.epochs
                .iter()
                .map(|e| e.test_accuracy)
                .fold(0f32, f32::max) as f64
        });
        let (loss, loss_sd) = g.mean_std(|r| r.final_test_loss as f64);
        let (tr, _) = g.mean_std(|r| r.train_images_per_sec);
        let (ev, _) = g.mean_std(|r| r.eval_images_per_sec);
        let study = study_accuracy(&g.name).map_or("-".to_string(), |a| format!("{a:.4}"));
        let step = format!("{:?}", g.pairs[0].step).to_lowercase();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {:.0} |",
            i + 1,
            g.name,
            step,
            g.pairs.len(),
            pm(acc, acc_sd, 4),
            pm(best, best_sd, 4),
            pm(loss, loss_sd, 3),
            study,
            tr,
            ev
        );
    }
    let wall: f64 = groups
        .iter()
        .flat_map(|g| g.pairs.iter().map(|p| p.wall_seconds))
        .sum();
    let _ = writeln!(
        s,
        "\nTotal training + evaluation time: {:.1} min.",
        wall / 60.0
    );
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "\nNot finished (yet): {}.",
            missing
                .iter()
                .map(|(n, sd)| format!("{n} (seed {sd})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(s, "\nPlots: `plots/lr_grid.png`, `plots/test_accuracy.png`, `plots/final_accuracy.png` (and .svg; one LR curve per run under `plots/lr/`).");
    s
}
