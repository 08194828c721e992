//! Semantic item identifiers: short codes that carry what an item is and
//! who buys it (TIGER's idea, with residual k-means instead of an RQ-VAE).
//!
//! Each item gets `levels` codes from residual k-means over its feature
//! vector ([`features`]), then one more code that tells apart items whose
//! codes all agree. Every code is one dedicated token: level 1 is
//! `<a_N>`, level 2 `<b_N>`, and so on, the separating level last, so an
//! item reads `<a_12><b_3><c_200><d_0>` and is always `levels + 1` tokens.
//! Items that share a prefix are alike in their features, so the model can
//! learn about a region of the catalogue and not only about single items.
//!
//! Features use the catalogue and the training split only (each user's
//! interactions but the last two), so nothing held out leaks into a code.

pub mod features;
pub mod kmeans;
pub mod linalg;

use serde::{Deserialize, Serialize};

use crate::dataset::Item;
use crate::error::{Error, Result};

/// What an item's code is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureKind {
    /// TF-IDF of title, brand and categories.
    Content,
    /// Co-occurrence in training sequences.
    #[default]
    Collab,
    /// Both, concatenated, each normalised.
    Both,
}

impl FeatureKind {
    /// Every kind.
    pub const ALL: [FeatureKind; 3] =
        [FeatureKind::Content, FeatureKind::Collab, FeatureKind::Both];

    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            FeatureKind::Content => "content",
            FeatureKind::Collab => "collab",
            FeatureKind::Both => "both",
        }
    }
}

crate::ids::display_and_parse_by_name!(FeatureKind, "feature kind");

/// Most code levels: one letter each (`a`…`y`), `z` kept for the
/// separating level.
pub const MAX_LEVELS: usize = 25;

/// Largest codebook a level may have.
pub const MAX_CODEBOOK: usize = 4096;

/// How semantic codes are made: the `[prepare.semantic]` table, read when
/// `id_scheme = "semantic"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticConfig {
    /// What items are described by.
    pub features: FeatureKind,
    /// Code levels before the separating one.
    pub levels: usize,
    /// Codes per level.
    pub codebook: usize,
    /// Width of each feature vector after the SVD.
    pub dims: usize,
    /// Whether every code of a level holds at most ⌈items/codebook⌉ items.
    pub balanced: bool,
}

impl Default for SemanticConfig {
    fn default() -> Self {
        SemanticConfig {
            features: FeatureKind::Collab,
            levels: 3,
            codebook: 256,
            dims: 64,
            balanced: false,
        }
    }
}

impl SemanticConfig {
    /// Checks the ranges that do not depend on the dataset.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.levels == 0 || self.levels > MAX_LEVELS {
            return bad(format!(
                "prepare.semantic.levels = {}: it must be between 1 and {MAX_LEVELS} (one token \
                 letter per level, and `z` for the separating level)",
                self.levels
            ));
        }
        if !(2..=MAX_CODEBOOK).contains(&self.codebook) {
            return bad(format!(
                "prepare.semantic.codebook = {}: it must be between 2 and {MAX_CODEBOOK}",
                self.codebook
            ));
        }
        if self.dims == 0 {
            return bad("prepare.semantic.dims must be at least 1".into());
        }
        Ok(())
    }

    /// A short description, such as `collab, 3×256 + separator`.
    pub fn describe(&self) -> String {
        format!(
            "{}, {}×{}{} + separator",
            self.features,
            self.levels,
            self.codebook,
            if self.balanced { " balanced" } else { "" }
        )
    }
}

/// How one level uses its codebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelUsage {
    /// Codes used by at least one item.
    pub used: usize,
    /// exp(entropy) of the codes' frequencies: the number of equally used
    /// codes that would spread items as evenly (at most `codebook`).
    pub perplexity: f64,
    /// Items in the most used code.
    pub largest: usize,
    /// Distinct code prefixes up to this level: how many groups of items
    /// the codes so far tell apart.
    pub prefixes: usize,
}

/// What the codes came out as: stored with the prepared dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeReport {
    /// The settings.
    pub config: SemanticConfig,
    /// Feature width after the SVD (the two halves together for `both`).
    pub width: usize,
    /// Items without text that got a random content vector (content, both).
    pub items_without_text: Option<usize>,
    /// Items without a training interaction that got a random collaborative
    /// vector (collab, both).
    pub items_without_interactions: Option<usize>,
    /// Per level, before the separating one.
    pub levels: Vec<LevelUsage>,
    /// Items whose codes before the separating level equal another item's.
    pub colliding_items: usize,
    /// Share of items colliding.
    pub collision_rate: f64,
    /// Codes the separating level needs (the largest group of items with
    /// equal codes).
    pub separator_codes: usize,
}

/// The letter of level `level` (0-based); the separating level is the
/// letter after the last code level.
pub fn letter(level: usize) -> char {
    (b'a' + level as u8) as char
}

/// The token of `code` at `level` (0-based).
pub fn token(level: usize, code: usize) -> String {
    format!("<{}_{code}>", letter(level))
}

/// Splits an identifier into its code tokens (`<a_12><b_3>` →
/// `["<a_12>", "<b_3>"]`).
pub fn tokens(identifier: &str) -> impl Iterator<Item = &str> {
    identifier.split_inclusive('>')
}

/// The (level letter, code) of a code token, if it is one.
pub fn parse_token(token: &str) -> Option<(char, usize)> {
    let inner = token.strip_prefix('<')?.strip_suffix('>')?;
    let (letter, code) = inner.split_once('_')?;
    let mut chars = letter.chars();
    let (Some(l), None) = (chars.next(), chars.next()) else {
        return None;
    };
    Some((l, code.parse().ok()?))
}

