//! Fixtures and helpers.

use recalign_data::source::{RawData, RawInteraction};
use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, LoadOptions, PrepareConfig, prepare};

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

/// The synthetic shop of `config`, prepared by default.
pub fn synthetic_shop(config: SyntheticConfig) -> Dataset {
    let spec = DatasetSpec::Synthetic(config);
    recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
        .expect("the shop prepares")
        .dataset
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

pub use recalign_testkit::{shared_data, write_fixture as write};
