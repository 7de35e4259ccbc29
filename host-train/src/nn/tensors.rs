//! Named f32 tensors in safetensors files (checkpoints, `--init`): PyTorch's `state_dict` names and
//! shapes.

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// A named f32 tensor: shape and data.
pub type Tensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Saves f32 tensors as safetensors, atomically.
pub fn save_tensors(tensors: &Tensors, path: &Path) -> Result<()> {
    let mut map = HashMap::new();
    for (name, (shape, data)) in tensors {
        map.insert(
            name.clone(),
            Tensor::from_slice(data, shape.as_slice(), &Device::Cpu)?,
        );
    }
    let tmp = path.with_extension("tmp");
    candle_core::safetensors::save(&map, &tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads a safetensors file's tensors as f32 (exact for f32 files).
pub fn load_tensors(path: &Path) -> Result<Tensors> {
    let map = candle_core::safetensors::load(path, &Device::Cpu)
        .with_context(|| format!("cannot read safetensors file {}", path.display()))?;
    let mut out = Tensors::new();
    for (name, t) in map {
        let data = t
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        out.insert(name, (t.dims().to_vec(), data));
    }
    Ok(out)
}

/// Takes the tensor `name` with shape `shape` out of `tensors`, with an error naming `origin`.
pub fn take_tensor(
    tensors: &mut Tensors,
    name: &str,
    shape: &[usize],
    origin: &str,
) -> Result<Vec<f32>> {
    let Some((got, data)) = tensors.remove(name) else {
        let mut have: Vec<&String> = tensors.keys().collect();
        have.sort();
        bail!("{origin} lacks tensor `{name}` (it has: {have:?})");
    };
    if got != shape {
        bail!("{origin}: tensor `{name}` has shape {got:?}, expected {shape:?}");
    }
    Ok(data)
}