/// The semantic identifier of every item (in catalogue order) and their
/// report. `train` gives each user's training items (the sequence without
/// its last two); `dataset` names the data in errors.
pub fn assign<'a>(
    items: &[Item],
    train: impl Iterator<Item = &'a [u32]>,
    config: &SemanticConfig,
    seed: u64,
    dataset: &str,
) -> Result<(Vec<String>, CodeReport)> {
    config.validate()?;
    if config.codebook > items.len() {
        return Err(Error::Config(format!(
            "prepare.semantic.codebook = {}: `{dataset}` has only {} items; a codebook must not \
             be larger than the catalogue",
            config.codebook,
            items.len()
        )));
    }
    let content = || {
        let (matrix, with_text) = features::content_matrix(items);
        if with_text == 0 {
            return Err(Error::Config(format!(
                "prepare.semantic.features = \"{}\": no item of `{dataset}` has a title, brand or \
                 category, so there is no content to describe items by; use \"collab\"",
                config.features
            )));
        }
        Ok(features::reduce(
            &matrix,
            items,
            config.dims,
            seed,
            "content",
        ))
    };
    let collab = |train| {
        let matrix = features::collab_matrix(items.len(), train);
        features::reduce(&matrix, items, config.dims, seed, "collab")
    };
    let (mut residual, width, without_text, without_interactions) = match config.features {
        FeatureKind::Content => {
            let c = content()?;
            (c.values, c.width, Some(c.fallback), None)
        }
        FeatureKind::Collab => {
            let c = collab(train);
            (c.values, c.width, None, Some(c.fallback))
        }
        FeatureKind::Both => {
            let a = content()?;
            let b = collab(train);
            let values = features::concatenate(&a, &b);
            (
                values,
                a.width + b.width,
                Some(a.fallback),
                Some(b.fallback),
            )
        }
    };
    let mut codes: Vec<Vec<usize>> = vec![Vec::with_capacity(config.levels + 1); items.len()];
    let mut levels = Vec::with_capacity(config.levels);
    for level in 0..config.levels {
        let (assignment, centroids) = kmeans::kmeans(
            &residual,
            width,
            config.codebook,
            config.balanced,
            seed,
            &format!("codes/level-{level}"),
        );
        for (i, &c) in assignment.iter().enumerate() {
            codes[i].push(c as usize);
            let centre = &centroids[c as usize * width..(c as usize + 1) * width];
            for (r, m) in residual[i * width..(i + 1) * width].iter_mut().zip(centre) {
                *r -= m;
            }
        }
        let prefixes = codes.iter().collect::<std::collections::HashSet<_>>().len();
        levels.push(usage(&assignment, config.codebook, prefixes));
    }
    // The separating level: items with equal codes numbered in catalogue
    // order.
    let mut groups: std::collections::HashMap<Vec<usize>, usize> = Default::default();
    for code in &mut codes {
        let next = groups.entry(code.clone()).or_insert(0);
        code.push(*next);
        *next += 1;
    }
    let colliding_items: usize = groups.values().filter(|&&n| n > 1).sum();
    let separator_codes = groups.values().copied().max().unwrap_or(0);
    let identifiers = codes
        .iter()
        .map(|code| {
            code.iter()
                .enumerate()
                .map(|(level, &c)| token(level, c))
                .collect::<String>()
        })
        .collect();
    let report = CodeReport {
        config: config.clone(),
        width,
        items_without_text: without_text,
        items_without_interactions: without_interactions,
        levels,
        colliding_items,
        collision_rate: colliding_items as f64 / items.len().max(1) as f64,
        separator_codes,
    };
    Ok((identifiers, report))
}

fn usage(assignment: &[u32], codebook: usize, prefixes: usize) -> LevelUsage {
    let mut counts = vec![0usize; codebook];
    for &c in assignment {
        counts[c as usize] += 1;
    }
    let n = assignment.len().max(1) as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum();
    LevelUsage {
        used: counts.iter().filter(|&&c| c > 0).count(),
        perplexity: entropy.exp(),
        largest: counts.iter().copied().max().unwrap_or(0),
        prefixes,
    }
}

/// An item's code and the items that share its leading codes: what
/// `recalign ids show` prints, so a person can judge whether codes group
/// alike items.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbourhood {
    /// The item's code tokens, the separating one last.
    pub code: Vec<String>,
    /// For each prefix length 1, 2, … up to the code levels: the other
    /// items that share the item's first that many codes, in catalogue
    /// order.
    pub sharing: Vec<Vec<crate::ItemIdx>>,
}

/// The neighbourhood of `item` in `dataset`, whose identifiers must be
/// `semantic`.
pub fn neighbourhood(dataset: &crate::Dataset, item: crate::ItemIdx) -> Result<Neighbourhood> {
    let report = dataset.report.codes.as_ref().ok_or_else(|| {
        Error::Config(format!(
            "`{}` is prepared with `{}` identifiers, which have no codes to compare; prepare it \
             with id_scheme = \"semantic\"",
            dataset.name, dataset.config.id_scheme
        ))
    })?;
    let code: Vec<String> = tokens(&dataset.item(item).identifier)
        .map(str::to_owned)
        .collect();
    let sharing = (1..=report.levels.len())
        .map(|depth| {
            dataset
                .items()
                .iter()
                .enumerate()
                .filter(|&(i, other)| {
                    i != item.index()
                        && tokens(&other.identifier)
                            .take(depth)
                            .eq(code[..depth].iter().map(String::as_str))
                })
                .map(|(i, _)| crate::ItemIdx(i as u32))
                .collect()
        })
        .collect();
    Ok(Neighbourhood { code, sharing })
}
