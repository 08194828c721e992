//! Helpers shared by the integration tests.

use std::path::Path;

use assert_cmd::Command;

/// `recalign` with a private cache directory and no inherited data dir.
pub fn recalign(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("recalign").expect("the recalign binary is built");
    cmd.env("RECALIGN_CACHE", cache)
        .env_remove("RECALIGN_DATA")
        .env_remove("RECALIGN_LOG");
    cmd
}

/// A JSON file written by a command (report, summary), parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub use recalign_testkit::{shared_data, write_fixture};
