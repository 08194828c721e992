//! A small embedded shop shared by the tests.

use std::sync::OnceLock;

use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, LoadOptions, PrepareConfig};

/// The default shop (4,000 shoppers, ≈1,100 items after the 5-core),
/// prepared once per test binary. Smaller shops lose most of the catalogue
/// to the 5-core, and 100 candidates would nearly be the whole catalogue.
pub fn shop() -> &'static Dataset {
    static SHOP: OnceLock<Dataset> = OnceLock::new();
    SHOP.get_or_init(|| {
        let spec = DatasetSpec::Synthetic(SyntheticConfig::default());
        recalign_data::load(&spec, &PrepareConfig::default(), &LoadOptions::default())
            .expect("the shop prepares")
            .dataset
    })
}

/// A deterministic pseudo-random number in [0, 1) for `(seed, a, b)`
/// (SplitMix64), for random baselines without a random-number crate.
pub fn noise(seed: u64, a: u64, b: u64) -> f64 {
    let mut z = seed
        .wrapping_add(a.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(b.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
