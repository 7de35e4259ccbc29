//! A results set's files from result folders (bench folders, shards, other results sets): merged,
//! then written as results.json, results.csv, trace.csv, results.md and plots (what `host-train
//! report` and the end of `bench` write).

mod markdown;

use crate::results::set::{Machine, Missing, Protocol, ResultsSet, RunEntry, SCHEMA_VERSION};
use crate::results::{self, read_pair, read_plan, Group, PairResult};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Numbers that are exactly an f32 value as the shortest decimal that reads back to that f32: `0.001`,
/// not `0.0010000000474974513` (a `serde_json::Value` holds every number as f64). An f64 result is
/// exactly an f32 value only when its low 29 mantissa bits are zero; then the two decimals agree.
fn shortest_f32(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            let short = x as f32;
            if short as f64 == x && short.is_finite() {
                let y: f64 = format!("{short}").parse().unwrap_or(x);
                serde_json::Number::from_f64(y).map_or(Value::Number(n), Value::Number)
            } else {
                Value::Number(n)
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(shortest_f32).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, shortest_f32(v))).collect())
        }
        other => other,
    }
}

/// `path` relative to the folder `base` (both made absolute first), e.g. `../shard0`.
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let rel = pathdiff::diff_paths(abs(path), abs(base)).unwrap_or_else(|| path.to_path_buf());
    match rel.to_string_lossy().into_owned() {
        s if s.is_empty() => ".".to_string(),
        s => s,
    }
}

/// `dir` relative to `out`, when both lie in the same git work tree (or neither lies in one):
/// a path that leaves the repository names a folder only its author's machine has.
fn source_in_repo(dir: &Path, out: &Path) -> Option<String> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let repo = |p: &Path| {
        p.ancestors()
            .find(|a| a.join(".git").exists())
            .map(Path::to_path_buf)
    };
    let (dir_abs, out_abs) = (abs(dir), abs(out));
    (repo(&dir_abs) == repo(&out_abs)).then(|| relative_to(dir, out))
}

/// What a source folder contributes to a report: its plan (or the plan's facts a results set keeps)
/// and its finished pairs.
struct Source {
    runs: Vec<String>,
    seeds: Vec<u64>,
    epochs: u32,
    device: String,
    data: Option<results::DataId>,
    /// The machine a results set was trained on (a bench folder: this one).
    machine: Option<Machine>,
    /// A results set's `versions` (a bench folder: this binary's).
    versions: Option<BTreeMap<String, String>>,
    /// A results set's `provenance`: what is known and unknown about how it was made.
    provenance: Option<String>,
    pairs: Vec<PairResult>,
    /// The builds that trained each pair (by name and seed), where they were recorded.
    builds: Vec<((String, u64), Vec<results::Build>)>,
}

/// A bench folder (`bench.json` and `runs/`), or a results set a report wrote (`results.json`, with
/// the per-step lr and momentum from `trace.csv` when it is there): the latter re-reports committed
/// results without their checkpoints.
fn read_source(dir: &Path) -> Result<Source> {
    if !results::plan_path(dir).exists() && dir.join("results.json").exists() {
        return read_results_set(dir);
    }
    let plan = read_plan(dir)?;
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir.join("runs")) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    let mut pairs = Vec::new();
    let mut builds = Vec::new();
    for e in entries {
        if results::result_path(&e).exists() {
            let pair = read_pair(&e)?;
            builds.push(((pair.name.clone(), pair.seed), results::read_builds(&e)?));
            pairs.push(pair);
        }
    }
    Ok(Source {
        runs: plan.runs,
        seeds: plan.seeds,
        epochs: plan.epochs,
        device: plan.device,
        data: plan.data,
        machine: None,
        versions: None,
        provenance: None,
        pairs,
        builds,
    })
}

