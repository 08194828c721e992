//! The embedded default dataset: a synthetic shop generated in code.
//!
//! It needs no files and no network, so the README's main command and the
//! tests run on any fresh machine, and it is built so that a model that
//! learns from interactions can beat popularity on it. What it plants:
//!
//! - **A catalogue** (≈1,230 items with the default 4,000 users, ≈1,100
//!   after the 5-core filter; proportionally fewer for fewer users) in three departments that mirror the paper's datasets
//!   (Beauty, Toys & Games, Sports & Outdoors): 59 product types in 15
//!   subcategories, 8 invented brands per
//!   department, and titles such as `Aurelle Hyaluronic Serum, 30 ml` built
//!   from brand, attribute, type and size. Each item has categories
//!   `[department, subcategory, type]`, a price (type base × brand tier × size)
//!   and a one-line description; 0.5 % of items have no title and 5 % no
//!   brand, like the real metadata.
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

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ids::seeded_rng;
use crate::source::{ItemMetadata, RawData, RawInteraction};

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

struct Department {
    name: &'static str,
    brands: [&'static str; 8],
    attributes: &'static [&'static str],
    describe: &'static str,
}

const DEPARTMENTS: [Department; 3] = [
    Department {
        name: "Beauty",
        brands: [
            "Aurelle",
            "Lumiva",
            "Petal & Pine",
            "Noorin",
            "Veloute",
            "Skinsmith",
            "Maison Clair",
            "Dewbloom",
        ],
        attributes: &[
            "Hydrating",
            "Vitamin C",
            "Hyaluronic",
            "Rose",
            "Charcoal",
            "Aloe Vera",
            "Argan Oil",
            "Coconut",
            "Lavender",
            "Green Tea",
            "Long-Wear",
            "Sensitive Skin",
            "Unscented",
            "Shea Butter",
        ],
        describe: "for a simple daily routine",
    },
    Department {
        name: "Toys & Games",
        brands: [
            "Brickwell",
            "Tinkerloo",
            "Puzzlecraft",
            "Kidora",
            "Meeple & Co",
            "Zoomtrack",
            "Crayonix",
            "Playfold",
        ],
        attributes: &[
            "Classic",
            "Deluxe",
            "Junior",
            "Space Explorer",
            "Dinosaur",
            "Ocean",
            "Castle",
            "Rainbow",
            "Wooden",
            "Magnetic",
            "Glow-in-the-Dark",
            "Racing",
        ],
        describe: "for hours of play at home",
    },
    Department {
        name: "Sports & Outdoors",
        brands: [
            "Trailbound",
            "Northridge",
            "Peakform",
            "Cadence",
            "Summitline",
            "Velospoke",
            "Stridelab",
            "Ironleaf",
        ],
        attributes: &[
            "Ultralight",
            "Waterproof",
            "Insulated",
            "Reflective",
            "Compact",
            "All-Season",
            "Breathable",
            "Heavy-Duty",
            "Pro",
            "Trail",
            "Thermal",
            "Quick-Dry",
        ],
        describe: "built for the outdoors",
    },
];

struct ProductType {
    name: &'static str,
    department: usize,
    subcategory: &'static str,
    sizes: &'static [&'static str],
    base_price: f64,
    follow_ups: &'static [&'static str],
}

const fn pt(
    name: &'static str,
    department: usize,
    subcategory: &'static str,
    sizes: &'static [&'static str],
    base_price: f64,
    follow_ups: &'static [&'static str],
) -> ProductType {
    ProductType {
        name,
        department,
        subcategory,
        sizes,
        base_price,
        follow_ups,
    }
}

const ML_SMALL: &[&str] = &["30 ml", "50 ml", "100 ml"];
const ML_LARGE: &[&str] = &["250 ml", "500 ml", "1 L"];
const SHADES: &[&str] = &["Ivory", "Beige", "Sand", "Honey", "Espresso"];
const COLORS: &[&str] = &["Ruby", "Nude", "Coral", "Berry", "Mauve", "Noir"];
const PIECES: &[&str] = &["250 Pieces", "500 Pieces", "1000 Pieces"];
const PLAYERS: &[&str] = &["2-4 Players", "2-6 Players", "1-5 Players"];
const GEAR: &[&str] = &["Small", "Medium", "Large"];
const PACK: &[&str] = &["Single", "2-Pack", "4-Pack"];

