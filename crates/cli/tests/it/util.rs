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

pub use recalign_testkit::{shared_data, write_fixture};
