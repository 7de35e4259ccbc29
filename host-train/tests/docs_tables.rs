//! The tables of measured numbers in README.md and docs/ are generated, not typed:
//!
//! - every committed results set's `results.md` is what `host-train report` writes from that set's
//!   `results.json` today (so a table cannot drift from the numbers it shows);
//! - every block between `<!-- generated: lines of PATH -->` and `<!-- end generated -->` in
//!   README.md or a page under docs/ consists of whole lines of PATH (so a copy of a table in the
//!   docs cannot drift from the file it was copied from).
//!
//! When one fails: redraw the set (`host-train report docs/results/<set>`) or copy the lines again.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folders under docs/results with a results.json, and those one level further down (a set's
/// stages, e.g. `tuned-15ep/grid`).
fn results_sets() -> Vec<PathBuf> {
    let dirs = |p: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect()
    };
    let mut sets: Vec<PathBuf> = dirs(&repo().join("docs/results"))
        .into_iter()
        .flat_map(|d| {
            let mut v = dirs(&d);
            v.push(d);
            v
        })
        .filter(|p| p.join("results.json").exists())
        .collect();
    sets.sort();
    sets
}

#[test]
fn committed_results_tables_are_what_report_writes() {
    let sets = results_sets();
    assert!(sets.len() >= 4, "results sets: {sets:?}");
    let tmp = tempfile::tempdir().unwrap();
    for set in sets {
        let name = set
            .strip_prefix(repo().join("docs/results"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let out = tmp.path().join(&name);
        Command::cargo_bin("host-train")
            .unwrap()
            .arg("report")
            .arg(&set)
            .arg("--out")
            .arg(&out)
            .arg("--no-plots")
            .assert()
            .success();
        for file in ["results.md", "results.csv"] {
            let committed = std::fs::read_to_string(set.join(file)).unwrap();
            let fresh = std::fs::read_to_string(out.join(file)).unwrap();
            if committed != fresh {
                let line = committed
                    .lines()
                    .zip(fresh.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(committed.lines().count().min(fresh.lines().count()));
                panic!(
                    "docs/results/{name}/{file} differs from what `host-train report` writes from its results.json \
                     (first at line {}: committed `{}`, report `{}`); redraw it with \
                     `host-train report docs/results/{name}`",
                    line + 1,
                    committed.lines().nth(line).unwrap_or(""),
                    fresh.lines().nth(line).unwrap_or("")
                );
            }
        }
    }
}

/// Markdown files that may hold generated blocks: README.md and every page under docs/.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut files);
    files
}

const BEGIN: &str = "<!-- generated: lines of ";
const END: &str = "<!-- end generated -->";

#[test]
fn generated_blocks_in_the_docs_match_their_sources() {
    let mut blocks = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines().enumerate();
        while let Some((at, line)) = lines.next() {
            let Some(rest) = line.strip_prefix(BEGIN) else {
                continue;
            };
            let source = rest.trim_end_matches("-->").trim();
            let source_text = std::fs::read_to_string(repo().join(source)).unwrap_or_else(|e| {
                panic!("{}:{}: cannot read {source}: {e}", file.display(), at + 1)
            });
            let mut closed = false;
            for (k, l) in lines.by_ref() {
                if l == END {
                    closed = true;
                    break;
                }
                assert!(
                    l.trim().is_empty() || source_text.lines().any(|s| s == l),
                    "{}:{}: this line is not in {source} (copy it again from there):\n{l}",
                    file.display(),
                    k + 1
                );
            }
            assert!(closed, "{}:{}: no `{END}`", file.display(), at + 1);
            blocks += 1;
        }
    }
    // README's sample and docs/results' tables.
    assert!(blocks >= 4, "only {blocks} generated blocks found");
}