const TYPES: &[ProductType] = &[
    // Beauty
    pt(
        "Cleanser",
        0,
        "Skin Care",
        ML_SMALL,
        12.0,
        &["Toner", "Serum"],
    ),
    pt(
        "Toner",
        0,
        "Skin Care",
        ML_LARGE,
        10.0,
        &["Serum", "Moisturizer"],
    ),
    pt(
        "Serum",
        0,
        "Skin Care",
        ML_SMALL,
        24.0,
        &["Moisturizer", "Eye Cream"],
    ),
    pt(
        "Moisturizer",
        0,
        "Skin Care",
        ML_SMALL,
        18.0,
        &["Sunscreen", "Eye Cream"],
    ),
    pt("Eye Cream", 0, "Skin Care", ML_SMALL, 22.0, &["Serum"]),
    pt(
        "Sunscreen",
        0,
        "Skin Care",
        ML_SMALL,
        14.0,
        &["Moisturizer"],
    ),
    pt("Shampoo", 0, "Hair Care", ML_LARGE, 9.0, &["Conditioner"]),
    pt(
        "Conditioner",
        0,
        "Hair Care",
        ML_LARGE,
        9.0,
        &["Hair Mask", "Hair Oil"],
    ),
    pt("Hair Mask", 0, "Hair Care", ML_SMALL, 15.0, &["Hair Oil"]),
    pt("Hair Oil", 0, "Hair Care", ML_SMALL, 16.0, &["Shampoo"]),
    pt(
        "Foundation",
        0,
        "Makeup",
        SHADES,
        20.0,
        &["Concealer", "Makeup Sponge"],
    ),
    pt("Concealer", 0, "Makeup", SHADES, 14.0, &["Makeup Sponge"]),
    pt("Makeup Sponge", 0, "Makeup", PACK, 6.0, &["Foundation"]),
    pt(
        "Mascara",
        0,
        "Makeup",
        &["Black", "Brown"],
        11.0,
        &["Eyeliner", "Makeup Remover"],
    ),
    pt(
        "Eyeliner",
        0,
        "Makeup",
        &["Black", "Brown", "Navy"],
        9.0,
        &["Makeup Remover"],
    ),
    pt("Lipstick", 0, "Makeup", COLORS, 13.0, &["Lip Liner"]),
    pt("Lip Liner", 0, "Makeup", COLORS, 8.0, &["Lipstick"]),
    pt("Makeup Remover", 0, "Makeup", ML_LARGE, 8.0, &["Cleanser"]),
    pt(
        "Eau de Parfum",
        0,
        "Fragrance",
        &["50 ml", "100 ml"],
        55.0,
        &["Body Mist"],
    ),
    pt(
        "Body Mist",
        0,
        "Fragrance",
        ML_LARGE,
        15.0,
        &["Eau de Parfum"],
    ),
    pt("Nail Polish", 0, "Nails", COLORS, 7.0, &["Top Coat"]),
    pt(
        "Top Coat",
        0,
        "Nails",
        &["Glossy", "Matte"],
        7.0,
        &["Nail Polish Remover"],
    ),
    pt(
        "Nail Polish Remover",
        0,
        "Nails",
        ML_LARGE,
        5.0,
        &["Nail Polish"],
    ),
    // Toys & Games
    pt(
        "Building Set",
        1,
        "Building Toys",
        PIECES,
        35.0,
        &["Building Set", "Brick Storage Box"],
    ),
    pt(
        "Brick Storage Box",
        1,
        "Building Toys",
        GEAR,
        18.0,
        &["Building Set"],
    ),
    pt(
        "Jigsaw Puzzle",
        1,
        "Puzzles",
        PIECES,
        16.0,
        &["Puzzle Mat", "Jigsaw Puzzle"],
    ),
    pt("Puzzle Mat", 1, "Puzzles", GEAR, 20.0, &["Jigsaw Puzzle"]),
    pt(
        "Board Game",
        1,
        "Games",
        PLAYERS,
        30.0,
        &["Expansion Pack", "Card Sleeves"],
    ),
    pt(
        "Expansion Pack",
        1,
        "Games",
        PLAYERS,
        20.0,
        &["Card Sleeves"],
    ),
    pt(
        "Card Sleeves",
        1,
        "Games",
        &["100 Count", "200 Count"],
        6.0,
        &["Board Game"],
    ),
    pt(
        "Sketch Pad",
        1,
        "Arts & Crafts",
        &["A4", "A3"],
        9.0,
        &["Colored Pencils"],
    ),
    pt(
        "Colored Pencils",
        1,
        "Arts & Crafts",
        &["24 Colors", "48 Colors"],
        12.0,
        &["Paint Set", "Sketch Pad"],
    ),
    pt(
        "Paint Set",
        1,
        "Arts & Crafts",
        &["12 Colors", "24 Colors"],
        15.0,
        &["Sketch Pad"],
    ),
    pt(
        "RC Car",
        1,
        "Remote Control",
        &["1:16 Scale", "1:24 Scale"],
        45.0,
        &["Rechargeable Battery Pack"],
    ),
    pt(
        "RC Drone",
        1,
        "Remote Control",
        &["Mini", "Camera"],
        60.0,
        &["Rechargeable Battery Pack"],
    ),
    pt(
        "Rechargeable Battery Pack",
        1,
        "Remote Control",
        PACK,
        14.0,
        &["RC Car"],
    ),
    pt(
        "Plush Toy",
        1,
        "Stuffed Animals",
        GEAR,
        15.0,
        &["Plush Toy"],
    ),
    // Sports & Outdoors
    pt(
        "Tent",
        2,
        "Camping",
        &["1-Person", "2-Person", "4-Person"],
        120.0,
        &["Sleeping Bag", "Tent Footprint"],
    ),
    pt(
        "Tent Footprint",
        2,
        "Camping",
        &["1-Person", "2-Person", "4-Person"],
        30.0,
        &["Sleeping Bag"],
    ),
    pt(
        "Sleeping Bag",
        2,
        "Camping",
        &["20 Degree", "35 Degree", "50 Degree"],
        70.0,
        &["Sleeping Pad"],
    ),
    pt(
        "Sleeping Pad",
        2,
        "Camping",
        &["Regular", "Long"],
        50.0,
        &["Camp Pillow"],
    ),
    pt("Camp Pillow", 2, "Camping", GEAR, 20.0, &["Headlamp"]),
    pt(
        "Camp Stove",
        2,
        "Camping",
        &["Single Burner", "Double Burner"],
        45.0,
        &["Fuel Canister", "Cook Set"],
    ),
    pt(
        "Fuel Canister",
        2,
        "Camping",
        &["100 g", "230 g", "450 g"],
        7.0,
        &["Cook Set"],
    ),
    pt(
        "Cook Set",
        2,
        "Camping",
        &["1-Person", "2-Person"],
        35.0,
        &["Camp Stove"],
    ),
    pt(
        "Headlamp",
        2,
        "Camping",
        &["200 Lumen", "400 Lumen"],
        25.0,
        &["Rechargeable Battery Set"],
    ),
    pt(
        "Rechargeable Battery Set",
        2,
        "Camping",
        PACK,
        18.0,
        &["Headlamp"],
    ),
    pt(
        "Bike Helmet",
        2,
        "Cycling",
        GEAR,
        55.0,
        &["Bike Light", "Bike Lock"],
    ),
    pt(
        "Bike Light",
        2,
        "Cycling",
        &["Front", "Rear", "Front and Rear"],
        25.0,
        &["Bike Lock"],
    ),
    pt(
        "Bike Lock",
        2,
        "Cycling",
        &["U-Lock", "Cable", "Folding"],
        30.0,
        &["Water Bottle Cage"],
    ),
    pt(
        "Water Bottle Cage",
        2,
        "Cycling",
        PACK,
        10.0,
        &["Bike Light"],
    ),
    pt(
        "Yoga Mat",
        2,
        "Fitness",
        &["4 mm", "6 mm"],
        28.0,
        &["Yoga Block", "Yoga Strap"],
    ),
    pt(
        "Yoga Block",
        2,
        "Fitness",
        PACK,
        12.0,
        &["Yoga Strap", "Resistance Bands"],
    ),
    pt(
        "Yoga Strap",
        2,
        "Fitness",
        &["6 ft", "8 ft"],
        9.0,
        &["Foam Roller"],
    ),
    pt(
        "Resistance Bands",
        2,
        "Fitness",
        &["Light", "Medium", "Heavy"],
        15.0,
        &["Foam Roller"],
    ),
    pt(
        "Foam Roller",
        2,
        "Fitness",
        &["12 in", "18 in", "36 in"],
        22.0,
        &["Yoga Mat"],
    ),
    pt(
        "Running Socks",
        2,
        "Running",
        GEAR,
        12.0,
        &["Hydration Belt", "Running Cap"],
    ),
    pt("Hydration Belt", 2, "Running", GEAR, 25.0, &["Running Cap"]),
    pt(
        "Running Cap",
        2,
        "Running",
        &["One Size"],
        18.0,
        &["Running Socks"],
    ),
];

