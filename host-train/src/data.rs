//! Fashion-MNIST from its four IDX `.gz` files, checked: magic numbers, counts, sizes, labels < 10.

use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the Debian package `dataset-fashion-mnist` puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";
pub const INSTALL_HINT: &str =
    "install the Debian package with `apt-get install -y dataset-fashion-mnist`, or pass --data DIR / set FASHION_MNIST_DIR";

/// The four IDX files of the data set.
pub const TRAIN_IMAGES_FILE: &str = "train-images-idx3-ubyte.gz";
pub const TRAIN_LABELS_FILE: &str = "train-labels-idx1-ubyte.gz";
pub const TEST_IMAGES_FILE: &str = "t10k-images-idx3-ubyte.gz";
pub const TEST_LABELS_FILE: &str = "t10k-labels-idx1-ubyte.gz";

/// Images (pixels / 255, NCHW with C = 1, row-major) and labels.
#[derive(Clone, Debug)]
pub struct Split {
    pub images: Vec<f32>,
    pub labels: Vec<u32>,
    pub rows: usize,
    pub cols: usize,
}

impl Split {
    /// Images in the split.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }
    /// Copies the examples `idx` into a batch: `x` (`idx.len()` images) and `labels`.
    pub fn fill_batch(&self, idx: &[usize], x: &mut [f32], labels: &mut [u32]) {
        let px = self.pixels();
        for (j, &i) in idx.iter().enumerate() {
            x[j * px..(j + 1) * px].copy_from_slice(&self.images[i * px..(i + 1) * px]);
            labels[j] = self.labels[i];
        }
    }

    /// The examples `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Split {
        let mut out = Split {
            images: vec![0.0; idx.len() * self.pixels()],
            labels: vec![0; idx.len()],
            rows: self.rows,
            cols: self.cols,
        };
        self.fill_batch(idx, &mut out.images, &mut out.labels);
        out
    }

    /// The first `n` examples.
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.labels.truncate(n);
        self.images.truncate(n * self.pixels());
    }
}

#[derive(Clone, Debug)]
pub struct Dataset {
    pub train: Split,
    pub test: Split,
    /// Images held out of the training set ([`Dataset::hold_out`]).
    pub validation: Option<Split>,
    pub dir: PathBuf,
    /// SHA-256 (hex) of each of the four files as read, by file name.
    pub sha256: BTreeMap<String, String>,
}

/// The seed of the validation split's choice: one split for every run and seed of every config.
pub const VALIDATION_SEED: u64 = 0x7661_6c69_6461_7465;

impl Dataset {
    /// Moves `n` training images, chosen by a fixed seeded shuffle (ChaCha8, [`VALIDATION_SEED`]),
    /// into the validation set; the rest stay in file order.
    pub fn hold_out(&mut self, n: usize) -> Result<()> {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        if n == 0 {
            return Ok(());
        }
        if n >= self.train.len() {
            bail!(
                "`validation` = {n}: must leave training images (the training set has {})",
                self.train.len()
            );
        }
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(VALIDATION_SEED));
        let (val, rest) = order.split_at_mut(n);
        val.sort_unstable();
        rest.sort_unstable();
        self.validation = Some(self.train.select(val));
        self.train = self.train.select(rest);
        Ok(())
    }
}

/// `--data DIR`, else `$FASHION_MNIST_DIR`, else the Debian package's folder.
pub fn resolve_dir(arg: Option<&Path>) -> PathBuf {
    if let Some(p) = arg {
        return p.to_path_buf();
    }
    match std::env::var_os("FASHION_MNIST_DIR") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_DIR),
    }
}

pub fn load(dir: &Path) -> Result<Dataset> {
    let mut sha256 = BTreeMap::new();
    let train = load_split(
        &dir.join(TRAIN_IMAGES_FILE),
        &dir.join(TRAIN_LABELS_FILE),
        &mut sha256,
    )?;
    let test = load_split(
        &dir.join(TEST_IMAGES_FILE),
        &dir.join(TEST_LABELS_FILE),
        &mut sha256,
    )?;
    if train.rows != test.rows || train.cols != test.cols {
        bail!(
            "Fashion-MNIST in {}: train and test images differ in size",
            dir.display()
        );
    }
    Ok(Dataset {
        train,
        test,
        validation: None,
        dir: dir.to_path_buf(),
        sha256,
    })
}

/// The decompressed contents of `path`; records the SHA-256 of its bytes under its file name.
fn read_gz(path: &Path, sha256: &mut BTreeMap<String, String>) -> Result<Vec<u8>> {
    let file = std::fs::read(path).with_context(|| {
        format!(
            "cannot open Fashion-MNIST file {}: {INSTALL_HINT}",
            path.display()
        )
    })?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let hex: String = Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sha256.insert(name, hex);
    let mut bytes = Vec::new();
    GzDecoder::new(file.as_slice())
        .read_to_end(&mut bytes)
        .with_context(|| {
            format!(
                "corrupt Fashion-MNIST file {} (not a valid .gz): {INSTALL_HINT}",
                path.display()
            )
        })?;
    Ok(bytes)
}

fn be_u32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

