//! Preparation: raw interactions → a [`Dataset`] ready to split.
//!
//! The steps, in order, each deterministic for a seed:
//!
//! 1. **k-core filtering**: repeatedly drop users with fewer than
//!    `user_core` interactions and items with fewer than `item_core`, until
//!    nothing changes (default 5/5; the Amazon 5-core files pass unchanged).
//!    A leave-one-out split needs three interactions per user (train,
//!    validation, test), so the user threshold is never below 3.
//! 2. **Chronological order per user**, by timestamp. Equal timestamps
//!    (Amazon times have day resolution) are ordered by the [`TieRule`]:
//!    file order by default — the shared files keep P5's order, so published
//!    numbers stay comparable — or by raw item id, or by a seeded shuffle.
//!    A user with any unknown timestamp keeps file order (counted).
//!    Repeated (user, item) pairs are kept and counted.
//! 3. **Catalogue**: surviving items sorted by raw id; titles, brands,
//!    categories and descriptions HTML-unescaped (the 2014 metadata keeps
//!    `&amp;`) and whitespace-normalised; an empty title is unknown. An item
//!    without a title is shown by its identifier only in later stages; the
//!    count is in the stats.
//! 4. **Identifiers** by [`IdScheme`] (`atomic` by default); `semantic`
//!    codes come from item features and the training split only
//!    ([`crate::codes`]).
//!
//! The leave-one-out split is then a view over each sequence (see
//! [`crate::dataset`]).

use std::path::Path;

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{self, CodeReport, SemanticConfig};
use crate::dataset::{Dataset, Event, Item, ItemIdx};
use crate::error::{Error, FileErrors, Result};
use crate::ids::{self, IdScheme, seeded_rng};
use crate::source::{ItemMetadata, RawData, SkippedLines};

/// Fewest interactions a user needs for a leave-one-out split.
pub const MIN_SEQUENCE_LEN: usize = 3;

/// How interactions with equal timestamps are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TieRule {
    /// Keep the order of the source file (stable sort). Default: the shared
    /// Amazon files keep P5's order, which published numbers rest on.
    #[default]
    FileOrder,
    /// Order ties by raw item id. Fabricates order where there is none; for
    /// comparison with pipelines that do this.
    ItemId,
    /// Order ties by a seeded random shuffle.
    Shuffle,
}

impl TieRule {
    /// Every rule.
    pub const ALL: [TieRule; 3] = [TieRule::FileOrder, TieRule::ItemId, TieRule::Shuffle];

    /// The name used on the command line and in config files.
    pub fn name(self) -> &'static str {
        match self {
            TieRule::FileOrder => "file-order",
            TieRule::ItemId => "item-id",
            TieRule::Shuffle => "shuffle",
        }
    }
}

ids::display_and_parse_by_name!(TieRule, "tie rule");

/// Everything that decides how a dataset is prepared. Read from the
/// `[prepare]` table of a TOML file; unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrepareConfig {
    /// Minimum interactions per user (raised to 3 for the split). 0 or 1
    /// disables user filtering beyond that.
    pub user_core: usize,
    /// Minimum interactions per item. 0 or 1 disables item filtering.
    pub item_core: usize,
    /// Order of equal timestamps.
    pub ties: TieRule,
    /// How item identifiers are assigned.
    pub id_scheme: IdScheme,
    /// Seed of every random choice in preparation.
    pub seed: u64,
    /// Most recent history items a model sees (paper §9.2 #5: 20, as TIGER).
    pub max_history: usize,
    /// How `semantic` identifiers are made (`[prepare.semantic]`; read only
    /// with `id_scheme = "semantic"`).
    pub semantic: SemanticConfig,
}

