//! `data download`: the SHA-256 verification path, exercised with local
//! files through a `file://` base URL (never the network).

use predicates::prelude::*;

use crate::util::recalign;

#[test]
fn downloads_are_recorded_then_verified_and_a_mismatch_changes_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let mirror = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let reviews = "reviews_Beauty_5.json.gz";
    std::fs::write(mirror.path().join(reviews), b"first version").unwrap();
    let base = format!("file://{}", mirror.path().display());
    let download = || {
        let mut cmd = recalign(cache.path());
        cmd.args([
            "data",
            "download",
            "beauty",
            "--no-meta",
            "--base-url",
            &base,
            "--data-dir",
        ])
        .arg(data.path());
        cmd
    };
    download()
        .assert()
        .success()
        .stdout(predicate::str::starts_with("recorded "));
    let target = data.path().join("beauty").join(reviews);
    assert_eq!(std::fs::read(&target).unwrap(), b"first version");
    let sums = std::fs::read_to_string(data.path().join("beauty/SHA256SUMS")).unwrap();
    assert!(sums.ends_with(&format!("  {reviews}\n")), "{sums}");

    // Same content again: verified against SHA256SUMS.
    download()
        .assert()
        .success()
        .stdout(predicate::str::starts_with("verified "));

    // The mirror now serves different bytes: refused, old file kept.
    std::fs::write(mirror.path().join(reviews), b"tampered").unwrap();
    download()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("SHA-256 mismatch"));
    assert_eq!(std::fs::read(&target).unwrap(), b"first version");

    // An explicit digest wins over SHA256SUMS.
    let digest = "0".repeat(64);
    download()
        .args(["--sha256", &format!("{reviews}={digest}")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("expected {digest}")));
}
