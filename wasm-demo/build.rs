//! Converts the study's run config (host-train/presets/tutorial.toml) to JSON for the page, so the
//! presets live in one place and the wasm carries no TOML parser.

use std::path::PathBuf;

/// Fashion-MNIST's training set, as host-train's `TRAIN_IMAGES`: 469 batches of 128 per epoch.
const TRAIN_IMAGES: u64 = 60_000;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let path = manifest.join("../host-train/presets/tutorial.toml");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let epochs = doc["epochs"].as_integer().expect("epochs") as u64;
    let batch_size = doc["batch_size"].as_integer().expect("batch_size") as u64;
    let batches = TRAIN_IMAGES.div_ceil(batch_size);
    let runs: Vec<serde_json::Value> = doc["run"]
        .as_array()
        .expect("[[run]]")
        .iter()
        // A run that takes its lr from an LR range test (`"find"`) has no curve until it ran.
        .filter(|run| {
            !(run["lr"].is_str()
                || run["schedule"]
                    .get("max_lr")
                    .is_some_and(toml::Value::is_str))
        })
        .map(|run| {
            serde_json::json!({
                "name": run["name"].as_str().expect("name"),
                "lr": run["lr"].as_float().expect("lr"),
                "momentum": run.get("momentum").and_then(|m| m.as_float()).unwrap_or(0.0),
                "step": run["step"].as_str().expect("step"),
                "schedule": serde_json::to_value(&run["schedule"]).expect("schedule"),
            })
        })
        .collect();
    let json = serde_json::json!({ "epochs": epochs, "batches_per_epoch": batches, "runs": runs });
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("presets.json");
    std::fs::write(out, serde_json::to_string(&json).unwrap()).unwrap();
}
