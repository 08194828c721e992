//! Progress bars on stderr (indicatif) for the library's progress hooks.
//! Files read together share one bar (their sizes add up).
//! Bars are hidden when stderr is not a terminal or with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use recalign_data::Progress;

/// A byte-count bar over all files of a load.
pub struct FileBar {
    bar: ProgressBar,
}

impl FileBar {
    /// A bar drawing to stderr, or hidden when `quiet`.
    pub fn new(quiet: bool) -> Self {
        FileBar {
            bar: bar(quiet, Some(0), BYTES),
        }
    }
}

/// `label [bar] 12.3 MiB/45.6 MiB (ETA)`
pub const BYTES: &str = "{msg:.bold} [{bar:30}] {bytes}/{total_bytes} ({eta})";

/// A bar of `len` steps drawn with `template` on stderr, hidden when
/// `quiet`.
pub fn bar(quiet: bool, len: Option<u64>, template: &str) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(len, target);
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

impl Progress for FileBar {
    fn begin(&self, label: &str, total_bytes: u64) {
        self.bar.inc_length(total_bytes);
        self.bar.set_message(format!("reading {label}"));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}
