//! A small embedded shop and helpers to read samples back.

use std::sync::OnceLock;

use recalign_data::synthetic::SyntheticConfig;
use recalign_data::{Dataset, DatasetSpec, IdScheme, LoadOptions, PrepareConfig, Split, UserIdx};
use recalign_samples::{Generator, Sample, SamplesConfig};

/// 400 shoppers, prepared once per test binary.
pub fn shop() -> &'static Dataset {
    static SHOP: OnceLock<Dataset> = OnceLock::new();
    SHOP.get_or_init(|| {
        let spec = DatasetSpec::Synthetic(SyntheticConfig {
            seed: 11,
            users: 400,
        });
        // Digit identifiers, which these helpers read back out of the text
        // (`ids_in`); the default atomic ones are covered end to end by the
        // CLI's tests.
        let prepare = PrepareConfig {
            id_scheme: IdScheme::Random,
            ..PrepareConfig::default()
        };
        recalign_data::load(&spec, &prepare, &LoadOptions::default())
            .expect("the shop prepares")
            .dataset
    })
}

/// Every sample of every user for `split`.
pub fn all_samples<'d>(generator: &Generator<'d>, split: Split) -> Vec<Sample<'d>> {
    generator
        .dataset()
        .users()
        .flat_map(|u| generator.user_samples(u, split, 0))
        .collect()
}

/// A generator over the shop with `config`.
pub fn generator(config: SamplesConfig) -> Generator<'static> {
    Generator::new(shop(), config).expect("valid config")
}

/// The identifiers written as `ID: <digits>` in `text`, in order.
pub fn ids_in(text: &str) -> Vec<String> {
    text.match_indices("ID: ")
        .map(|(at, _)| {
            text[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// The identifier of `user`'s held-out item in `split`.
pub fn held_out_id(data: &Dataset, user: UserIdx, split: Split) -> String {
    let held = data.held_out(user, split).expect("a held-out split");
    data.item(held.target.item).identifier.clone()
}

/// `ID: x, title: t` (or `ID: x`) for an item, as the samples render it.
pub fn full_text(data: &Dataset, item: recalign_data::ItemIdx) -> String {
    let item = data.item(item);
    match item.title() {
        Some(title) => format!("ID: {}, title: {title}", item.identifier),
        None => format!("ID: {}", item.identifier),
    }
}

/// Replaces each `<extra_id_k>` in `text` by `fill(k)`.
pub fn fill_sentinels(text: &str, fill: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("<extra_id_") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "<extra_id_".len()..];
        let end = after.find('>').expect("closed sentinel");
        let k: usize = after[..end].parse().expect("sentinel number");
        out.push_str(&fill(k));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Fills the sentinels of a masked sample's input from its target and checks
/// that the restored history is the user's most recent training items;
/// returns how many items it shows.
pub fn unmask_history(data: &Dataset, sample: &Sample<'_>) -> usize {
    let parts = sentinel_parts(&sample.target);
    let restored = fill_sentinels(&sample.input, |k| parts[k].clone());
    let user = data
        .user_by_raw_id(sample.user)
        .expect("a user of the shop");
    let texts: Vec<String> = data
        .train_sequence(user)
        .iter()
        .map(|e| full_text(data, e.item))
        .collect();
    let shown = ids_in(&restored).len();
    let expected = texts[texts.len() - shown..].join("; ");
    assert!(restored.contains(&expected), "{restored}\n{expected}");
    shown
}

/// The texts after each sentinel of a T5 target, `<extra_id_0> a <extra_id_1> b`.
pub fn sentinel_parts(target: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for chunk in target.split("<extra_id_").skip(1) {
        let end = chunk.find('>').expect("closed sentinel");
        parts.push(chunk[end + 1..].trim().to_string());
    }
    parts
}
