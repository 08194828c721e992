//! The shoppers: each one's tastes, then a sequence of purchases, each with
//! its day and its rating.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::catalogue::Catalogue;
use super::items::{GenItem, Stock};
use super::{exponential, geometric, normal, weighted};
use crate::source::RawInteraction;

/// The first day a sequence may start on: 2011-01-01, in days since 1970.
const FIRST_DAY: i64 = 14_975;

/// What one shopper likes.
pub(super) struct Shopper {
    /// A weight per subcategory of the catalogue, summing to 1.
    subcategory_taste: Vec<f64>,
    /// `(department, brand)` pairs.
    favourite_brands: Vec<(usize, usize)>,
}

impl Shopper {
    /// Step 2: a shopper's tastes: a main department (and a second one for
    /// 30 % of shoppers), skewed weights over their subcategories, and one or
    /// two favourite brands per department.
    pub(super) fn draw(catalogue: &Catalogue, rng: &mut ChaCha8Rng) -> Shopper {
        let departments = catalogue.departments.len();
        let main = rng.random_range(0..departments);
        let second = (rng.random::<f64>() < 0.3)
            .then(|| (main + rng.random_range(1..departments)) % departments);
        let mut taste: Vec<f64> = catalogue
            .subcategories
            .iter()
            .map(|sub| {
                let share = if sub.department == main {
                    1.0
                } else if Some(sub.department) == second {
                    0.5
                } else {
                    0.0
                };
                share * exponential(rng).powi(2)
            })
            .collect();
        let total: f64 = taste.iter().sum();
        if total > 0.0 {
            taste.iter_mut().for_each(|w| *w /= total);
        } else {
            taste.fill(1.0 / catalogue.subcategories.len() as f64);
        }
        let mut favourite_brands = Vec::new();
        for dept in std::iter::once(main).chain(second) {
            for _ in 0..rng.random_range(1..=2) {
                let brands = catalogue.departments[dept].brands.len();
                favourite_brands.push((dept, rng.random_range(0..brands)));
            }
        }
        Shopper {
            subcategory_taste: taste,
            favourite_brands,
        }
    }

    /// Steps 3 and 4: the shopper's purchases as `user`, each with its day
    /// and rating, appended to `out`. Sequences are 5 + Geometric(0.22) long
    /// (fewer when the shopper runs out of unbought items to follow up).
    pub(super) fn purchases(
        &self,
        catalogue: &Catalogue,
        stock: &Stock,
        user: u32,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<RawInteraction>,
    ) {
        let length = 5 + geometric(rng, 0.22).min(55);
        let mut bought: Vec<usize> = Vec::with_capacity(length);
        // Up to about 2.5 years after the first day.
        let mut day = FIRST_DAY + rng.random_range(0..900);
        for step in 0..length {
            let (product_type, same_brand) = self.next_type(catalogue, stock, bought.last(), rng);
            let pool = &stock.by_type[product_type];
            let Some(choice) = self.pick(catalogue, stock, pool, same_brand, &bought, rng) else {
                continue;
            };
            if step > 0 {
                day += gap(rng);
            }
            let stars = self.stars(catalogue, &stock.items[choice], same_brand.is_some(), rng);
            out.push(RawInteraction::new(
                user,
                choice as u32,
                Some(stars),
                Some(day * 86_400),
            ));
            bought.push(choice);
        }
    }

    /// The product type of the next purchase, and the brand to favour: with
    /// probability 0.55 a follow-up type of the `last` purchase, in its
    /// brand; otherwise a type of a subcategory drawn from the tastes.
    fn next_type(
        &self,
        catalogue: &Catalogue,
        stock: &Stock,
        last: Option<&usize>,
        rng: &mut ChaCha8Rng,
    ) -> (usize, Option<usize>) {
        if let Some(&last) = last
            && rng.random::<f64>() < 0.55
        {
            let previous = &stock.items[last];
            let follow_ups = &catalogue.types[previous.product_type].follow_ups;
            if let Some(&t) = follow_ups.choose(rng) {
                return (t, Some(previous.brand));
            }
        }
        let sub = weighted(rng, &self.subcategory_taste);
        let t = *catalogue.subcategories[sub].types.choose(rng).unwrap_or(&0);
        (t, None)
    }

    /// The next purchase among `pool`, drawn by popularity, 4× for a
    /// favourite brand and 6× for `same_brand`; never an item already
    /// `bought`, and `None` when every item of the pool was.
    fn pick(
        &self,
        catalogue: &Catalogue,
        stock: &Stock,
        pool: &[usize],
        same_brand: Option<usize>,
        bought: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let weights: Vec<f64> = pool
            .iter()
            .map(|&i| {
                let item = &stock.items[i];
                if bought.contains(&i) {
                    return 0.0;
                }
                let mut w = item.popularity;
                if self.likes_brand_of(catalogue, item) {
                    w *= 4.0;
                }
                if same_brand == Some(item.brand) {
                    w *= 6.0;
                }
                w
            })
            .collect();
        if weights.iter().all(|&w| w == 0.0) {
            return None;
        }
        Some(pool[weighted(rng, &weights)])
    }

    /// Stars 1–5 from the shopper's affinity for `item` (subcategory taste,
    /// favourite brand, a bonus for a `follow_up`, the item's quality) plus
    /// Gaussian noise (σ 0.9), centred so that most are 4 or 5.
    fn stars(
        &self,
        catalogue: &Catalogue,
        item: &GenItem,
        follow_up: bool,
        rng: &mut ChaCha8Rng,
    ) -> f32 {
        let subcategory = catalogue.types[item.product_type].subcategory;
        let taste = self.subcategory_taste[subcategory] * catalogue.subcategories.len() as f64;
        let affinity = 0.5 * taste.min(4.0).ln_1p()
            + if self.likes_brand_of(catalogue, item) {
                0.6
            } else {
                0.0
            }
            + if follow_up { 0.3 } else { 0.0 }
            + item.quality
            + 0.9 * normal(rng);
        (3.3 + affinity).round().clamp(1.0, 5.0) as f32
    }

    fn likes_brand_of(&self, catalogue: &Catalogue, item: &GenItem) -> bool {
        let department = catalogue.types[item.product_type].department;
        self.favourite_brands.contains(&(department, item.brand))
    }
}

/// Days from one purchase to the next: none with probability 0.35 (so the
/// tie rule matters, as on Amazon), else 1 + 20 × Exp(1), rounded down.
fn gap(rng: &mut ChaCha8Rng) -> i64 {
    if rng.random::<f64>() >= 0.35 {
        1 + (exponential(rng) * 20.0) as i64
    } else {
        0
    }
}