fn read_results_set(dir: &Path) -> Result<Source> {
    let set = ResultsSet::read(dir)?;
    let mut pairs = Vec::new();
    let mut builds = Vec::new();
    for entry in set.runs {
        if let Some(b) = entry.builds {
            builds.push(((entry.result.name.clone(), entry.result.seed), b));
        }
        pairs.push(entry.result);
    }
    let trace = dir.join("trace.csv");
    if let Ok(csv) = std::fs::read_to_string(&trace) {
        read_trace(&csv, &mut pairs).with_context(|| format!("corrupt {}", trace.display()))?;
    }
    let mut runs: Vec<String> = Vec::new();
    for name in pairs
        .iter()
        .map(|p| &p.name)
        .chain(set.missing.iter().map(|m| &m.name))
    {
        if !runs.contains(name) {
            runs.push(name.clone());
        }
    }
    Ok(Source {
        runs,
        seeds: set.protocol.seeds.into_iter().collect(),
        epochs: set.protocol.epochs,
        device: set.device,
        data: set.data,
        machine: Some(set.machine),
        versions: Some(set.versions),
        provenance: set.provenance,
        pairs,
        builds,
    })
}

/// trace.csv: `name,seed,step,lr,momentum`, lean. A run whose seeds all share one lr/momentum trace
/// (every run but those whose lr depends on the seed: plateau, a found lr) is written once, with
/// seed `all`; and a row is written only where the lr or momentum changes, plus the last step: each
/// row holds until the next row of its run and seed. `curve` prints the same values at every step.
fn write_trace(out: &mut String, results: &[PairResult]) -> Result<()> {
    let mut done: Vec<&str> = Vec::new();
    for r in results {
        let same = |p: &&PairResult| p.name == r.name;
        let all_same = results
            .iter()
            .filter(same)
            .all(|p| p.trace_lr == r.trace_lr && p.trace_momentum == r.trace_momentum);
        let seed = if all_same {
            if done.contains(&r.name.as_str()) {
                continue;
            }
            done.push(&r.name);
            "all".to_string()
        } else {
            r.seed.to_string()
        };
        let n = r.trace_lr.len().min(r.trace_momentum.len());
        for i in 0..n {
            let (lr, m) = (r.trace_lr[i], r.trace_momentum[i]);
            let changed = i == 0 || lr != r.trace_lr[i - 1] || m != r.trace_momentum[i - 1];
            if changed || i + 1 == n {
                writeln!(out, "\"{}\",{seed},{i},{lr:.8e},{m:.8e}", r.name)?;
            }
        }
    }
    Ok(())
}

/// Fills the pairs' per-step lr and momentum from a trace.csv (`write_trace`'s, or one with a row
/// for every step and seed).
fn read_trace(csv: &str, pairs: &mut [PairResult]) -> Result<()> {
    // The name is quoted and may hold commas.
    let mut rows: Vec<(String, Option<u64>, usize, f32, f32)> = Vec::new();
    for line in csv.lines().skip(1) {
        let bad = || format!("line `{line}`");
        let (name, rest) = line
            .strip_prefix('"')
            .and_then(|l| l.split_once("\","))
            .with_context(bad)?;
        let f: Vec<&str> = rest.split(',').collect();
        let [seed, step, lr, m] = f[..] else {
            bail!(bad());
        };
        let seed = match seed {
            "all" => None,
            s => Some(s.parse().with_context(bad)?),
        };
        rows.push((
            name.to_string(),
            seed,
            step.parse().with_context(bad)?,
            lr.parse().with_context(bad)?,
            m.parse().with_context(bad)?,
        ));
    }
    for p in pairs.iter_mut() {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.0 == p.name && r.1.is_none_or(|s| s == p.seed))
            .collect();
        for (k, r) in mine.iter().enumerate() {
            let until = mine.get(k + 1).map_or(r.2 + 1, |next| next.2);
            if until <= r.2 || p.trace_lr.len() != r.2 {
                bail!(
                    "{} seed {}: steps out of order at step {}",
                    p.name,
                    p.seed,
                    r.2
                );
            }
            p.trace_lr.resize(until, r.3);
            p.trace_momentum.resize(until, r.4);
        }
    }
    Ok(())
}

/// The finished pairs of every source, each (name, seed) once, in the config's run order, then by
/// seed; the sources; and the pairs of their plans without a result.
struct Merged {
    sources: Vec<Source>,
    results: Vec<PairResult>,
    missing: Vec<Missing>,
}

