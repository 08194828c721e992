//! Fixtures and helpers.

use std::path::{Path, PathBuf};

use recalign_data::source::{RawData, RawInteraction};
use recalign_data::{Dataset, PrepareConfig, prepare};

/// Raw data from `(user, item, timestamp)` rows in file order.
pub fn raw(rows: &[(&str, &str, Option<i64>)]) -> RawData {
    let mut raw = RawData::default();
    for &(user, item, ts) in rows {
        let u = raw.users.intern(user);
        let i = raw.items.intern(item);
        raw.interactions.push(RawInteraction::new(u, i, None, ts));
    }
    raw
}

/// Prepares `rows` with no k-core beyond the split's minimum.
pub fn prepared(rows: &[(&str, &str, Option<i64>)], config: PrepareConfig) -> Dataset {
    prepare("test", raw(rows), &config).expect("fixture prepares")
}

/// A config without item filtering.
pub fn loose() -> PrepareConfig {
    PrepareConfig {
        user_core: 0,
        item_core: 0,
        ..PrepareConfig::default()
    }
}

/// The raw item ids of `user`'s whole sequence.
pub fn items_of(data: &Dataset, user: &str) -> Vec<String> {
    let u = data.user_by_raw_id(user).expect("user exists");
    data.sequence(u)
        .iter()
        .map(|e| data.item(e.item).raw_id.clone())
        .collect()
}

/// Writes `text` to `dir/name`, gzip-compressed when the name ends in `.gz`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::io::Write;
    let path = dir.join(name);
    if name.ends_with(".gz") {
        let file = std::fs::File::create(&path).expect("create fixture");
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        gz.write_all(text.as_bytes()).expect("write fixture");
        gz.finish().expect("finish gzip");
    } else {
        std::fs::write(&path, text).expect("write fixture");
    }
    path
}

/// The shared Amazon data, if `RECALIGN_DATA` points at it. With
/// `RECALIGN_REQUIRE_DATA=1` (as in CI) a missing directory fails the test.
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
