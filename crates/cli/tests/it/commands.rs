//! `run`, `stats`, `prepare`: output, exit codes, cache, export.

use predicates::prelude::*;

use crate::util::{fails, recalign, shared_data, succeeds, write_fixture};

/// `recalign stats ARGS` on the embedded shop, which succeeds.
fn stats(args: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap();
    let assert = succeeds(recalign(cache.path()).arg("stats").args(args), &[]);
    assert.get_output().clone()
}

#[test]
fn stats_of_the_embedded_shop_are_stable() {
    let out = stats(&["--no-cache"]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn stats_json_is_machine_readable() {
    let v: serde_json::Value = serde_json::from_slice(&stats(&["--json"]).stdout).unwrap();
    assert_eq!(v["dataset"], "synthetic");
    assert!(v["users"].as_u64().unwrap() > 1000);
    assert_eq!(v["config"]["ties"], "file-order");
    assert_eq!(v["config"]["id_scheme"], "atomic");
}

#[test]
fn the_second_load_comes_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args(["prepare"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(from cache)").not());
    recalign(cache.path())
        .args(["prepare"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(from cache)"));
    // A different configuration is a different cache entry.
    recalign(cache.path())
        .args(["prepare", "--seed", "7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(from cache)").not());
}

#[test]
fn a_corrupt_cache_is_reported_and_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    recalign(cache.path()).arg("prepare").assert().success();
    let file = std::fs::read_dir(cache.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "dataset"))
        .unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    recalign(cache.path())
        .arg("prepare")
        .assert()
        .success()
        .stderr(predicate::str::contains("checksum mismatch"))
        .stdout(predicate::str::contains("(from cache)").not());
    recalign(cache.path())
        .arg("prepare")
        .assert()
        .success()
        .stdout(predicate::str::contains("(from cache)"));
}

#[test]
fn prepare_exports_the_split() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args(["prepare", "--export"])
        .arg(out.path())
        .assert()
        .success();
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    let (train, valid, test, items) = (
        read("train.tsv"),
        read("valid.tsv"),
        read("test.tsv"),
        read("items.tsv"),
    );
    assert!(train.starts_with("user_id\titem_id\trating\ttimestamp\n"));
    let users = valid.lines().count() - 1;
    assert_eq!(users, test.lines().count() - 1);
    assert!(users > 1000);
    assert!(items.starts_with("item_id\tidentifier\ttitle\n"));
}

#[test]
fn bad_command_lines_exit_2() {
    let cache = tempfile::tempdir().unwrap();
    recalign(cache.path())
        .args(["stats", "--ties", "random"])
        .assert()
        .code(2);
    recalign(cache.path()).arg("frobnicate").assert().code(2);
}

#[test]
fn unknown_datasets_exit_1_with_a_hint() {
    let cache = tempfile::tempdir().unwrap();
    fails(
        recalign(cache.path()).args(["stats", "-d", "movielens"]),
        &[
            "error: unknown dataset `movielens`",
            "hint: use one of synthetic, beauty",
        ],
    );
}

#[test]
fn a_missing_data_directory_names_what_was_looked_for() {
    let cache = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    fails(
        recalign(cache.path())
            .args(["stats", "-d", "beauty", "--data-dir"])
            .arg(empty.path()),
        &["beauty/interactions.tsv.gz", "RECALIGN_DATA"],
    );
}

#[test]
fn bad_input_names_file_line_and_field() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(
        dir.path(),
        "interactions.csv",
        "user,item,rating,timestamp\nu1,i1,5,100\nu1,i2,five,101\n",
    );
    let stats = |file: &std::path::Path| {
        let mut cmd = recalign(cache.path());
        cmd.args(["stats", "--no-cache", "-d"]).arg(file);
        cmd
    };
    fails(
        &mut stats(&file),
        &["interactions.csv:3: field `rating`: `five` is not a number"],
    );
    let rows: String = (0..5000)
        .map(|i| format!("u{}\ti{}\t{i}\n", i % 50, i % 7))
        .collect();
    let gz = write_fixture(
        dir.path(),
        "broken.tsv.gz",
        &format!("user\titem\ttimestamp\n{rows}"),
    );
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    fails(
        &mut stats(&gz),
        &["broken.tsv.gz: gzip stream is truncated or corrupt"],
    );
}

#[test]
fn a_config_file_with_an_unknown_key_is_rejected_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path(), "prep.toml", "[prepare]\nuser_cores = 5\n");
    fails(
        recalign(cache.path())
            .args(["stats", "--config"])
            .arg(&file),
        &["user_cores"],
    );
}

#[test]
fn stats_reproduce_the_published_amazon_counts() {
    let Some(data) = shared_data() else { return };
    let cache = tempfile::tempdir().unwrap();
    for (name, counts) in [
        ("beauty", ["22,363", "12,101", "198,502"]),
        ("sports", ["35,598", "18,357", "296,337"]),
        ("toys", ["19,412", "11,924", "167,597"]),
    ] {
        let out = recalign(cache.path())
            .args(["stats", "-d", name, "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        let text = String::from_utf8(out.stdout).unwrap();
        let published = format!(
            "published      {} / {} / {}",
            counts[0], counts[1], counts[2]
        );
        assert!(text.contains(&published), "{name}:\n{text}");
        assert!(text.contains("dataset tables): match"), "{name}:\n{text}");
        assert!(
            text.contains(&format!("users          {:>10}", counts[0])),
            "{name}:\n{text}"
        );
    }
}

#[test]
fn ids_show_prints_a_code_and_the_items_that_share_it() {
    let cache = tempfile::tempdir().unwrap();
    let config = write_fixture(
        cache.path(),
        "codes.toml",
        "[prepare]\nid_scheme = \"semantic\"\n[prepare.semantic]\nfeatures = \"content\"\ncodebook = 16\n",
    );
    let assert = succeeds(
        recalign(cache.path())
            .args(["ids", "show", "SHOP00001", "--limit", "3", "--config"])
            .arg(&config),
        &["item    SHOP00001  <a_", "code    <a_", "sharing <a_"],
    );
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    // Three prefixes (one, two and three codes), at most three items each,
    // every listed item sharing the first code.
    let first = out.lines().nth(1).unwrap()["code    ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(out.matches("\nsharing ").count(), 3, "{out}");
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("  SHOP")).collect();
    assert!(!listed.is_empty() && listed.len() <= 9, "{out}");
    assert!(listed.iter().all(|l| l.contains(&first)), "{out}");
    // The stats report the codes.
    succeeds(
        recalign(cache.path())
            .arg("stats")
            .arg("--config")
            .arg(&config),
        &[
            "codes          content, 3×16 + separator",
            "  level a",
            "  collisions",
        ],
    );
    // An item that does not exist, and a dataset without codes.
    fails(
        recalign(cache.path())
            .args(["ids", "show", "NOPE", "--config"])
            .arg(&config),
        &["no item of `synthetic` has the raw id or identifier `NOPE`"],
    );
    fails(
        recalign(cache.path()).args(["ids", "show", "SHOP00001"]),
        &[
            "prepared with `atomic` identifiers",
            "id_scheme = \"semantic\"",
        ],
    );
}
