//! Errors that point into a file: which file, and where they can, which line
//! and which field, so that a user can open the file at the right place.
//!
//! Each crate keeps its own error enum and embeds these as variants
//! (`Io(#[from] IoError)` …); [`FileErrors`] gives every such enum the same
//! `Error::io`, `Error::field` and `Error::line` constructors.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A file could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    /// The file.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl IoError {
    /// An I/O error on `path`.
    pub fn new(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self {
            path: path.into(),
            source,
        }
    }

    /// A closure for `map_err` that attaches `path` to an I/O error.
    pub fn at(path: &Path) -> impl FnOnce(io::Error) -> Self + '_ {
        move |source| Self::new(path, source)
    }
}

/// One field of one line has a bad or missing value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: field `{field}`: {message}", path.display())]
pub struct FieldError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// The field, as named in the file format.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A line cannot be parsed at all (not JSON, not UTF-8, wrong column count).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct LineError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// The constructors of the file errors, for any error type that embeds them.
///
/// Implemented for every type; each constructor is available where the type
/// converts from the error it builds, so `Error::io(path, e)` reads the same
/// in every crate.
pub trait FileErrors: Sized {
    /// An I/O error on `path`.
    fn io(path: impl Into<PathBuf>, source: io::Error) -> Self
    where
        Self: From<IoError>,
    {
        IoError::new(path, source).into()
    }

    /// A bad value in `field` on `line` of `path`.
    fn field(path: &Path, line: u64, field: &str, message: impl fmt::Display) -> Self
    where
        Self: From<FieldError>,
    {
        FieldError {
            path: path.to_path_buf(),
            line,
            field: field.to_string(),
            message: message.to_string(),
        }
        .into()
    }

    /// A line of `path` that cannot be parsed.
    fn line(path: &Path, line: u64, message: impl fmt::Display) -> Self
    where
        Self: From<LineError>,
    {
        LineError {
            path: path.to_path_buf(),
            line,
            message: message.to_string(),
        }
        .into()
    }
}

impl<E> FileErrors for E {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Local {
        #[error(transparent)]
        Io(#[from] IoError),
        #[error(transparent)]
        Field(#[from] FieldError),
        #[error(transparent)]
        Line(#[from] LineError),
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let path = Path::new("data/items.jsonl");
        let field = Local::field(path, 7, "price", "not a number");
        assert_eq!(
            field.to_string(),
            "data/items.jsonl:7: field `price`: not a number"
        );
        let line = Local::line(path, 3, "not JSON");
        assert_eq!(line.to_string(), "data/items.jsonl:3: not JSON");
        let io = Local::io(path, io::Error::new(io::ErrorKind::NotFound, "gone"));
        assert_eq!(io.to_string(), "data/items.jsonl: gone");
        assert!(matches!(io, Local::Io(IoError { .. })));
        let source = std::error::Error::source(&io).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("gone"));
    }
}
