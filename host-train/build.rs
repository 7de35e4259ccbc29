//! Records the git commit this binary is built from, and whether the work tree differed from it
//! (`dirty`), so that results.json can say which code trained each pair. Outside a git checkout
//! (e.g. a crates.io download) both are left unset and results say `unknown`.
use std::process::Command;

/// What this binary is built from: this crate, sched-core and the workspace's manifest and lock.
const CODE: [&str; 4] = [".", "../sched-core", "../Cargo.toml", "../Cargo.lock"];

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // Rerun when HEAD moves, the index changes, or a file of the code that makes this binary does.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        for f in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={dir}/{f}");
        }
        if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
            println!("cargo:rerun-if-changed={common}/refs");
        }
    }
    for src in CODE {
        println!("cargo:rerun-if-changed={src}");
    }
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=HOST_TRAIN_GIT_COMMIT={commit}");
        // Tracked files of the code that differ from the commit (docs and results do not count).
        let mut args = vec!["status", "--porcelain", "--untracked-files=no", "--"];
        args.extend(CODE);
        let dirty = git(&args).is_none_or(|s| !s.is_empty());
        println!("cargo:rustc-env=HOST_TRAIN_GIT_DIRTY={dirty}");
    }
}
