//! The one error type of the evaluation crate.
//!
//! Errors about files name the file, and for the rankings file also the line
//! and the field, so that a user can open it at the right place.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while evaluating or reading and writing results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be created, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
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
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A field of one line of a rankings file has a bad or missing value.
    #[error("{}:{line}: field `{field}`: {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A protocol is inconsistent (a training split, no cut-offs, too few
    /// candidates).
    #[error("invalid protocol: {0}")]
    Protocol(String),
    /// A model's scores or ranked list cannot be evaluated (wrong length,
    /// NaN, an item outside the candidates, a repeated item).
    #[error("{0}")]
    Scores(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A bad value in `field` on `line` of `path`.
    pub fn field(path: &Path, line: u64, field: &str, message: impl fmt::Display) -> Self {
        Error::Field {
            path: path.to_path_buf(),
            line,
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    /// A line of `path` that cannot be parsed.
    pub fn line(path: &Path, line: u64, message: impl fmt::Display) -> Self {
        Error::Line {
            path: path.to_path_buf(),
            line,
            message: message.to_string(),
        }
    }
}
