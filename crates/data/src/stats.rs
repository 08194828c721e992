//! Dataset statistics: the numbers of the paper's dataset table (users,
//! items, interactions, density, sequence length) and what later stages
//! depend on (field coverage, rating histogram, timestamp ties, titles).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::dataset::{Dataset, Event};
use crate::prepare::{PrepareReport, TieReport};
use crate::spec::{Amazon, Counts};

/// Mean, median and range of users' sequence lengths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthStats {
    /// Mean.
    pub mean: f64,
    /// Median (mean of the two middle values for an even count).
    pub median: f64,
    /// Shortest.
    pub min: usize,
    /// Longest.
    pub max: usize,
}

/// How many items or interactions have a field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coverage {
    /// With the field.
    pub known: usize,
    /// Out of.
    pub total: usize,
}

impl Coverage {
    /// Share known, 0–1.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.known as f64 / self.total as f64
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2} % ({})",
            100.0 * self.share(),
            thousands(self.known)
        )
    }
}

/// The published counts and whether the prepared dataset matches them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedCheck {
    /// Where the numbers come from.
    pub source: &'static str,
    /// The published counts.
    pub counts: Counts,
    /// Whether users, items and interactions all match.
    pub matches: bool,
}

/// Everything `recalign stats` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetStats {
    /// Dataset name.
    pub dataset: String,
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// interactions / (users × items).
    pub density: f64,
    /// Per-user sequence length.
    pub sequence_length: LengthStats,
    /// Interactions in training sequences (all but the last two per user).
    pub train_interactions: usize,
    /// Users with a validation and a test item (all of them).
    pub held_out_users: usize,
    /// Interactions with a rating.
    pub ratings: Coverage,
    /// Count per rating value (as written, e.g. `"5"`).
    pub rating_histogram: BTreeMap<String, usize>,
    /// Mean rating over rated interactions.
    pub rating_mean: Option<f64>,
    /// Interactions with a timestamp.
    pub timestamps: Coverage,
    /// First and last day (`YYYY-MM-DD`, UTC).
    pub time_span: Option<(String, String)>,
    /// Timestamp ties.
    pub ties: TieReport,
    /// Items with a title.
    pub titles: Coverage,
    /// Items whose title another item also has.
    pub items_sharing_a_title: usize,
    /// Items with a brand.
    pub brands: Coverage,
    /// Items with categories.
    pub categories: Coverage,
    /// Items with a price.
    pub prices: Coverage,
    /// Items with a description.
    pub descriptions: Coverage,
    /// The published counts, for the Amazon datasets.
    pub published: Option<PublishedCheck>,
    /// What preparation did.
    pub preparation: PrepareReport,
    /// `user_core/item_core`, tie rule, id scheme, seed, max history.
    pub config: crate::prepare::PrepareConfig,
}

