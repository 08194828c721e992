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
    config.sasrec.hidden = 32;
    config.sasrec.inner = 64;
    config.sasrec.layers = 1;
    config.sasrec.dropout = 0.2;
    config.sasrec.attention_dropout = 0.2;
    config.sasrec.max_len = 20;
    config.bert4rec.hidden = 32;
    config.bert4rec.inner = 64;
    config.bert4rec.layers = 1;
    config.bert4rec.max_len = 20;
    config
}