struct GenItem {
    product_type: usize,
    brand: usize,
    popularity: f64,
    quality: f64,
}

struct Shopper {
    subcategory_taste: Vec<f64>,
    favourite_brands: Vec<(usize, usize)>,
}

/// Generates the shop as raw data, ready for [`crate::prepare::prepare`].
pub fn generate(config: &SyntheticConfig) -> RawData {
    let mut rng = seeded_rng(config.seed, "synthetic-shop");
    let subcategories: Vec<(usize, &str)> = {
        let mut subs: Vec<(usize, &str)> = TYPES
            .iter()
            .map(|t| (t.department, t.subcategory))
            .collect();
        subs.dedup();
        subs
    };
    let subcategory_of = |t: &ProductType| {
        subcategories
            .iter()
            .position(|&(d, s)| d == t.department && s == t.subcategory)
            .unwrap_or(0)
    };

    // Catalogue.
    let mut raw = RawData::default();
    let mut items: Vec<GenItem> = Vec::new();
    let mut metadata: Vec<ItemMetadata> = Vec::new();
    let mut titles = std::collections::HashSet::new();
    // Smaller shops get proportionally smaller catalogues, so that a few
    // hundred users (tests) still leave a dense 5-core.
    let density = (config.users as f64 / SyntheticConfig::default().users as f64).min(1.0);
    let scaled = |n: usize, least: usize| ((n as f64 * density).round() as usize).max(least);
    for (t, product) in TYPES.iter().enumerate() {
        let department = &DEPARTMENTS[product.department];
        let mut brands: Vec<usize> = (0..department.brands.len()).collect();
        brands.shuffle(&mut rng);
        brands.truncate(scaled(rng.random_range(5..=7), 2));
        for brand in brands {
            let tier = 0.8 + 0.8 * rng.random::<f64>();
            for _ in 0..scaled(rng.random_range(3..=4), 1) {
                let attribute = *department.attributes.choose(&mut rng).unwrap_or(&"Classic");
                let size_index = rng.random_range(0..product.sizes.len());
                let size = product.sizes[size_index];
                let brand_name = department.brands[brand];
                let title = format!("{brand_name} {attribute} {}, {size}", product.name);
                if !titles.insert(title.clone()) {
                    continue;
                }
                let price = product.base_price * tier * (1.0 + 0.25 * size_index as f64);
                let price = (price.max(1.0)).floor() + 0.99;
                metadata.push(ItemMetadata {
                    title: (rng.random::<f64>() >= 0.005).then_some(title),
                    brand: (rng.random::<f64>() >= 0.05).then(|| brand_name.to_string()),
                    categories: vec![vec![
                        department.name.to_string(),
                        product.subcategory.to_string(),
                        product.name.to_string(),
                    ]],
                    price: Some(price),
                    description: Some(format!(
                        "{attribute} {} by {brand_name}, {size}, {}.",
                        product.name.to_lowercase(),
                        department.describe
                    )),
                });
                items.push(GenItem {
                    product_type: t,
                    brand,
                    popularity: 0.0,
                    quality: normal(&mut rng) * 0.5,
                });
            }
        }
    }
    let mut ranks: Vec<usize> = (0..items.len()).collect();
    ranks.shuffle(&mut rng);
    for (rank, &i) in ranks.iter().enumerate() {
        items[i].popularity = 1.0 / ((rank + 1) as f64).powf(0.8);
    }
    let by_type: Vec<Vec<usize>> = (0..TYPES.len())
        .map(|t| {
            (0..items.len())
                .filter(|&i| items[i].product_type == t)
                .collect()
        })
        .collect();
    let type_index = |name: &str| TYPES.iter().position(|t| t.name == name);
    let width = (items.len().max(config.users)).to_string().len() + 1;
    for i in 0..items.len() {
        raw.items.intern(&format!("SHOP{i:0width$}"));
    }
    raw.metadata = metadata.into_iter().map(Some).collect();

    // Shoppers.
    for u in 0..config.users {
        let user = raw.users.intern(&format!("U{u:0width$}"));
        let shopper = new_shopper(&mut rng, &subcategories);
        let length = 5 + geometric(&mut rng, 0.22).min(55);
        let mut bought: Vec<usize> = Vec::with_capacity(length);
        let mut day: i64 = 14_975 + rng.random_range(0..900); // 2011-01-01 + up to ~2.5 years
        for step in 0..length {
            let previous = bought.last().map(|&i| &items[i]);
            let candidates: Option<(Vec<usize>, Option<usize>)> = match previous {
                Some(prev) if step > 0 && rng.random::<f64>() < 0.55 => {
                    let next_types = TYPES[prev.product_type].follow_ups;
                    next_types
                        .choose(&mut rng)
                        .and_then(|name| type_index(name))
                        .map(|t| (by_type[t].clone(), Some(prev.brand)))
                }
                _ => None,
            };
            let follow_up = candidates.is_some();
            let (pool, same_brand) = candidates.unwrap_or_else(|| {
                let sub = weighted(&mut rng, &shopper.subcategory_taste);
                let (dept, name) = subcategories[sub];
                let types: Vec<usize> = (0..TYPES.len())
                    .filter(|&t| TYPES[t].department == dept && TYPES[t].subcategory == name)
                    .collect();
                let t = *types.choose(&mut rng).unwrap_or(&0);
                (by_type[t].clone(), None)
            });
            let weights: Vec<f64> = pool
                .iter()
                .map(|&i| {
                    let item = &items[i];
                    if bought.contains(&i) {
                        return 0.0;
                    }
                    let dept = TYPES[item.product_type].department;
                    let mut w = item.popularity;
                    if shopper.favourite_brands.contains(&(dept, item.brand)) {
                        w *= 4.0;
                    }
                    if same_brand == Some(item.brand) {
                        w *= 6.0;
                    }
                    w
                })
                .collect();
            if weights.iter().all(|&w| w == 0.0) {
                continue;
            }
            let choice = pool[weighted(&mut rng, &weights)];
            if step > 0 && rng.random::<f64>() >= 0.35 {
                day += 1 + (exponential(&mut rng) * 20.0) as i64;
            }
            let item = &items[choice];
            let t = &TYPES[item.product_type];
            let taste = shopper.subcategory_taste[subcategory_of(t)] * subcategories.len() as f64;
            let affinity = 0.5 * taste.min(4.0).ln_1p()
                + if shopper
                    .favourite_brands
                    .contains(&(t.department, item.brand))
                {
                    0.6
                } else {
                    0.0
                }
                + if follow_up { 0.3 } else { 0.0 }
                + item.quality
                + 0.9 * normal(&mut rng);
            let stars = (3.3 + affinity).round().clamp(1.0, 5.0) as f32;
            raw.interactions.push(RawInteraction::new(
                user,
                choice as u32,
                Some(stars),
                Some(day * 86_400),
            ));
            bought.push(choice);
        }
    }
    raw
}

