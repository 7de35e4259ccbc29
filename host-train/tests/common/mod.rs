//! Test data the integration tests write themselves.

use std::io::Write;
use std::path::{Path, PathBuf};

fn write_gz(path: &Path, bytes: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
}

/// Writes `n_train` / `n_test` learnable `side` x `side` images (class = a bright row band) as IDX .gz files.
pub fn tiny_data(dir: &Path, n_train: usize, n_test: usize, side: usize) {
    let mut state = 12345u32;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let label = (rnd() % 10) as u8;
            labels.push(label);
            for y in 0..side {
                for _x in 0..side {
                    let band = y * 10 / side == label as usize;
                    images.push(if band {
                        200 + (rnd() % 56) as u8
                    } else {
                        (rnd() % 60) as u8
                    });
                }
            }
        }
        let mut ib = Vec::new();
        for v in [0x803u32, n as u32, side as u32, side as u32] {
            ib.extend_from_slice(&v.to_be_bytes());
        }
        ib.extend_from_slice(&images);
        let mut lb = Vec::new();
        for v in [0x801u32, n as u32] {
            lb.extend_from_slice(&v.to_be_bytes());
        }
        lb.extend_from_slice(&labels);
        write_gz(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")), &ib);
        write_gz(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), &lb);
    }
}

/// A temporary folder with tiny learnable data in `data/` (`n_train` / 24 images of 8 x 8) and a
/// run config, both of which the tests' commands point at.
pub struct Workspace {
    tmp: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config_file: &str, config: &str, n_train: usize) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("data")).unwrap();
        tiny_data(&tmp.path().join("data"), n_train, 24, 8);
        std::fs::write(tmp.path().join(config_file), config).unwrap();
        Workspace { tmp }
    }

    /// `p` inside the folder.
    pub fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }
}
