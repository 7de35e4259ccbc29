//! A results set (`results.json`, beside results.csv, trace.csv, results.md and plots/): every finished
//! pair, how and where they were trained, and which pairs of the plan are missing. Written by
//! `report` (and `bench`, which ends with one), read back by `report` to merge or redraw sets.
//!
//! Schema versions: 1 (no `schema_version` field; every committed set before it) and 2 (this one:
//! the same fields, plus `schema_version`). Both read.

use super::{Build, DataId, PairResult};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The schema this build writes.
pub const SCHEMA_VERSION: u32 = 2;

fn schema_v1() -> u32 {
    1
}

/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResultsSet {
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// Every finished pair, in the config's run order, then by seed (their per-step traces are in
    /// trace.csv, not here).
    pub runs: Vec<RunEntry>,
    pub machine: Machine,
    /// `cpu` or `cuda`.
    pub device: String,
    /// Versions of what trained it (`host-train`, `candle`).
    pub versions: BTreeMap<String, String>,
    pub protocol: Protocol,
    /// The bench folders it was made from, relative to it (only those inside its repository).
    pub sources: Vec<String>,
    /// The data set and its files' SHA-256.
    pub data: Option<DataId>,
    /// Pairs of the plan(s) without a result.
    pub missing: Vec<Missing>,
    /// What is known of how a set made before builds were recorded was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

impl ResultsSet {
    /// The results set in folder `dir` (its results.json; the per-step traces are in its trace.csv,
    /// which `report` reads back).
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let set: Self = serde_json::from_str(&text)
            .with_context(|| format!("corrupt results set {}", path.display()))?;
        if set.schema_version > SCHEMA_VERSION {
            bail!(
                "{}: schema version {} is newer than this host-train reads ({SCHEMA_VERSION})",
                path.display(),
                set.schema_version
            );
        }
        Ok(set)
    }
}

/// One finished pair and the builds of host-train that trained it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunEntry {
    #[serde(flatten)]
    pub result: PairResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builds: Option<Vec<Build>>,
}

/// The machine a set was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    /// Training threads.
    pub threads: usize,
    pub os: String,
    pub arch: String,
    pub avx512f: bool,
}

impl Machine {
    /// This machine, training on the current thread pool.
    pub fn this() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: rayon::current_num_threads(),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            avx512f: has_avx512f(),
        }
    }
}

fn has_avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// What every pair of the set was trained under (the first pair's images and batch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    pub epochs: u32,
    pub train_images: Option<usize>,
    pub test_images: Option<usize>,
    pub batch_size: Option<usize>,
    pub seeds: BTreeSet<u64>,
}

/// A pair of the plan without a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub name: String,
    pub seed: u64,
}
