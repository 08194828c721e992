//! The shop and tiny settings shared by the tests.

use std::sync::OnceLock;

use recalign_baselines::BaselineConfig;
use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, LoadOptions, PrepareConfig};

/// The default synthetic shop (4,000 shoppers, ≈1,100 items after the
/// 5-core), prepared once per test binary.
pub fn shop() -> &'static Dataset {
    static SHOP: OnceLock<Dataset> = OnceLock::new();
    SHOP.get_or_init(|| {
        let spec = DatasetSpec::Synthetic(SyntheticConfig {
            seed: 2024,
            users: 4000,
        });
        recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
            .expect("the shop prepares")
            .dataset
    })
}

/// Small, fast settings: narrow models, few epochs, big batches.
pub fn tiny(epochs: usize) -> BaselineConfig {
    let mut config = BaselineConfig::default();
    config.train.epochs = epochs;
    config.train.batch_size = 256;
    config.train.eval_batch_size = 512;
    config.train.patience = 2;
    config.bpr_mf.embedding_size = 32;
    config.gru4rec.embedding_size = 32;
    config.gru4rec.hidden_size = 32;
    config.gru4rec.max_len = 20;
    for transformer in [
        &mut config.sasrec.transformer,
        &mut config.bert4rec.transformer,
    ] {
        transformer.hidden = 32;
        transformer.inner = 64;
        transformer.layers = 1;
        transformer.max_len = 20;
    }
    config.sasrec.transformer.dropout = 0.2;
    config.sasrec.transformer.attention_dropout = 0.2;
    config
}
