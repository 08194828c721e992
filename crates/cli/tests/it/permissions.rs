//! Files recalign writes are as readable as any other new file: under umask
//! 022, group and others can read every file and enter every folder of a
//! run (samples, the prepared-data cache, the model, its checkpoints, the
//! report and the rankings file), although each was written through a
//! temporary file or folder first.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// `recalign ARGS` under umask 022, with a private cache.
fn under_umask_022(cache: &Path, args: &[&str]) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("recalign"))
        .args(args)
        .env("RECALIGN_CACHE", cache)
        .env_remove("RECALIGN_DATA")
        .env_remove("RECALIGN_LOG")
        .status()
        .expect("sh runs");
    assert!(status.success(), "recalign {args:?}: {status}");
}

/// Every file and folder below `dir`, with its mode bits.
fn modes(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        out.push((path.display().to_string(), meta.is_dir(), mode));
        if meta.is_dir() {
            modes(&path, out);
        }
    }
}

#[test]
fn everything_written_is_readable_by_group_and_others() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = |name: &str| out.path().join(name).display().to_string();
    let (model, report, rankings) = (path("model"), path("report.json"), path("rankings.jsonl"));
    under_umask_022(
        cache.path(),
        &[
            "train",
            "--max-steps",
            "2",
            "--batch-size",
            "4",
            "--out",
            &model,
        ],
    );
    under_umask_022(
        cache.path(),
        &[
            "evaluate",
            "--model",
            &model,
            "--users",
            "2",
            "--split",
            "valid",
            "--report",
            &report,
            "--rankings-out",
            &rankings,
        ],
    );
    let mut found = Vec::new();
    modes(out.path(), &mut found);
    modes(cache.path(), &mut found);
    for name in [
        "model.safetensors",
        "trainer_state.json",
        "train.jsonl",
        "report.json",
    ] {
        assert!(
            found.iter().any(|(path, _, _)| path.ends_with(name)),
            "{name} was not written: {found:?}"
        );
    }
    for (path, is_dir, mode) in &found {
        let needed = if *is_dir { 0o055 } else { 0o044 };
        assert_eq!(mode & needed, needed, "{path} has mode {mode:o}");
    }
}