fn new_shopper(rng: &mut ChaCha8Rng, subcategories: &[(usize, &str)]) -> Shopper {
    let main = rng.random_range(0..DEPARTMENTS.len());
    let second = (rng.random::<f64>() < 0.3)
        .then(|| (main + rng.random_range(1..DEPARTMENTS.len())) % DEPARTMENTS.len());
    let mut taste: Vec<f64> = subcategories
        .iter()
        .map(|&(dept, _)| {
            let share = if dept == main {
                1.0
            } else if Some(dept) == second {
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
        taste.fill(1.0 / subcategories.len() as f64);
    }
    let mut favourite_brands = Vec::new();
    for dept in std::iter::once(main).chain(second) {
        for _ in 0..rng.random_range(1..=2) {
            favourite_brands.push((dept, rng.random_range(0..DEPARTMENTS[dept].brands.len())));
        }
    }
    Shopper {
        subcategory_taste: taste,
        favourite_brands,
    }
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

fn exponential(rng: &mut ChaCha8Rng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

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

    #[test]
    fn the_catalogue_is_as_documented() {
        assert_eq!(TYPES.len(), 59);
        let mut subcategories: Vec<(usize, &str)> = TYPES
            .iter()
            .map(|t| (t.department, t.subcategory))
            .collect();
        subcategories.dedup();
        assert_eq!(subcategories.len(), 15);
        // Every follow-up names a product type of the same department.
        for t in TYPES {
            for next in t.follow_ups {
                let target = TYPES.iter().find(|u| u.name == *next);
                assert!(
                    target.is_some_and(|u| u.department == t.department),
                    "{} -> {next}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        let small = |seed| generate(&SyntheticConfig { seed, users: 200 });
        let (a, b, c) = (small(1), small(1), small(2));
        assert_eq!(a.interactions, b.interactions);
        assert_eq!(a.metadata, b.metadata);
        assert_ne!(a.interactions, c.interactions);
    }
}
