//! The embedded default dataset: a synthetic shop generated in code.
//!
//! It needs no files and no network, so the README's main command and the
//! tests run on any fresh machine, and it is built so that a model that
//! learns from interactions can beat popularity on it. What it plants:
//!
//! - **A catalogue** (≈1,230 items with the default 4,000 users, ≈1,100
//!   after the 5-core filter; proportionally fewer for fewer users) in
//!   three departments that mirror the paper's datasets (Beauty, Toys &
//!   Games, Sports & Outdoors): 59 product types in 15 subcategories, 8
//!   invented brands per department, and titles such as
//!   `Aurelle Hyaluronic Serum, 30 ml` built from brand, attribute, type and
//!   size. Each item has categories `[department, subcategory, type]`, a
//!   price (type base × brand tier × size) and a one-line description;
//!   0.5 % of items have no title and 5 % no brand, like the real metadata.
//! - **Popularity**: a Zipf-like weight (exponent 0.8) over items in random
//!   order.
//! - **User tastes**: a main department (and a second one for 30 % of users),
//!   skewed weights over its subcategories, and one or two favourite brands
//!   per department (4× more likely to be chosen).
//! - **Sequential patterns**: each product type has follow-up types
//!   (cleanser → toner → serum → moisturizer, tent → sleeping bag → pad, board
//!   game → expansion pack, …). After each purchase, with probability 0.55 the
//!   next item is a follow-up of the last one, 6× more likely from the same
//!   brand; otherwise it is drawn afresh from the user's tastes × popularity.
//!   Items are never bought twice.
//! - **Sequence lengths** 5 + Geometric(0.22) (mean ≈ 8.5, as Amazon 5-core's
//!   8.3–8.9), **timestamps** at day resolution from 2011 on, with 35 % of
//!   purchases on the same day as the previous one (so the tie rule matters,
//!   as on Amazon).
//! - **Ratings** 1–5 from affinity plus noise: subcategory taste, favourite
//!   brand, an item quality, a bonus for follow-ups, Gaussian noise (σ 0.9);
//!   skewed towards 4–5 as Amazon's are.
//!
//! Everything is drawn from one seeded stream, so a seed gives the same shop
//! on every machine.
//!
//! The fixed tables (departments, brands, attributes, product types, sizes,
//! prices, follow-ups) are data, in `synthetic/catalogue.toml`, read by the
//! `catalogue` module. The generator runs in steps, each drawing from the
//! stream in turn: the items and their popularity (`items`), then for each
//! shopper their tastes, purchases, days and ratings (`shoppers`). The order
//! of the draws is the shop: changing it changes every dataset.

mod catalogue;
mod items;
mod shoppers;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ids::seeded_rng;
use crate::source::RawData;

use self::catalogue::Catalogue;
use self::shoppers::Shopper;

/// Size and seed of the generated shop.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of shoppers.
    pub users: usize,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            seed: 2024,
            users: 4000,
        }
    }
}

/// Generates the shop as raw data, ready for [`crate::prepare::prepare`].
pub fn generate(config: &SyntheticConfig) -> RawData {
    let mut rng = seeded_rng(config.seed, "synthetic-shop");
    let catalogue = Catalogue::embedded();
    let (stock, metadata) = items::stock(catalogue, config, &mut rng);
    let mut raw = RawData::default();
    // Ids sort in index order: `SHOP0001`, `U0001`, zero-padded to one width.
    let width = (stock.items.len().max(config.users)).to_string().len() + 1;
    for i in 0..stock.items.len() {
        raw.items.intern(&format!("SHOP{i:0width$}"));
    }
    raw.metadata = metadata.into_iter().map(Some).collect();
    for u in 0..config.users {
        let user = raw.users.intern(&format!("U{u:0width$}"));
        let shopper = Shopper::draw(catalogue, &mut rng);
        shopper.purchases(catalogue, &stock, user, &mut rng, &mut raw.interactions);
    }
    raw
}

/// Index drawn with probability proportional to `weights` (not all zero).
fn weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// Exp(1).
fn exponential(rng: &mut ChaCha8Rng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

/// The number of failures before the first success, each trial a success
/// with probability `p`.
fn geometric(rng: &mut ChaCha8Rng, p: f64) -> usize {
    ((1.0 - rng.random::<f64>()).ln() / (1.0 - p).ln()).floor() as usize
}

/// Standard normal by Box–Muller.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::RawInteraction;

    #[test]
    fn generation_is_deterministic_per_seed() {
        let small = |seed| generate(&SyntheticConfig { seed, users: 200 });
        let (a, b, c) = (small(1), small(1), small(2));
        assert_eq!(a.interactions, b.interactions);
        assert_eq!(a.metadata, b.metadata);
        assert_ne!(a.interactions, c.interactions);
    }

    #[test]
    fn a_seed_gives_the_same_shop_as_ever() {
        // Values of the shop as first generated: moving the catalogue or
        // reordering the generator's draws must not change them.
        let raw = generate(&SyntheticConfig {
            seed: 1,
            users: 200,
        });
        assert_eq!((raw.interactions.len(), raw.items.len()), (1395, 118));
        assert_eq!(
            raw.interactions[0],
            RawInteraction::new(0, 80, Some(3.0), Some(1_298_851_200))
        );
        let first = raw.metadata[0].as_ref().unwrap();
        assert_eq!(
            first.title.as_deref(),
            Some("Veloute Lavender Cleanser, 30 ml")
        );
        assert_eq!(first.price, Some(10.99));
        let last = raw.metadata[117].as_ref().unwrap();
        assert_eq!(
            last.description.as_deref(),
            Some("Breathable running cap by Ironleaf, One Size, built for the outdoors.")
        );
    }
}
