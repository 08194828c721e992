//! The one error type of the evaluation crate.
//!
//! Errors about files name the file, and for the rankings file also the line
//! and the field, so that a user can open it at the right place.

use std::path::PathBuf;

pub use recalign_runtime::{FieldError, FileErrors, IoError, LineError};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while evaluating or reading and writing results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be created, read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A report file is not a valid report.
    #[error("{}: not a recalign report: {source}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A line of a rankings file cannot be parsed at all.
    #[error(transparent)]
    Line(#[from] LineError),
    /// A field of one line of a rankings file has a bad or missing value.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A protocol is inconsistent (a training split, no cut-offs, too few
    /// candidates).
    #[error("invalid protocol: {0}")]
    Protocol(String),
    /// A model's scores or ranked list cannot be evaluated (wrong length,
    /// NaN, an item outside the candidates, a repeated item).
    #[error("{0}")]
    Scores(String),
}