impl Default for PrepareConfig {
    fn default() -> Self {
        PrepareConfig {
            user_core: 5,
            item_core: 5,
            ties: TieRule::FileOrder,
            id_scheme: IdScheme::Atomic,
            seed: 42,
            max_history: 20,
            semantic: SemanticConfig::default(),
        }
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    prepare: PrepareConfig,
}

impl PrepareConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.max_history == 0 {
            return Err(Error::Config(
                "prepare.max_history must be at least 1".to_string(),
            ));
        }
        self.semantic.validate()
    }

    /// The identifier scheme in words: its name, with the code settings for
    /// `semantic` (`semantic (collab, 3×256 + separator)`).
    pub fn identifiers(&self) -> String {
        match self.id_scheme {
            IdScheme::Semantic => format!("semantic ({})", self.semantic.describe()),
            scheme => scheme.to_string(),
        }
    }

    /// What decides every item's identifier, in words: [`Self::identifiers`]
    /// and the seed. A model trained on one dataset's identifiers can read
    /// another's only when these agree.
    pub fn identifier_key(&self) -> String {
        format!("{}, seed {}", self.identifiers(), self.seed)
    }

    /// Reads the `[prepare]` table of a TOML file (other tables belong to
    /// later stages; the binary checks that every table is known).
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Parses the `[prepare]` table of TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.prepare.validate().map_err(|e| e.to_string())?;
        Ok(file.prepare)
    }
}

/// How ties in timestamps were found and ordered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TieReport {
    /// Users whose timestamps are all known (the others keep file order).
    pub users_with_timestamps: usize,
    /// Users with at least two interactions at the same timestamp.
    pub users_with_ties: usize,
    /// Adjacent pairs with equal timestamps, over all users.
    pub tied_pairs: usize,
    /// Of those, pairs whose final order is ascending raw item id (100 %
    /// means the order of ties is the item-id order).
    pub tied_pairs_in_item_id_order: usize,
    /// Users whose validation and test items share a timestamp: the tie rule
    /// decides which one is the test item.
    pub users_valid_test_tied: usize,
    /// Users whose last training item and validation item share a timestamp.
    pub users_train_valid_tied: usize,
}

/// What preparation did to the raw data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrepareReport {
    /// The files read (empty for generated data).
    pub source_files: Vec<String>,
    /// Users in the source.
    pub raw_users: usize,
    /// Items in the source.
    pub raw_items: usize,
    /// Interactions in the source.
    pub raw_interactions: usize,
    /// Filtering passes that removed something.
    pub kcore_rounds: usize,
    /// Users removed by filtering.
    pub removed_users: usize,
    /// Items removed by filtering.
    pub removed_items: usize,
    /// Interactions removed by filtering.
    pub removed_interactions: usize,
    /// Interactions whose (user, item) pair occurred before (kept).
    pub repeated_interactions: usize,
    /// Users kept in file order because a timestamp is unknown.
    pub users_in_file_order: usize,
    /// Timestamp ties.
    pub ties: TieReport,
    /// Catalogue items with no metadata line at all.
    pub items_without_metadata: usize,
    /// Metadata lines that could not be used.
    pub skipped_metadata: SkippedLines,
    /// The semantic codes' figures (`semantic` identifiers only).
    pub codes: Option<CodeReport>,
}

