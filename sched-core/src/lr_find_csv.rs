//! A recorded LR range test as text: `lr_find.csv` (`host-train lr-find` writes it; any framework's
//! curve in the same shape will do). One reader, no allocation, used by `host-train lr-find
//! suggest` and the page, so both accept the same files and say the same thing about bad ones.
//!
//! The file has a header row naming at least the columns `lr` and `loss` (any order; others,
//! such as `step` and `smoothed_loss`, are optional), then one row per step. Cells are read as
//! Rust reads an f32 (correctly rounded; `NaN` and `inf` accepted for a loss). Blank lines are
//! skipped; a UTF-8 byte-order mark and double quotes around cells are ignored.

use crate::defaults::LR_FINDER_MIN_NUM_ITER;
use crate::{Error, LrFinder};
use core::fmt;

/// One step of a recorded range test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CsvRow {
    /// The lr the step trained at.
    pub lr: f32,
    /// The step's raw loss.
    pub loss: f32,
    /// The file's own smoothed loss, when it has that column and the cell is a number.
    pub smoothed_loss: Option<f32>,
}

/// Why a recorded range test could not be read. `Display` is the one line the CLI and the page
/// print (after the file's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvError<'a> {
    /// No header row.
    Empty,
    /// The header lacks a column.
    MissingColumn {
        /// `"lr"` or `"loss"`.
        column: &'static str,
        /// The header row.
        header: &'a str,
    },
    /// A row is too short to have the column.
    MissingCell {
        /// 1-based line of the file.
        line: usize,
        /// The column.
        column: &'static str,
        /// The row's cells.
        cells: usize,
        /// The header's columns.
        columns: usize,
    },
    /// A cell is not a number.
    NotANumber {
        /// 1-based line of the file.
        line: usize,
        /// The column.
        column: &'static str,
        /// The cell's text.
        cell: &'a str,
    },
    /// An lr that is not finite and > 0.
    BadLr {
        /// 1-based line of the file.
        line: usize,
        /// The cell's text.
        cell: &'a str,
    },
    /// Too few or too many rows for a range test of this capacity.
    Rows {
        /// The rows read.
        rows: usize,
        /// fastai's minimum (6).
        min: usize,
        /// The finder's capacity.
        max: usize,
    },
}

impl fmt::Display for CsvError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CsvError::Empty => {
                f.write_str("empty file; expected a header with columns `lr` and `loss`")
            }
            CsvError::MissingColumn { column, header } => write!(
                f,
                "no `{column}` column (the header is `{}`); expected columns `lr` and `loss`",
                header.trim()
            ),
            CsvError::MissingCell {
                line,
                column,
                cells,
                columns,
            } => write!(
                f,
                "line {line}: no `{column}` cell ({cells} cells, the header has {columns})"
            ),
            CsvError::NotANumber { line, column, cell } => {
                write!(f, "line {line}: `{column}` is `{cell}`, not a number")
            }
            CsvError::BadLr { line, cell } => write!(
                f,
                "line {line}: `lr` is `{cell}`; a range test's lr must be finite and > 0"
            ),
            CsvError::Rows { rows, min, max } => write!(
                f,
                "{rows} rows; the range test needs between {min} and {max}"
            ),
        }
    }
}

impl core::error::Error for CsvError<'_> {}

fn cells(line: &str) -> impl Iterator<Item = &str> + '_ {
    line.split(',').map(|c| c.trim().trim_matches('"'))
}

/// The rows of a recorded range test, each checked as it is read.
#[derive(Clone, Debug)]
pub struct CsvRows<'a> {
    lines: core::iter::Enumerate<core::str::Lines<'a>>,
    columns: usize,
    lr: usize,
    loss: usize,
    smoothed: Option<usize>,
}

impl<'a> CsvRows<'a> {
    /// Reads the header of `text`.
    pub fn new(text: &'a str) -> Result<Self, CsvError<'a>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        let header = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((_, l)) => break l,
                None => return Err(CsvError::Empty),
            }
        };
        let position = |name: &str| cells(header).position(|c| c == name);
        let column = |column: &'static str| {
            position(column).ok_or(CsvError::MissingColumn { column, header })
        };
        Ok(CsvRows {
            columns: cells(header).count(),
            lr: column("lr")?,
            loss: column("loss")?,
            smoothed: position("smoothed_loss"),
            lines,
        })
    }

    fn row(&self, line: usize, text: &'a str) -> Result<CsvRow, CsvError<'a>> {
        let cell = |index: usize, column: &'static str| -> Result<(f32, &'a str), CsvError<'a>> {
            let cell = cells(text).nth(index).ok_or(CsvError::MissingCell {
                line,
                column,
                cells: cells(text).count(),
                columns: self.columns,
            })?;
            let value =
                cell.parse::<f32>()
                    .map_err(|_| CsvError::NotANumber { line, column, cell })?;
            Ok((value, cell))
        };
        let (lr, lr_text) = cell(self.lr, "lr")?;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(CsvError::BadLr {
                line,
                cell: lr_text,
            });
        }
        Ok(CsvRow {
            lr,
            loss: cell(self.loss, "loss")?.0,
            smoothed_loss: self
                .smoothed
                .and_then(|c| cells(text).nth(c))
                .and_then(|c| c.parse().ok()),
        })
    }
}

impl<'a> Iterator for CsvRows<'a> {
    type Item = Result<CsvRow, CsvError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (i, text) = self.lines.by_ref().find(|(_, l)| !l.trim().is_empty())?;
        Some(self.row(i + 1, text))
    }
}

impl<const N: usize> LrFinder<N> {
    /// The range test recorded in `csv` (see [`CsvRows`]), analysed as a test of `num_iter` =
    /// its rows: every row [`record`](LrFinder::record)ed in order, so it is smoothed, stopped
    /// and trimmed exactly as the range test does. Every row is checked, also those after a stop.
    ///
    /// ```
    /// use sched_core::{LrFinder, Suggestion};
    /// let csv = "step,lr,loss\n0,0.001,2.3\n1,0.002,2.2\n2,0.004,2.0\n3,0.008,1.7\n4,0.016,1.9\n5,0.032,9.0\n";
    /// let finder = LrFinder::<16>::from_csv(csv).unwrap();
    /// assert_eq!(finder.suggest(Suggestion::Valley).unwrap().lr, 0.001);
    /// let bad = LrFinder::<16>::from_csv("lr,loss\n0.1,abc\n").unwrap_err();
    /// assert_eq!(bad.to_string(), "line 2: `loss` is `abc`, not a number");
    /// ```
    pub fn from_csv(csv: &str) -> Result<Self, CsvError<'_>> {
        let rows = CsvRows::new(csv)?;
        let mut count = 0usize;
        for row in rows.clone() {
            row?;
            count += 1;
        }
        let too_many = || CsvError::Rows {
            rows: count,
            min: LR_FINDER_MIN_NUM_ITER as usize,
            max: N,
        };
        let num_iter = u32::try_from(count).map_err(|_| too_many())?;
        let mut finder = Self::for_recorded(num_iter).map_err(|_: Error| too_many())?;
        for row in rows.flatten() {
            if finder.record(row.lr, row.loss).is_done() {
                break;
            }
        }
        Ok(finder)
    }
}
