//! Reports of recalign experiments: what one run measured (`results.json`,
//! [`Results`]), and the report over one or many of them: a markdown file
//! with tables in the layout of the paper's (mean ± std over seeds), each
//! headed by its dataset's statistics and protocol so a number never stands
//! without its setting ([`markdown`]), and SVG plots of training curves and
//! metric bars drawn by `plotters` without system libraries ([`plots`]).
//!
//! The crate reads and writes files only; it knows nothing of models.
//! `recalign-experiment` writes the results, `recalign report` reads them.

mod markdown;
mod plots;
mod results;
mod seeds;

use std::path::{Path, PathBuf};

pub use markdown::{markdown, tables};
pub use plots::plots;
pub use results::{
    CurvePoint, DatasetSummary, RESULTS_FILE, RESULTS_FORMAT, Results, Row, StageTime, find_results,
};

/// A report's errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file.
    #[error(transparent)]
    Io(#[from] recalign_runtime::IoError),
    /// A results file that is not what recalign writes.
    #[error("{path}: {message}")]
    Results {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Drawing a plot.
    #[error("plotting {path}: {message}")]
    Plot {
        /// The plot's file.
        path: PathBuf,
        /// The drawing backend's message.
        message: String,
    },
    /// Nothing to report on.
    #[error("{0}")]
    Empty(String),
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;

/// The files a report wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The markdown file.
    pub markdown: PathBuf,
    /// The SVG plots, in the order the markdown shows them.
    pub plots: Vec<PathBuf>,
}

/// Writes `report.md` and `plots/*.svg` about `results` into `dir`; the
/// markdown links the plots by relative path.
pub fn write(results: &[Results], dir: &Path) -> Result<Written> {
    if results.is_empty() {
        return Err(Error::Empty("no results to report on".into()));
    }
    let plot_dir = dir.join("plots");
    std::fs::create_dir_all(&plot_dir).map_err(recalign_runtime::IoError::at(&plot_dir))?;
    let plots = plots(results, &plot_dir)?;
    let relative: Vec<PathBuf> = plots
        .iter()
        .filter_map(|p| p.strip_prefix(dir).ok().map(Path::to_path_buf))
        .collect();
    let text = markdown(results, &relative);
    let path = dir.join("report.md");
    recalign_runtime::write_atomically(&path, text.as_bytes())?;
    Ok(Written {
        markdown: path,
        plots,
    })
}