/// Prepares `raw` under `config`.
pub fn prepare(name: &str, raw: RawData, config: &PrepareConfig) -> Result<Dataset> {
    config.validate()?;
    let RawData {
        users: raw_users,
        items: raw_items,
        interactions,
        mut metadata,
        skipped_metadata,
        files,
    } = raw;
    metadata.resize(raw_items.len(), None);
    let mut report = PrepareReport {
        source_files: files.iter().map(|p| p.display().to_string()).collect(),
        raw_users: raw_users.len(),
        raw_items: raw_items.len(),
        raw_interactions: interactions.len(),
        skipped_metadata,
        ..PrepareReport::default()
    };

    // 1. k-core.
    let user_core = config.user_core.max(MIN_SEQUENCE_LEN);
    let mut alive = vec![true; interactions.len()];
    loop {
        let mut user_count = vec![0usize; raw_users.len()];
        let mut item_count = vec![0usize; raw_items.len()];
        for (r, x) in interactions.iter().enumerate() {
            if alive[r] {
                user_count[x.user as usize] += 1;
                item_count[x.item as usize] += 1;
            }
        }
        let mut changed = false;
        for (r, x) in interactions.iter().enumerate() {
            if alive[r]
                && (user_count[x.user as usize] < user_core
                    || item_count[x.item as usize] < config.item_core)
            {
                alive[r] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        report.kcore_rounds += 1;
    }

    // Surviving users and items, sorted by raw id.
    let mut user_alive = vec![false; raw_users.len()];
    let mut item_alive = vec![false; raw_items.len()];
    for (r, x) in interactions.iter().enumerate() {
        if alive[r] {
            user_alive[x.user as usize] = true;
            item_alive[x.item as usize] = true;
        }
    }
    let sorted_ids = |alive: &[bool], names: &crate::source::Interner| {
        let mut kept: Vec<u32> = (0..alive.len() as u32)
            .filter(|&i| alive[i as usize])
            .collect();
        kept.sort_unstable_by(|&a, &b| names.name(a).cmp(names.name(b)));
        kept
    };
    let user_order = sorted_ids(&user_alive, &raw_users);
    let item_order = sorted_ids(&item_alive, &raw_items);
    if user_order.is_empty() {
        return Err(Error::EmptyDataset {
            name: name.to_string(),
            reason: format!(
                "the {user_core}/{}-core filter removed every user; lower user_core/item_core",
                config.item_core
            ),
        });
    }
    let mut new_user = vec![u32::MAX; raw_users.len()];
    for (new, &old) in user_order.iter().enumerate() {
        new_user[old as usize] = new as u32;
    }
    let mut new_item = vec![u32::MAX; raw_items.len()];
    for (new, &old) in item_order.iter().enumerate() {
        new_item[old as usize] = new as u32;
    }
    let kept = alive.iter().filter(|&&a| a).count();
    report.removed_users = raw_users.len() - user_order.len();
    report.removed_items = raw_items.len() - item_order.len();
    report.removed_interactions = interactions.len() - kept;

    // 2. Group rows by user in file order (a counting sort), then order
    //    each user's rows.
    let mut offsets = vec![0u32; user_order.len() + 1];
    for (r, x) in interactions.iter().enumerate() {
        if alive[r] {
            offsets[new_user[x.user as usize] as usize + 1] += 1;
        }
    }
    for u in 0..user_order.len() {
        offsets[u + 1] += offsets[u];
    }
    let mut order = vec![0u32; kept];
    let mut cursor = offsets.clone();
    for (r, x) in interactions.iter().enumerate() {
        if alive[r] {
            let slot = &mut cursor[new_user[x.user as usize] as usize];
            order[*slot as usize] = r as u32;
            *slot += 1;
        }
    }
    let mut per_user: Vec<&mut [u32]> = Vec::with_capacity(user_order.len());
    let mut rest = order.as_mut_slice();
    for w in offsets.windows(2) {
        let (head, tail) = rest.split_at_mut((w[1] - w[0]) as usize);
        per_user.push(head);
        rest = tail;
    }
    report.users_in_file_order = per_user
        .par_iter_mut()
        .enumerate()
        .map(|(u, rows)| {
            let ts = |r: &u32| interactions[*r as usize].timestamp();
            if rows.iter().any(|r| ts(r).is_none()) {
                return 1;
            }
            match config.ties {
                TieRule::FileOrder => rows.sort_by_key(ts),
                // New item indices follow raw-id order.
                TieRule::ItemId => {
                    rows.sort_by_key(|r| (ts(r), new_item[interactions[*r as usize].item as usize]))
                }
                TieRule::Shuffle => {
                    let user_id = raw_users.name(user_order[u]);
                    let mut rng = seeded_rng(config.seed, &format!("ties/{user_id}"));
                    let mut keyed: Vec<(i64, u64, u32)> = rows
                        .iter()
                        .map(|r| (ts(r).unwrap_or_default(), rng.random(), *r))
                        .collect();
                    keyed.sort_unstable();
                    for (slot, (_, _, r)) in rows.iter_mut().zip(keyed) {
                        *slot = r;
                    }
                }
            }
            0
        })
        .sum();
    let events: Vec<Event> = order
        .iter()
        .map(|&r| {
            let x = interactions[r as usize];
            Event::new(
                ItemIdx(new_item[x.item as usize]),
                x.rating(),
                x.timestamp(),
            )
        })
        .collect();

    // 3. Catalogue.
    let metas: Vec<Option<ItemMetadata>> = item_order
        .iter()
        .map(|&old| metadata[old as usize].take())
        .collect();
    report.items_without_metadata = metas.iter().filter(|m| m.is_none()).count();
    let mut items: Vec<Item> = item_order
        .par_iter()
        .zip(metas)
        .map(|(&old, meta)| Item {
            raw_id: raw_items.name(old).to_string(),
            identifier: String::new(),
            meta: normalize_metadata(meta.unwrap_or_default()),
        })
        .collect();

    // 4. Identifiers.
    let item_seq: Vec<u32> = events.iter().map(|e| e.item.0).collect();
    let sequences = offsets
        .windows(2)
        .map(|w| &item_seq[w[0] as usize..w[1] as usize]);
    let identifiers = if config.id_scheme == IdScheme::Semantic {
        let train = sequences.map(|s| &s[..s.len().saturating_sub(2)]);
        let (identifiers, codes) =
            codes::assign(&items, train, &config.semantic, config.seed, name)?;
        report.codes = Some(codes);
        identifiers
    } else {
        ids::assign(config.id_scheme, config.seed, items.len(), sequences)
    };
    for (item, id) in items.iter_mut().zip(identifiers) {
        item.identifier = id;
    }
    if config.id_scheme.leaks() {
        tracing::warn!(
            "item identifiers use the `sequential` scheme, which numbers items in the order users \
             bought them, test items included: identifiers leak the answer (P5's Beauty HR@5 fell \
             from 0.0508 to 0.0163 with random identifiers). Use it only to reproduce P5."
        );
    }

    let mut dataset = Dataset {
        name: name.to_string(),
        config: config.clone(),
        report,
        users: user_order
            .iter()
            .map(|&u| raw_users.name(u).to_string())
            .collect(),
        items,
        offsets,
        events,
        added: Default::default(),
    };
    dataset.report.ties = tie_report(&dataset);
    dataset.report.repeated_interactions = repeated_interactions(&dataset);
    Ok(dataset)
}

fn tie_report(dataset: &Dataset) -> TieReport {
    let mut report = TieReport::default();
    for user in dataset.users() {
        let seq = dataset.sequence(user);
        if seq.iter().any(|e| e.timestamp().is_none()) {
            continue;
        }
        report.users_with_timestamps += 1;
        let mut any = false;
        for pair in seq.windows(2) {
            if pair[0].timestamp() == pair[1].timestamp() {
                any = true;
                report.tied_pairs += 1;
                // Item indices follow raw-id order.
                if pair[0].item <= pair[1].item {
                    report.tied_pairs_in_item_id_order += 1;
                }
            }
        }
        report.users_with_ties += usize::from(any);
        let n = seq.len();
        report.users_valid_test_tied +=
            usize::from(seq[n - 2].timestamp() == seq[n - 1].timestamp());
        report.users_train_valid_tied +=
            usize::from(seq[n - 3].timestamp() == seq[n - 2].timestamp());
    }
    report
}

fn repeated_interactions(dataset: &Dataset) -> usize {
    // last_user[item] = 1 + the last user seen with the item.
    let mut last_user = vec![0u32; dataset.num_items()];
    let mut repeats = 0;
    for user in dataset.users() {
        for e in dataset.sequence(user) {
            let slot = &mut last_user[e.item.index()];
            if *slot == user.0 + 1 {
                repeats += 1;
            }
            *slot = user.0 + 1;
        }
    }
    repeats
}

fn normalize_metadata(meta: ItemMetadata) -> ItemMetadata {
    ItemMetadata {
        title: meta.title.and_then(normalize_owned),
        brand: meta.brand.and_then(normalize_owned),
        categories: meta
            .categories
            .into_iter()
            .map(|path| path.into_iter().filter_map(normalize_owned).collect())
            .filter(|path: &Vec<String>| !path.is_empty())
            .collect(),
        price: meta.price.filter(|p| p.is_finite()),
        description: meta.description.and_then(normalize_owned),
    }
}

/// [`normalize_text`] that keeps the string when it is already normal.
fn normalize_owned(text: String) -> Option<String> {
    if is_normal(&text) {
        Some(text)
    } else {
        normalize_text(&text)
    }
}

/// True when [`normalize_text`] would return `text` unchanged: no `&`, no
/// leading, trailing or repeated whitespace, no whitespace but spaces.
fn is_normal(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes[0] == b' ' || bytes[bytes.len() - 1] == b' ' || has_entity(bytes) {
        return false;
    }
    if !text.is_ascii() {
        let mut previous_space = false;
        return text.chars().all(|c| {
            let ok = !c.is_whitespace() || (c == ' ' && !previous_space);
            previous_space = c.is_whitespace();
            ok
        });
    }
    memchr::memmem::find(bytes, b"  ").is_none()
        && memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_none()
        && memchr::memchr2(0x0b, 0x0c, bytes).is_none()
}

/// Whether `bytes` holds something shaped like an HTML entity (`&name;`,
/// `&#123;`, `&#x1F;`); a bare `&` (as in `Bath & Body`) is plain text.
fn has_entity(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'&', bytes).any(|at| {
        let rest = &bytes[at + 1..];
        let body = rest
            .iter()
            .take(32)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'#')
            .count();
        body > 0 && rest.get(body) == Some(&b';')
    })
}

