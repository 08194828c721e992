//! Files: determinism across thread counts, shards, candidate lists.

use std::path::Path;

use recalign_data::Split;
use recalign_samples::write::{Shard, WriteOptions};
use recalign_samples::{Generator, SamplesConfig};

use crate::util::shop;

fn write_with(threads: usize, dir: &Path, options: &WriteOptions) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let g = Generator::new(shop(), SamplesConfig::default()).unwrap();
        recalign_samples::write(&g, dir, options, &|_| {}).unwrap();
    });
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let options = WriteOptions::default();
    write_with(1, a.path(), &options);
    write_with(4, b.path(), &options);
    for name in [
        "train.jsonl",
        "valid.jsonl",
        "test.jsonl",
        "ranking-candidates-test.jsonl",
        "manifest.json",
    ] {
        assert_eq!(
            read(&a.path().join(name)),
            read(&b.path().join(name)),
            "{name}"
        );
    }
}

#[test]
fn shards_concatenate_to_the_whole() {
    let whole = tempfile::tempdir().unwrap();
    write_with(2, whole.path(), &WriteOptions::default());
    let parts = tempfile::tempdir().unwrap();
    for index in 0..3 {
        let options = WriteOptions {
            shard: Shard { index, count: 3 },
            ..WriteOptions::default()
        };
        write_with(2, parts.path(), &options);
    }
    for split in ["train", "valid", "test"] {
        let joined: Vec<u8> = (0..3)
            .flat_map(|i| read(&parts.path().join(format!("{split}-{i:05}-of-00003.jsonl"))))
            .collect();
        assert_eq!(
            joined,
            read(&whole.path().join(format!("{split}.jsonl"))),
            "{split}"
        );
    }
}

#[test]
fn lines_have_the_documented_fields_and_gzip_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let options = WriteOptions {
        gzip: true,
        splits: vec![Split::Test],
        ..WriteOptions::default()
    };
    write_with(2, dir.path(), &options);
    let bytes = read(&dir.path().join("test.jsonl.gz"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for field in [
        "task",
        "template",
        "split",
        "user",
        "input",
        "target",
        "target_items",
    ] {
        assert!(first.get(field).is_some(), "{field}");
    }
    assert_eq!(first["split"], "test");
    // The persisted candidate lists read back and match the dataset.
    let lists = recalign_data::candidates::read_lists(
        &dir.path().join("ranking-candidates-test.jsonl"),
        shop(),
    )
    .unwrap();
    assert_eq!(lists.len(), shop().num_users());
    assert!(
        lists
            .iter()
            .all(|l| (2..=100).contains(&l.candidates.len()))
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("manifest.json"))).unwrap();
    assert_eq!(manifest["dataset"], "synthetic");
    assert!(manifest["templates"].as_array().unwrap().len() >= 10);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}