impl DatasetStats {
    /// Computes the statistics of `dataset`.
    pub fn compute(dataset: &Dataset) -> Self {
        let mut lengths: Vec<usize> = dataset.users().map(|u| dataset.sequence(u).len()).collect();
        lengths.sort_unstable();
        let n = lengths.len();
        let median = if n % 2 == 1 {
            lengths[n / 2] as f64
        } else {
            (lengths[n / 2 - 1] + lengths[n / 2]) as f64 / 2.0
        };
        let events = dataset.events();
        let mut histogram = BTreeMap::new();
        let mut rating_sum = 0.0;
        let mut rated = 0;
        for r in events.iter().filter_map(Event::rating) {
            *histogram.entry(format!("{r}")).or_insert(0) += 1;
            rating_sum += f64::from(r);
            rated += 1;
        }
        let times: Vec<i64> = events.iter().filter_map(Event::timestamp).collect();
        let time_span = times
            .iter()
            .min()
            .zip(times.iter().max())
            .map(|(a, b)| (date(*a), date(*b)));
        let items = dataset.items();
        let item_cov = |f: &dyn Fn(&crate::dataset::Item) -> bool| Coverage {
            known: items.iter().filter(|i| f(i)).count(),
            total: items.len(),
        };
        let mut title_counts: BTreeMap<&str, usize> = BTreeMap::new();
        for title in items.iter().filter_map(|i| i.title()) {
            *title_counts.entry(title).or_insert(0) += 1;
        }
        let published = Amazon::from_name(&dataset.name).map(|a| {
            let counts = a.published();
            PublishedCheck {
                source: "P5 / TIGER / OpenP5 dataset tables",
                counts,
                matches: counts.users == dataset.num_users()
                    && counts.items == dataset.num_items()
                    && counts.interactions == dataset.num_interactions(),
            }
        });
        DatasetStats {
            dataset: dataset.name.clone(),
            users: dataset.num_users(),
            items: dataset.num_items(),
            interactions: events.len(),
            density: events.len() as f64
                / (dataset.num_users() as f64 * dataset.num_items() as f64),
            sequence_length: LengthStats {
                mean: events.len() as f64 / n as f64,
                median,
                min: lengths[0],
                max: lengths[n - 1],
            },
            train_interactions: events.len() - 2 * n,
            held_out_users: n,
            ratings: Coverage {
                known: rated,
                total: events.len(),
            },
            rating_histogram: histogram,
            rating_mean: (rated > 0).then(|| rating_sum / rated as f64),
            timestamps: Coverage {
                known: times.len(),
                total: events.len(),
            },
            time_span,
            ties: dataset.report.ties.clone(),
            titles: item_cov(&|i| i.meta.title.is_some()),
            items_sharing_a_title: title_counts.values().filter(|&&c| c > 1).sum(),
            brands: item_cov(&|i| i.meta.brand.is_some()),
            categories: item_cov(&|i| !i.meta.categories.is_empty()),
            prices: item_cov(&|i| i.meta.price.is_some()),
            descriptions: item_cov(&|i| i.meta.description.is_some()),
            published,
            preparation: dataset.report.clone(),
            config: dataset.config.clone(),
        }
    }
}

/// The semantic codes' figures: per level, how evenly codes are used, and
/// how many items needed the separating level.
fn write_codes(f: &mut fmt::Formatter<'_>, codes: &crate::codes::CodeReport) -> fmt::Result {
    let fallback = |what: &str, n: Option<usize>| n.map(|n| format!("; {n} items without {what}"));
    writeln!(
        f,
        "codes          {}, {}-d features{}{}",
        codes.config.describe(),
        codes.width,
        fallback("text", codes.items_without_text).unwrap_or_default(),
        fallback("a training interaction", codes.items_without_interactions).unwrap_or_default(),
    )?;
    for (level, usage) in codes.levels.iter().enumerate() {
        writeln!(
            f,
            "  level {}      {} of {} codes used, perplexity {:.1}, largest {} items; {} distinct prefixes",
            crate::codes::letter(level),
            usage.used,
            codes.config.codebook,
            usage.perplexity,
            thousands(usage.largest),
            thousands(usage.prefixes)
        )?;
    }
    writeln!(
        f,
        "  collisions   {} items ({:.1} %) share all {} codes with another; the separating level uses {} codes",
        thousands(codes.colliding_items),
        100.0 * codes.collision_rate,
        codes.levels.len(),
        codes.separator_codes
    )
}

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        "0.0 %".to_string()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