/// HTML-unescapes `text` and collapses runs of whitespace; empty text is
/// `None`.
pub fn normalize_text(text: &str) -> Option<String> {
    let decoded = html_escape::decode_html_entities(text);
    let mut out = String::with_capacity(decoded.len());
    for word in decoded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_text_unescapes_and_collapses() {
        assert_eq!(
            normalize_text("  Bath &amp; Body\n  Works &#39;Mist&#x27; ").as_deref(),
            Some("Bath & Body Works 'Mist'")
        );
        assert_eq!(normalize_text(" \t "), None);
        for text in [
            "plain title",
            " lead",
            "trail ",
            "two  spaces",
            "tab\there",
            "&lt;b&gt;",
            "",
            " ",
            "caf\u{e9} ok",
            "nbsp\u{a0}here",
            "x\u{b}y",
            "new\nline",
            "Bath & Body",
            "A&amp;B",
            "x &#39;y&#x27;",
            "& ;",
            "&;",
        ] {
            assert_eq!(
                normalize_owned(text.to_string()),
                normalize_text(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn config_from_toml_rejects_unknown_keys_and_bad_values() {
        let c = PrepareConfig::from_toml_str("[prepare]\nuser_core = 10\nties = \"shuffle\"\n")
            .unwrap();
        assert_eq!(c.user_core, 10);
        assert_eq!(c.ties, TieRule::Shuffle);
        assert_eq!(c.item_core, 5);
        let err = PrepareConfig::from_toml_str("[prepare]\nusercore = 10\n").unwrap_err();
        assert!(err.contains("usercore"), "{err}");
        let err = PrepareConfig::from_toml_str("[prepare]\nmax_history = 0\n").unwrap_err();
        assert!(err.contains("max_history"), "{err}");
        let err = PrepareConfig::from_toml_str("[prepare]\nid_scheme = \"p5\"\n").unwrap_err();
        assert!(err.contains("p5"), "{err}");
    }
}