fn load_split(
    images: &Path,
    labels: &Path,
    sha256: &mut BTreeMap<String, String>,
) -> Result<Split> {
    let corrupt = |p: &Path, why: String| {
        anyhow::anyhow!(
            "corrupt Fashion-MNIST file {}: {why}; {INSTALL_HINT}",
            p.display()
        )
    };
    let ib = read_gz(images, sha256)?;
    if ib.len() < 16 || be_u32(&ib, 0) != 0x0000_0803 {
        return Err(corrupt(
            images,
            "not an IDX image file (magic 0x00000803)".into(),
        ));
    }
    let (n, rows, cols) = (
        be_u32(&ib, 1) as usize,
        be_u32(&ib, 2) as usize,
        be_u32(&ib, 3) as usize,
    );
    if rows == 0 || cols == 0 || ib.len() != 16 + n * rows * cols {
        return Err(corrupt(
            images,
            format!("{} bytes for {n} images of {rows}x{cols}", ib.len()),
        ));
    }
    let lb = read_gz(labels, sha256)?;
    if lb.len() < 8 || be_u32(&lb, 0) != 0x0000_0801 {
        return Err(corrupt(
            labels,
            "not an IDX label file (magic 0x00000801)".into(),
        ));
    }
    let m = be_u32(&lb, 1) as usize;
    if lb.len() != 8 + m {
        return Err(corrupt(
            labels,
            format!("{} bytes for {m} labels", lb.len()),
        ));
    }
    if m != n {
        return Err(corrupt(
            labels,
            format!("{m} labels for the {n} images in {}", images.display()),
        ));
    }
    if n == 0 {
        return Err(corrupt(images, "no images".into()));
    }
    if let Some(bad) = lb[8..].iter().find(|&&l| l >= 10) {
        return Err(corrupt(labels, format!("label {bad} is not a class 0..9")));
    }
    Ok(Split {
        images: ib[16..].iter().map(|&p| p as f32 / 255.0).collect(),
        labels: lb[8..].iter().map(|&l| l as u32).collect(),
        rows,
        cols,
    })
}

/// Writes IDX `.gz` files (for tests).
#[cfg(test)]
pub fn write_idx(
    dir: &Path,
    name_images: &str,
    name_labels: &str,
    images: &[u8],
    labels: &[u8],
    rows: usize,
    cols: usize,
) -> Result<()> {
    use flate2::write::GzEncoder;
    use std::io::Write;
    let n = labels.len();
    assert_eq!(images.len(), n * rows * cols);
    let mut ib = Vec::with_capacity(16 + images.len());
    for v in [0x803u32, n as u32, rows as u32, cols as u32] {
        ib.extend_from_slice(&v.to_be_bytes());
    }
    ib.extend_from_slice(images);
    let mut lb = Vec::with_capacity(8 + n);
    for v in [0x801u32, n as u32] {
        lb.extend_from_slice(&v.to_be_bytes());
    }
    lb.extend_from_slice(labels);
    for (name, bytes) in [(name_images, ib), (name_labels, lb)] {
        let mut enc = GzEncoder::new(
            std::fs::File::create(dir.join(name))?,
            flate2::Compression::fast(),
        );
        enc.write_all(&bytes)?;
        enc.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes_and_rejects_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let imgs: Vec<u8> = (0..3 * 4 * 5).map(|i| i as u8).collect();
        write_idx(
            dir.path(),
            TRAIN_IMAGES_FILE,
            TRAIN_LABELS_FILE,
            &imgs,
            &[1, 2, 9],
            4,
            5,
        )
        .unwrap();
        write_idx(
            dir.path(),
            TEST_IMAGES_FILE,
            TEST_LABELS_FILE,
            &imgs[..20],
            &[0],
            4,
            5,
        )
        .unwrap();
        let d = load(dir.path()).unwrap();
        assert_eq!(d.train.len(), 3);
        assert_eq!(d.test.len(), 1);
        assert_eq!(d.train.images[5], 5.0 / 255.0);
        write_idx(
            dir.path(),
            TEST_IMAGES_FILE,
            TEST_LABELS_FILE,
            &imgs[..20],
            &[10],
            4,
            5,
        )
        .unwrap();
        let e = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(e.contains(TEST_LABELS_FILE) && e.contains("apt-get"), "{e}");
        std::fs::write(dir.path().join(TRAIN_IMAGES_FILE), b"garbage").unwrap();
        let e = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(e.contains(TRAIN_IMAGES_FILE), "{e}");
        let e = format!("{:#}", load(&dir.path().join("missing")).unwrap_err());
        assert!(
            e.contains("cannot open") && e.contains("dataset-fashion-mnist"),
            "{e}"
        );
    }

    #[test]
    fn real_files_when_present() {
        let dir = resolve_dir(None);
        if !dir.join(TRAIN_IMAGES_FILE).exists() {
            eprintln!("skipped: no Fashion-MNIST in {}", dir.display());
            return;
        }
        let d = load(&dir).unwrap();
        assert_eq!(
            (d.train.len(), d.test.len(), d.train.rows, d.train.cols),
            (60_000, 10_000, 28, 28)
        );
    }
}
