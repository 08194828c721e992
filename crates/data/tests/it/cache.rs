//! The prepared-dataset cache: round trip, keys, corruption, atomicity.

use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{
    CacheKey, DatasetCache, DatasetSpec, Error, LoadOptions, PrepareConfig, Source,
};

fn options(cache: &std::path::Path) -> LoadOptions {
    LoadOptions {
        cache: Some(DatasetCache::new(cache)),
        ..LoadOptions::default()
    }
}

const SPEC: DatasetSpec = DatasetSpec::Synthetic(SyntheticConfig {
    seed: 9,
    users: 300,
});

#[test]
fn a_cached_dataset_reloads_equal() {
    let dir = tempfile::tempdir().unwrap();
    let config = PrepareConfig::default();
    let first = recalign_data::load(&SPEC, &config, &options(dir.path())).unwrap();
    assert!(!first.from_cache);
    let second = recalign_data::load(&SPEC, &config, &options(dir.path())).unwrap();
    assert!(second.from_cache);
    assert_eq!(first.dataset, second.dataset);
    assert_eq!(first.cache_file, second.cache_file);
    // Only the cache file is left in the directory: no temporaries.
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn keys_change_with_configuration_and_source() {
    let config = PrepareConfig::default();
    let source = Source::Synthetic(SyntheticConfig {
        seed: 9,
        users: 300,
    });
    let key = CacheKey::new(&source, &config).unwrap();
    assert_eq!(key, CacheKey::new(&source, &config).unwrap());
    let other_config = PrepareConfig {
        max_history: 5,
        ..config.clone()
    };
    assert_ne!(key, CacheKey::new(&source, &other_config).unwrap());
    let other_source = Source::Synthetic(SyntheticConfig {
        seed: 10,
        users: 300,
    });
    assert_ne!(key, CacheKey::new(&other_source, &config).unwrap());
}

#[test]
fn damaged_cache_files_are_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = PrepareConfig::default();
    let loaded = recalign_data::load(&SPEC, &config, &options(dir.path())).unwrap();
    let path = loaded.cache_file.unwrap();
    let good = std::fs::read(&path).unwrap();
    let source = Source::Synthetic(SyntheticConfig {
        seed: 9,
        users: 300,
    });
    let key = CacheKey::new(&source, &config).unwrap();
    let cache = DatasetCache::new(dir.path());
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 1;
    for (bytes, reason) in [
        (good[..good.len() - 10].to_vec(), "truncated"),
        (flipped, "checksum mismatch"),
        (b"garbage".to_vec(), "not a recalign dataset file"),
    ] {
        std::fs::write(&path, bytes).unwrap();
        let err = cache.load("synthetic", &key).unwrap_err();
        assert!(matches!(err, Error::Cache { .. }), "{err}");
        assert!(err.to_string().contains(reason), "{err}");
        // `load` rebuilds and rewrites it.
        let again = recalign_data::load(&SPEC, &config, &options(dir.path())).unwrap();
        assert!(!again.from_cache);
        assert_eq!(again.dataset, loaded.dataset);
    }
}
