//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `recalign` with a private cache directory and no inherited data dir.
pub fn recalign(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("recalign").expect("the recalign binary is built");
    cmd.env("RECALIGN_CACHE", cache)
        .env_remove("RECALIGN_DATA")
        .env_remove("RECALIGN_LOG");
    cmd
}

/// The shared Amazon data, if `RECALIGN_DATA` points at it. With
/// `RECALIGN_REQUIRE_DATA=1` (as in CI) a missing directory fails the test
/// instead of skipping it.
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

/// Writes `text` gzip-compressed to `path`.
pub fn write_gz(path: &Path, text: &str) {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("create fixture");
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("write fixture");
    gz.finish().expect("finish gzip");
}
