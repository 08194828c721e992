//! The shop's items: brands and variants of each product type with their
//! metadata, then a popularity for each.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::catalogue::{Catalogue, ProductType};
use super::{SyntheticConfig, normal};
use crate::source::ItemMetadata;

/// What the generator knows of an item beyond its metadata.
pub(super) struct GenItem {
    pub(super) product_type: usize,
    pub(super) brand: usize,
    pub(super) popularity: f64,
    pub(super) quality: f64,
}

/// The items on sale, in the order of their raw ids.
pub(super) struct Stock {
    pub(super) items: Vec<GenItem>,
    /// Item indices of each product type, in index order.
    pub(super) by_type: Vec<Vec<usize>>,
}

/// Step 1: the items of every product type, each with its metadata, and
/// their popularity.
pub(super) fn stock(
    catalogue: &Catalogue,
    config: &SyntheticConfig,
    rng: &mut ChaCha8Rng,
) -> (Stock, Vec<ItemMetadata>) {
    let mut items: Vec<GenItem> = Vec::new();
    let mut metadata: Vec<ItemMetadata> = Vec::new();
    let mut titles = std::collections::HashSet::new();
    // Smaller shops get proportionally smaller catalogues, so that a few
    // hundred users (tests) still leave a dense 5-core.
    let density = (config.users as f64 / SyntheticConfig::default().users as f64).min(1.0);
    let scaled = |n: usize, least: usize| ((n as f64 * density).round() as usize).max(least);
    for (t, product) in catalogue.types.iter().enumerate() {
        let department = &catalogue.departments[product.department];
        let mut brands: Vec<usize> = (0..department.brands.len()).collect();
        brands.shuffle(rng);
        brands.truncate(scaled(rng.random_range(5..=7), 2));
        for brand in brands {
            let tier = 0.8 + 0.8 * rng.random::<f64>();
            for _ in 0..scaled(rng.random_range(3..=4), 1) {
                let attribute = department
                    .attributes
                    .choose(rng)
                    .map_or("Classic", String::as_str);
                let size_index = rng.random_range(0..product.sizes.len());
                let variant = Variant {
                    product,
                    brand: &department.brands[brand],
                    attribute,
                    size_index,
                    tier,
                };
                let Some(meta) = variant.metadata(catalogue, &mut titles, rng) else {
                    continue;
                };
                metadata.push(meta);
                items.push(GenItem {
                    product_type: t,
                    brand,
                    popularity: 0.0,
                    quality: normal(rng) * 0.5,
                });
            }
        }
    }
    assign_popularity(&mut items, rng);
    let by_type = (0..catalogue.types.len())
        .map(|t| {
            (0..items.len())
                .filter(|&i| items[i].product_type == t)
                .collect()
        })
        .collect();
    (Stock { items, by_type }, metadata)
}

/// One drawn variant of a product type: brand, attribute and size.
struct Variant<'c> {
    product: &'c ProductType,
    brand: &'c str,
    attribute: &'c str,
    size_index: usize,
    /// The brand's price tier.
    tier: f64,
}

impl Variant<'_> {
    /// The variant's metadata (title, brand, categories, price,
    /// description), with 0.5 % of titles and 5 % of brands unknown; `None`
    /// when the title is already in `titles`.
    fn metadata(
        &self,
        catalogue: &Catalogue,
        titles: &mut std::collections::HashSet<String>,
        rng: &mut ChaCha8Rng,
    ) -> Option<ItemMetadata> {
        let (product, brand, attribute) = (self.product, self.brand, self.attribute);
        let department = &catalogue.departments[product.department];
        let size = &product.sizes[self.size_index];
        let title = format!("{brand} {attribute} {}, {size}", product.name);
        if !titles.insert(title.clone()) {
            return None;
        }
        let price = product.base_price * self.tier * (1.0 + 0.25 * self.size_index as f64);
        let price = (price.max(1.0)).floor() + 0.99;
        Some(ItemMetadata {
            title: (rng.random::<f64>() >= 0.005).then_some(title),
            brand: (rng.random::<f64>() >= 0.05).then(|| brand.to_string()),
            categories: vec![vec![
                department.name.clone(),
                catalogue.subcategories[product.subcategory].name.clone(),
                product.name.clone(),
            ]],
            price: Some(price),
            description: Some(format!(
                "{attribute} {} by {brand}, {size}, {}.",
                product.name.to_lowercase(),
                department.describe
            )),
        })
    }
}

/// A Zipf-like popularity (exponent 0.8) over the items in random order.
fn assign_popularity(items: &mut [GenItem], rng: &mut ChaCha8Rng) {
    let mut ranks: Vec<usize> = (0..items.len()).collect();
    ranks.shuffle(rng);
    for (rank, &i) in ranks.iter().enumerate() {
        items[i].popularity = 1.0 / ((rank + 1) as f64).powf(0.8);
    }
}