impl fmt::Display for DatasetStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let p = &self.preparation;
        let t = &self.ties;
        writeln!(f, "dataset        {}", self.dataset)?;
        for file in &p.source_files {
            writeln!(f, "  file         {file}")?;
        }
        writeln!(
            f,
            "preparation    {}/{}-core, ties {}, item ids {} (seed {}), max history {}",
            c.user_core.max(crate::prepare::MIN_SEQUENCE_LEN),
            c.item_core,
            c.ties,
            c.id_scheme,
            c.seed,
            c.max_history
        )?;
        if let Some(codes) = &p.codes {
            write_codes(f, codes)?;
        }
        writeln!(f)?;
        writeln!(f, "users          {:>10}", thousands(self.users))?;
        writeln!(f, "items          {:>10}", thousands(self.items))?;
        writeln!(f, "interactions   {:>10}", thousands(self.interactions))?;
        writeln!(f, "density        {:>10.4} %", 100.0 * self.density)?;
        let l = &self.sequence_length;
        writeln!(
            f,
            "sequence       mean {:.2}, median {}, min {}, max {}",
            l.mean, l.median, l.min, l.max
        )?;
        if let Some(check) = &self.published {
            writeln!(
                f,
                "published      {} / {} / {} ({}): {}",
                thousands(check.counts.users),
                thousands(check.counts.items),
                thousands(check.counts.interactions),
                check.source,
                if check.matches { "match" } else { "DIFFERENT" }
            )?;
        }
        writeln!(
            f,
            "filtering      removed {} users, {} items, {} interactions in {} rounds (source: {} / {} / {})",
            thousands(p.removed_users),
            thousands(p.removed_items),
            thousands(p.removed_interactions),
            p.kcore_rounds,
            thousands(p.raw_users),
            thousands(p.raw_items),
            thousands(p.raw_interactions),
        )?;
        if p.repeated_interactions > 0 {
            writeln!(
                f,
                "repeats        {} interactions repeat an item of the same user (kept)",
                thousands(p.repeated_interactions)
            )?;
        }
        writeln!(
            f,
            "split          leave-one-out: train {} interactions, valid {} users, test {} users",
            thousands(self.train_interactions),
            thousands(self.held_out_users),
            thousands(self.held_out_users)
        )?;
        writeln!(f)?;
        if self.ratings.known == 0 {
            writeln!(
                f,
                "ratings        none (the rating task is unavailable for this dataset)"
            )?;
        } else {
            let hist: Vec<String> = self
                .rating_histogram
                .iter()
                .map(|(r, n)| format!("{r}: {}", pct(*n, self.ratings.known)))
                .collect();
            writeln!(
                f,
                "ratings        {}, mean {:.2}; {}",
                self.ratings,
                self.rating_mean.unwrap_or_default(),
                hist.join(", ")
            )?;
        }
        match &self.time_span {
            Some((a, b)) => writeln!(f, "timestamps     {}, {a} .. {b}", self.timestamps)?,
            None => writeln!(f, "timestamps     none (sequences keep file order)")?,
        }
        if p.users_in_file_order > 0 {
            writeln!(
                f,
                "               {} users lack a timestamp and keep file order",
                thousands(p.users_in_file_order)
            )?;
        }
        if t.users_with_timestamps > 0 {
            writeln!(
                f,
                "ties           {} users ({}) have items with equal timestamps; {} adjacent pairs, {} of them in item-id order",
                thousands(t.users_with_ties),
                pct(t.users_with_ties, t.users_with_timestamps),
                thousands(t.tied_pairs),
                pct(t.tied_pairs_in_item_id_order, t.tied_pairs),
            )?;
            writeln!(
                f,
                "               validation and test item tied for {} users ({}), training and validation for {} ({}); the tie rule decides them",
                thousands(t.users_valid_test_tied),
                pct(t.users_valid_test_tied, t.users_with_timestamps),
                thousands(t.users_train_valid_tied),
                pct(t.users_train_valid_tied, t.users_with_timestamps),
            )?;
        }
        writeln!(f)?;
        let missing = self.titles.total - self.titles.known;
        writeln!(
            f,
            "titles         {}; {} missing (shown by identifier only); {} items share a title",
            self.titles,
            thousands(missing),
            thousands(self.items_sharing_a_title)
        )?;
        writeln!(f, "brands         {}", self.brands)?;
        writeln!(f, "categories     {}", self.categories)?;
        writeln!(f, "prices         {}", self.prices)?;
        writeln!(f, "descriptions   {}", self.descriptions)?;
        if p.items_without_metadata > 0 {
            writeln!(
                f,
                "               {} items have no metadata line",
                thousands(p.items_without_metadata)
            )?;
        }
        if p.skipped_metadata.count > 0 {
            writeln!(
                f,
                "skipped        {} metadata lines could not be used, first: {}",
                thousands(p.skipped_metadata.count as usize),
                p.skipped_metadata.first.join("; ")
            )?;
        }
        Ok(())
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Unix seconds → `YYYY-MM-DD` (UTC), by Howard Hinnant's civil-from-days.
pub fn date(unix_seconds: i64) -> String {
    let z = unix_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(198_502), "198,502");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn dates_match_known_values() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_406_073_600), "2014-07-23");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-86_400), "1969-12-31");
    }
}
