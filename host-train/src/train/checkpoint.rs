//! A pair's checkpoints: after every epoch its parameters and optimizer buffers (a safetensors file
//! per epoch) and its state (`state.json`: epochs done, scheduler, records, traces, optimizer scalars).
//! The last two are kept: `state.json` and `state-previous.json`, each naming its model file. A last
//! checkpoint that cannot be read (a truncated file, a disk that filled up) is set aside as
//! `*.corrupt` and the pair resumes from the one before (from the start where there is none before
//! it), with a warning naming the file.

use crate::nn::backend;
use crate::nn::net::Net;
use crate::nn::tensors::{self, Tensors};
use crate::optim::{Optimizer, OptimizerGroup, Scalars};
use crate::results::{self, PairState};
use anyhow::{Context, Result};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The checkpoint before the last (`state.json` is the last: [`results::state_path`]).
pub fn previous_state_path(pair: &Path) -> PathBuf {
    pair.join("state-previous.json")
}

/// A checkpoint read back whole: the pair's state, its parameters and its optimizer's state (per
/// param group).
pub struct Checkpoint {
    pub state: PairState,
    pub params: Vec<f32>,
    pub optimizer: Vec<OptimizerGroup>,
}

/// Where a pair resumes: its last readable checkpoint (`None`: from the start), and the last
/// checkpoint when it could not be read.
pub struct Found {
    pub checkpoint: Option<Checkpoint>,
    pub unreadable: Option<Unreadable>,
}

/// A checkpoint that could not be read.
pub struct Unreadable {
    /// Its state file and, where the state named one, its model file.
    pub files: Vec<PathBuf>,
    pub why: String,
}

/// The checkpoint whose state file is `state_file`, read whole (state, model file, tensor shapes),
/// for an optimizer whose param groups lie at `groups` of the flat parameters.
fn read(
    pair: &Path,
    state_file: &Path,
    net: &Net,
    (optimizer, groups): (&Optimizer, &[Range<usize>]),
) -> Result<Checkpoint> {
    let text = std::fs::read_to_string(state_file)
        .with_context(|| format!("cannot read {}", state_file.display()))?;
    let state: PairState = serde_json::from_str(&text)
        .with_context(|| format!("corrupt checkpoint {}", state_file.display()))?;
    let model = pair.join(&state.model_file);
    let origin = format!("checkpoint {}", model.display());
    let tensors = tensors::load_tensors(&model)?;
    let scalars = std::iter::once(state.optimizer).chain(state.optimizer_groups.iter().copied());
    if state.optimizer_groups.len() + 1 != groups.len() {
        anyhow::bail!(
            "{origin}: its optimizer has {} param groups, the run {}",
            state.optimizer_groups.len() + 1,
            groups.len()
        );
    }
    let groups = groups.iter().cloned().zip(scalars).collect();
    let (params, optimizer) = backend::from_tensors(net, tensors, optimizer, groups, &origin)?;
    Ok(Checkpoint {
        state,
        params,
        optimizer,
    })
}

/// The pair's last readable checkpoint: the last, else the one before it; where the last cannot
/// be read and there is none before it (a pair killed in its first epochs), the pair starts over.
/// An error only where the last and the one before both exist and neither can be read.
pub fn find(
    pair: &Path,
    net: &Net,
    optimizer: &Optimizer,
    groups: &[Range<usize>],
) -> Result<Found> {
    let (last, previous) = (results::state_path(pair), previous_state_path(pair));
    let optimizer = (optimizer, groups);
    let err = match last.exists().then(|| read(pair, &last, net, optimizer)) {
        Some(Ok(checkpoint)) => {
            return Ok(Found {
                checkpoint: Some(checkpoint),
                unreadable: None,
            })
        }
        Some(Err(err)) => Some(err),
        None => None,
    };
    let checkpoint = match (previous.exists(), &err) {
        (false, _) => None,
        (true, _) => Some(
            read(pair, &previous, net, optimizer).with_context(|| match &err {
                Some(err) => {
                    format!("the last checkpoint cannot be read ({err:#}), nor the one before it")
                }
                None => "no last checkpoint, and the one before it cannot be read".to_string(),
            })?,
        ),
    };
    let unreadable = err.map(|err| {
        let mut files = vec![last.clone()];
        if let Ok(st) = std::fs::read_to_string(&last)
            .map_err(anyhow::Error::from)
            .and_then(|t| Ok(serde_json::from_str::<PairState>(&t)?))
        {
            files.push(pair.join(st.model_file));
        }
        Unreadable {
            files,
            why: format!("{err:#}"),
        }
    });
    Ok(Found {
        checkpoint,
        unreadable,
    })
}

/// Sets an unreadable checkpoint's files aside as `<file>.corrupt` (kept for a look, out of the way
/// of the next checkpoint).
pub fn set_aside(unreadable: &Unreadable) -> Result<()> {
    for file in unreadable.files.iter().filter(|f| f.exists()) {
        let mut aside = file.clone().into_os_string();
        aside.push(".corrupt");
        std::fs::rename(file, &aside)
            .with_context(|| format!("cannot rename {}", file.display()))?;
    }
    Ok(())
}

/// Saves a checkpoint: the new model file, then the last state becomes the previous one, then the new
/// state (each write atomic), then the model files neither state names are dropped. A crash at any
/// point leaves two readable checkpoints (or one, before the second epoch).
pub fn save(
    pair: &Path,
    st: &mut PairState,
    (tensors, optimizer): &(Tensors, Vec<Scalars>),
) -> Result<()> {
    (st.optimizer, st.optimizer_groups) = match optimizer.split_first() {
        Some((first, rest)) => (*first, rest.to_vec()),
        None => Default::default(),
    };
    st.model_file = format!("model-epoch{:03}.safetensors", st.epochs_done);
    tensors::save_tensors(tensors, &pair.join(&st.model_file))?;
    let last = results::state_path(pair);
    if last.exists() {
        let bytes =
            std::fs::read(&last).with_context(|| format!("cannot read {}", last.display()))?;
        results::write_atomic(&previous_state_path(pair), &bytes)?;
    }
    results::write_atomic(&last, serde_json::to_string(&st)?.as_bytes())?;
    drop_unnamed_models(pair)
}

/// Removes the model files (`model-epoch*.safetensors`) that neither kept state names.
fn drop_unnamed_models(pair: &Path) -> Result<()> {
    let named: Vec<String> = [results::state_path(pair), previous_state_path(pair)]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str::<PairState>(&t).ok())
        .map(|st| st.model_file)
        .collect();
    for entry in
        std::fs::read_dir(pair).with_context(|| format!("cannot list {}", pair.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("model-epoch")
            && name.ends_with(".safetensors")
            && !named.contains(&name)
        {
            let _ = std::fs::remove_file(pair.join(name));
        }
    }
    Ok(())
}
