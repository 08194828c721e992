//! Test helpers shared by recalign's crates; a dev-dependency only, never a
//! dependency of library code.

#![deny(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared Amazon data, if `RECALIGN_DATA` points at a folder holding
/// `beauty/`. Tests that need it return early when it is absent, after a
/// message; with `RECALIGN_REQUIRE_DATA=1` (as in CI) its absence fails the
/// test instead.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("RECALIGN_DATA").map(PathBuf::from);
    match dir {
        Some(dir) if dir.join("beauty").is_dir() => Some(dir),
        _ if std::env::var("RECALIGN_REQUIRE_DATA").is_ok_and(|v| v == "1") => {
            panic!("RECALIGN_REQUIRE_DATA=1 but RECALIGN_DATA does not hold beauty/")
        }
        _ => {
            eprintln!("skipped: RECALIGN_DATA does not point at the shared Amazon data");
            None
        }
    }
}

/// The root of the checkout a bench runs in, where it finds the Python
/// sides (`scripts/`, `.venv-*`) and writes `target/bench/`. Read at run
/// time from the `CARGO_MANIFEST_DIR` that cargo sets for the bench it
/// runs (a crate under `crates/`), so a bench binary that two checkouts
/// share through one `CARGO_TARGET_DIR`, and that cargo therefore does not
/// rebuild, still works in the checkout that ran it; a binary run by hand
/// falls back to the checkout that built it.
pub fn workspace() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    crate_dir.join("../..")
}

/// Writes `text` to `dir/name`, gzip-compressed when the name ends in `.gz`,
/// and returns the path.
pub fn write_fixture(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if name.ends_with(".gz") {
        std::fs::write(&path, gzip(text.as_bytes())).expect("write fixture");
    } else {
        std::fs::write(&path, text).expect("write fixture");
    }
    path
}

/// `bytes`, gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("compress in memory");
    gz.finish().expect("finish gzip")
}

/// Peak resident memory of this process in MiB since it started or since
/// the last [`reset_peak_rss`] (Linux's `VmHWM`; `None` elsewhere). The
/// benches report it beside their Python peers' `ru_maxrss`.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Restarts [`peak_rss_mb`] from the memory resident now (Linux:
/// `clear_refs` 5), so that a bench measuring one side in its own process
/// after a warm-up reads the peak of what follows. Returns whether the
/// kernel accepted it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 64 MB touched raises the peak by about that much; once freed, a
    /// reset brings the peak back down to what is resident now.
    #[test]
    fn peak_rss_follows_a_large_allocation_and_resets() {
        let Some(before) = peak_rss_mb() else {
            eprintln!("skipped: no /proc/self/status");
            return;
        };
        let block = vec![1u8; 64 << 20];
        let during = peak_rss_mb().unwrap();
        assert!(during - before > 48.0, "{before} MB -> {during} MB");
        drop(std::hint::black_box(block));
        if reset_peak_rss() {
            let after = peak_rss_mb().unwrap();
            assert!(
                during - after > 48.0,
                "{during} MB -> {after} MB after reset"
            );
        }
    }
}
