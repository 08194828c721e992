//! Helpers shared by the integration tests.

use std::path::Path;

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;

/// `recalign` with a private cache directory and no inherited data dir.
pub fn recalign(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("recalign").expect("the recalign binary is built");
    cmd.env("RECALIGN_CACHE", cache)
        .env_remove("RECALIGN_DATA")
        .env_remove("RECALIGN_LOG");
    cmd
}

/// Runs `cmd`: it succeeds and prints each of `texts` on stdout.
pub fn succeeds(cmd: &mut Command, texts: &[&str]) -> Assert {
    texts.iter().fold(cmd.assert().success(), |assert, text| {
        assert.stdout(predicate::str::contains(*text))
    })
}

/// Runs `recalign ARGS --out DIR` into a fresh DIR: it succeeds and prints
/// each of `texts`. Returns DIR.
pub fn writes(cache: &Path, args: &[&str], texts: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    succeeds(
        recalign(cache).args(args).arg("--out").arg(out.path()),
        texts,
    );
    out
}

/// [`writes`] with a fresh cache of its own, for a test that never reads the
/// cache again.
pub fn writes_fresh(args: &[&str], texts: &[&str]) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    writes(cache.path(), args, texts)
}

/// Runs `cmd`: it fails with exit code 1 and names each of `texts` on
/// stderr.
pub fn fails(cmd: &mut Command, texts: &[&str]) -> Assert {
    texts.iter().fold(cmd.assert().code(1), |assert, text| {
        assert.stderr(predicate::str::contains(*text))
    })
}

/// Each of `names` is a file in `dir`.
pub fn assert_files(dir: &Path, names: &[&str]) {
    for name in names {
        assert!(
            dir.join(name).is_file(),
            "{name} missing in {}",
            dir.display()
        );
    }
}

/// A JSON file written by a command (report, summary), parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of a JSON-lines file (rankings, candidate lists), parsed.
pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

pub use recalign_testkit::{shared_data, write_fixture};
