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
