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

/// One display across a run's stages: `[i/n] stage` with its own bar and
/// ETA while it works, then a line with its wall time, and notes
/// (validation scores, a resumed training) as they come. `--quiet` shows
/// none of it.
pub struct StageBar {
    bar: ProgressBar,
    quiet: bool,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stopping: bool,
}

impl StageBar {
    /// A display on stderr (hidden when `quiet`) that asks the run to stop
    /// once `stop` is raised.
    pub fn new(quiet: bool, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        StageBar {
            bar: bar(quiet, Some(0), STAGE),
            quiet,
            stop,
            stopping: false,
        }
    }
}

/// `[3/9] train [====>   ] 120/1000 steps · loss 4.1 (2m)`
const STAGE: &str = "{prefix:.bold} [{bar:30}] {pos}/{len} {msg} ({eta})";

impl Drop for StageBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl recalign_experiment::Monitor for StageBar {
    fn stage_started(&mut self, stage: &recalign_experiment::StageInfo) {
        let cell = match stage.cell.is_empty() {
            true => String::new(),
            false => format!(" ({})", stage.cell),
        };
        self.bar.set_prefix(format!(
            "[{}/{}] {}{cell}",
            stage.index, stage.total, stage.name
        ));
        self.bar.set_length(0);
        self.bar.set_position(0);
        self.bar.set_message("");
        self.bar.reset_eta();
    }

    fn stage_finished(
        &mut self,
        stage: &recalign_experiment::StageInfo,
        seconds: f64,
        reused: bool,
    ) {
        if self.quiet {
            return;
        }
        let cell = match stage.cell.is_empty() {
            true => String::new(),
            false => format!(" ({})", stage.cell),
        };
        let time = match reused {
            true => "reused (settings unchanged)".to_string(),
            false => format!("{seconds:.1} s"),
        };
        self.bar.suspend(|| {
            eprintln!(
                "[{}/{}] {}{cell}: {time}",
                stage.index, stage.total, stage.name
            );
        });
    }

    fn progress(&mut self, done: u64, total: u64, message: &str) {
        self.should_stop();
        if total > 0 && self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
        self.bar.set_message(message.to_string());
    }

    fn note(&mut self, message: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("  {message}"));
        }
    }

    fn should_stop(&mut self) -> bool {
        let stop = self.stop.load(std::sync::atomic::Ordering::SeqCst);
        if stop && !self.stopping {
            self.stopping = true;
            self.bar.suspend(|| {
                eprintln!(
                    "stopping: training at its next step, with a checkpoint; other stages \
                     when they end (Ctrl-C again to quit at once)"
                )
            });
        }
        stop
    }
}
