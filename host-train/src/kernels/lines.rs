//! [`Lines`]: floats that start on a cache line.

use std::ops::{Deref, DerefMut};

/// `len` floats on whole 64-byte cache lines, zeroed when made, used as a `[f32]`. A vector load or
/// store on them never straddles two lines where its offset is a multiple of the vector's width (split
/// stores made the Winograd input transform, all stores, several times slower than its arithmetic).
#[derive(Clone, Default)]
pub struct Lines {
    lines: Vec<Line>,
    len: usize,
}

#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([f32; 16]);
const _: () = assert!(std::mem::size_of::<Line>() == 64);

impl Lines {
    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        Self {
            lines: vec![Line::default(); len.div_ceil(16)],
            len,
        }
    }

    /// Grows to at least `len` floats (new ones zero; kept ones kept).
    pub fn fit(&mut self, len: usize) {
        if self.len < len {
            self.lines.resize(len.div_ceil(16), Line::default());
            self.len = len;
        }
    }
}

impl Deref for Lines {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: a Line is 16 f32 and nothing else (repr(C), 64 bytes, no padding), and `len` is at
        // most 16 per line.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast(), self.len) }
    }
}

impl DerefMut for Lines {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn aligned_zeroed_and_growing() {
        let mut l = Lines::zeros(5);
        assert_eq!((l.len(), l.as_ptr() as usize % 64), (5, 0));
        assert!(l.iter().all(|&v| v == 0.0));
        l[4] = 2.0;
        l.fit(40);
        assert_eq!((l.len(), l[4], l[39]), (40, 2.0, 0.0));
        l.fit(3);
        assert_eq!(l.len(), 40);
    }
}
