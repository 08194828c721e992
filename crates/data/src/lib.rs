//! Datasets for recalign: from files (or the embedded synthetic shop) to a
//! prepared, split, identified [`Dataset`] that every later stage reads.
//!
//! # Brief overview
//!
//! - [`DatasetSpec`] names a dataset (`synthetic`, `beauty`, `sports`,
//!   `toys`, or a path) and [`Source`] resolves it to files in the data
//!   directory ([`spec`] lists the formats and the search order).
//! - [`source`] reads the formats: the shared Amazon TSV/JSONL files, McAuley's
//!   2014 originals (JSON reviews, Python-literal metadata), and a user's own
//!   CSV/TSV plus items JSONL. Interaction files are strict; metadata lines
//!   that cannot be used are skipped and counted.
//! - [`prepare()`] filters to a k-core, orders each user's interactions by
//!   time with a documented tie rule, builds the catalogue and assigns item
//!   identifiers ([`ids`]); [`Dataset`] exposes the leave-one-out split.
//! - [`cache`] stores prepared datasets in versioned, checksummed files keyed
//!   by source and configuration; [`load`] ties it all together.
//! - [`DatasetStats`] computes the dataset table; [`candidates`] draws
//!   negatives and the ranking protocol's seeded candidate lists.
//!
//! ```
//! use recalign_data::{load, DatasetSpec, LoadOptions, PrepareConfig, Split};
//! use recalign_data::synthetic::SyntheticConfig;
//!
//! let spec = DatasetSpec::Synthetic(SyntheticConfig { seed: 1, users: 300 });
//! let loaded = load(&spec, &PrepareConfig::default(), &LoadOptions::default()).unwrap();
//! let data = &loaded.dataset;
//! let test = data.held_out_all(Split::Test).next().unwrap();
//! // The test item is the user's last interaction; its history is everything before.
//! assert_eq!(test.history.len() + 1, data.sequence(test.user).len());
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod cache;
pub mod candidates;
pub mod codes;
pub mod dataset;
pub mod error;
pub mod export;
pub mod ids;
pub mod new_items;
pub mod prepare;
pub mod read;
pub mod source;
pub mod spec;
pub mod stats;
pub mod synthetic;

use std::path::PathBuf;
use std::time::Instant;

pub use cache::{CacheKey, DatasetCache};
pub use codes::{CodeReport, FeatureKind, SemanticConfig};
pub use dataset::{Dataset, Event, HeldOut, Item, ItemIdx, Split, UserIdx};
pub use error::{Error, Result};
pub use ids::IdScheme;
pub use new_items::{NewItem, NewItemError};
pub use prepare::{PrepareConfig, PrepareReport, TieReport, TieRule, prepare};
pub use read::{Progress, ProgressHandle};
pub use spec::{Amazon, DatasetSpec, Source};
pub use stats::DatasetStats;

/// Where to find data and whether to cache it.
#[derive(Clone)]
pub struct LoadOptions {
    /// The data directory (see [`spec::data_dir`]).
    pub data_dir: PathBuf,
    /// Overrides the item metadata file.
    pub items: Option<PathBuf>,
    /// The cache, or `None` to always prepare afresh.
    pub cache: Option<DatasetCache>,
    /// Receives read progress.
    pub progress: ProgressHandle,
}

impl Default for LoadOptions {
    /// The data directory from the environment, no cache, no progress.
    fn default() -> Self {
        LoadOptions {
            data_dir: spec::data_dir(None),
            items: None,
            cache: None,
            progress: read::silent(),
        }
    }
}

/// A loaded dataset and where it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The prepared dataset.
    pub dataset: Dataset,
    /// The cache file it was read from or written to, if any.
    pub cache_file: Option<PathBuf>,
    /// Whether it came from the cache.
    pub from_cache: bool,
    /// Wall time of the load in seconds.
    pub seconds: f64,
}

/// Loads `spec` prepared under `config`: from the cache when a valid entry
/// exists, else by reading and preparing the source (and caching the result;
/// a cache that cannot be written is logged and skipped).
pub fn load(spec: &DatasetSpec, config: &PrepareConfig, options: &LoadOptions) -> Result<Loaded> {
    let start = Instant::now();
    config.validate()?;
    let name = spec.name();
    let source = Source::resolve(spec, &options.data_dir, options.items.as_deref())?;
    let cached = match &options.cache {
        Some(cache) => {
            let key = CacheKey::new(&source, config)?;
            match cache.load(&name, &key) {
                Ok(Some(dataset)) => {
                    let path = cache.path(&name, &key);
                    tracing::debug!(path = %path.display(), "dataset read from cache");
                    return Ok(Loaded {
                        dataset,
                        cache_file: Some(path),
                        from_cache: true,
                        seconds: start.elapsed().as_secs_f64(),
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}; preparing the dataset again"),
            }
            Some((cache, key))
        }
        None => None,
    };
    let read_start = Instant::now();
    let raw = source.read(&options.progress)?;
    tracing::debug!(
        seconds = read_start.elapsed().as_secs_f64(),
        interactions = raw.interactions.len(),
        "source read"
    );
    if raw.skipped_metadata.count > 0 {
        tracing::warn!(
            "skipped {} metadata lines that could not be used; first: {}",
            raw.skipped_metadata.count,
            raw.skipped_metadata.first.join("; ")
        );
    }
    let prepare_start = Instant::now();
    let dataset = prepare(&name, raw, config)?;
    tracing::debug!(
        seconds = prepare_start.elapsed().as_secs_f64(),
        "dataset prepared"
    );
    let cache_file = cached.and_then(|(cache, key)| match cache.store(&name, &key, &dataset) {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::warn!("could not cache the prepared dataset: {e}");
            None
        }
    });
    Ok(Loaded {
        dataset,
        cache_file,
        from_cache: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}