fn merge(dirs: &[PathBuf]) -> Result<Merged> {
    let mut sources = Vec::new();
    let mut results: Vec<PairResult> = Vec::new();
    let mut seen = BTreeSet::new();
    for dir in dirs {
        let mut source = read_source(dir)?;
        for r in std::mem::take(&mut source.pairs) {
            if seen.insert((r.name.clone(), r.seed)) {
                results.push(r);
            } else {
                eprintln!(
                    "report: {} seed {} appears twice; kept the first",
                    r.name, r.seed
                );
            }
        }
        sources.push(source);
    }
    let mut order: Vec<&String> = Vec::new();
    for r in sources.iter().flat_map(|p| &p.runs) {
        if !order.contains(&r) {
            order.push(r);
        }
    }
    let pos = |n: &str| order.iter().position(|o| *o == n).unwrap_or(usize::MAX);
    results.sort_by(|a, b| (pos(&a.name), &a.name, a.seed).cmp(&(pos(&b.name), &b.name, b.seed)));
    let mut missing: Vec<Missing> = Vec::new();
    for p in &sources {
        for name in &p.runs {
            for &seed in &p.seeds {
                let m = Missing {
                    name: name.clone(),
                    seed,
                };
                if !seen.contains(&(name.clone(), seed)) && !missing.contains(&m) {
                    missing.push(m);
                }
            }
        }
    }
    Ok(Merged {
        sources,
        results,
        missing,
    })
}

/// The results set of merged sources written to `out` (results.json's relative `sources`).
fn results_set(merged: &Merged, dirs: &[PathBuf], out: &Path) -> ResultsSet {
    let (plans, results) = (&merged.sources, &merged.results);
    // Without the per-step traces: trace.csv has them.
    let runs = results
        .iter()
        .map(|r| RunEntry {
            result: PairResult {
                trace_lr: Vec::new(),
                trace_momentum: Vec::new(),
                trace_loss: Vec::new(),
                ..r.clone()
            },
            builds: plans
                .iter()
                .flat_map(|p| &p.builds)
                .find(|(k, b)| *k == (r.name.clone(), r.seed) && !b.is_empty())
                .map(|(_, b)| b.clone()),
        })
        .collect();
    let plan0 = &plans[0];
    ResultsSet {
        schema_version: SCHEMA_VERSION,
        runs,
        machine: plan0.machine.clone().unwrap_or_else(Machine::this),
        device: plan0.device.clone(),
        versions: plan0.versions.clone().unwrap_or_else(|| {
            [
                ("host-train", env!("CARGO_PKG_VERSION")),
                ("candle", "0.11"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into()
        }),
        protocol: Protocol {
            epochs: plan0.epochs,
            train_images: results.first().map(|r| r.train_images),
            test_images: results.first().map(|r| r.test_images),
            batch_size: results.first().map(|r| r.batch_size),
            seeds: plans.iter().flat_map(|p| p.seeds.clone()).collect(),
        },
        // Relative to the results folder, and only those a reader of its repository can open.
        sources: dirs.iter().filter_map(|d| source_in_repo(d, out)).collect(),
        data: plan0.data.clone(),
        missing: merged.missing.clone(),
        provenance: plans.iter().find_map(|p| p.provenance.clone()),
    }
}

/// results.csv (every epoch of every pair) and trace.csv (the lr and momentum of every step).
fn write_csvs(out: &Path, results: &[PairResult]) -> Result<()> {
    let mut csv = String::from("name,seed,epoch,train_loss,test_loss,test_accuracy,lr,momentum\n");
    let mut trace = String::from("name,seed,step,lr,momentum\n");
    for r in results {
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
    }
    write_trace(&mut trace, results)?;
    std::fs::write(out.join("results.csv"), csv)?;
    std::fs::write(out.join("trace.csv"), trace)?;

    Ok(())
}

/// Reads every finished pair under `dirs` (bench folders or results sets) and writes the results set
/// to `out`; returns the pair count.
pub fn write_all(dirs: &[PathBuf], out: &Path, plots: bool) -> Result<usize> {
    let merged = merge(dirs)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let set = results_set(&merged, dirs, out);
    let value = shortest_f32(serde_json::to_value(&set)?);
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&value)?,
    )?;
    let results = &merged.results;
    write_csvs(out, results)?;
    let mut groups: Vec<Group> = Vec::new();
    for r in results {
        match groups.iter_mut().find(|g| g.name == r.name) {
            Some(g) => g.pairs.push(r),
            None => groups.push(Group {
                name: r.name.clone(),
                pairs: vec![r],
            }),
        }
    }
    std::fs::write(out.join("results.md"), markdown::markdown(&groups, &set))?;
    if plots && !groups.is_empty() {
        crate::plot::all(&out.join("plots"), &groups)?;
    }
    Ok(results.len())
}
