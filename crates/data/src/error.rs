//! The one error type of the data crate.
//!
//! Every variant that comes from a file names the file, and where it can, the
//! line and the field, so that a user can open the file at the right place.
//! The I/O, line and field errors are recalign-runtime's, shared by every
//! crate; [`FileErrors`] gives `Error::io`, `Error::field` and `Error::line`.

use std::io;
use std::path::PathBuf;

pub use recalign_runtime::{FieldError, FileErrors, IoError, LineError};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while reading, preparing or caching a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // === I/O ===
    /// A file could not be opened, read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A gzip stream ended early or is corrupt.
    #[error(
        "{}: gzip stream is truncated or corrupt (after line {line}): {source}",
        path.display()
    )]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The last line read in full.
        line: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },

    // === Bad input ===
    /// A field of one line has a bad or missing value.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A line cannot be parsed at all (not JSON, not UTF-8, wrong column count).
    #[error(transparent)]
    Line(#[from] LineError),
    /// A file holds no records.
    #[error("{}: file is empty (no records)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A dataset directory lacks the files of every known format.
    #[error(
        "no dataset files for `{name}` in {}: looked for {expected}\n\
         hint: pass --data-dir DIR or set RECALIGN_DATA to the folder that holds `{name}/`",
        dir.display()
    )]
    MissingFiles {
        /// The dataset name or path asked for.
        name: String,
        /// Where the files were looked for.
        dir: PathBuf,
        /// The file names that were tried.
        expected: String,
    },
    /// A dataset name is neither a known dataset nor an existing path.
    #[error(
        "unknown dataset `{name}`\n\
         hint: use one of synthetic, beauty, sports, toys, or a path to a CSV/TSV file or a dataset directory"
    )]
    UnknownDataset {
        /// The name asked for.
        name: String,
    },
    /// Preparation left nothing to split.
    #[error("dataset `{name}` is empty after preparation: {reason}")]
    EmptyDataset {
        /// The dataset.
        name: String,
        /// Why (e.g. which filter removed everything).
        reason: String,
    },
    /// A configuration value or file is invalid.
    #[error("{0}")]
    Config(String),

    // === Cache ===
    /// A cache file exists but cannot be used.
    #[error("{}: unusable cache file: {reason}", path.display())]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
}

impl Error {
    /// The 1-based line an error points at, if it points at one.
    pub fn line_number(&self) -> Option<u64> {
        match self {
            Error::Field(FieldError { line, .. })
            | Error::Line(LineError { line, .. })
            | Error::Gzip { line, .. } => Some(*line),
            _ => None,
        }
    }
}
