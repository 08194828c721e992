//! Which files hold a dataset: names (`beauty`, `synthetic`, …) and paths
//! resolved to a [`Source`].
//!
//! The data directory is `--data-dir`, else `$RECALIGN_DATA`, else `./data`.
//! For an Amazon name `NAME` (category `Cat`), these are tried in order:
//!
//! 1. McAuley's originals, `reviews_<Cat>_5.json[.gz]` in `DIR/NAME/` or
//!    `DIR/`, with `meta_<Cat>.json[.gz]` beside it (else `DIR/NAME/items.jsonl.gz`);
//!    they carry ratings and full metadata, so they win when present;
//! 2. recalign's shared files, `DIR/NAME/interactions.tsv.gz` with
//!    `DIR/NAME/items.jsonl.gz`.
//!
//! A path names a user's own data: a CSV/TSV file (items from a sibling
//! `items.jsonl[.gz]`), or a directory holding `interactions.{tsv,csv}[.gz]`
//! (or a McAuley reviews file) and optionally the items file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, FileErrors, Result};
use crate::read::ProgressHandle;
use crate::source::{RawData, items, mcauley, tabular};
use crate::synthetic::{self, SyntheticConfig};

/// Environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "RECALIGN_DATA";

/// The data directory: `flag`, else `$RECALIGN_DATA`, else `./data`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(DATA_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// The Amazon 2014 5-core datasets of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amazon {
    /// Beauty.
    Beauty,
    /// Sports & Outdoors.
    Sports,
    /// Toys & Games.
    Toys,
}

/// Users, items and interactions of a published dataset table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
}

impl Amazon {
    /// All three.
    pub const ALL: [Amazon; 3] = [Amazon::Beauty, Amazon::Sports, Amazon::Toys];

    /// The short name (`beauty`, `sports`, `toys`).
    pub fn name(self) -> &'static str {
        match self {
            Amazon::Beauty => "beauty",
            Amazon::Sports => "sports",
            Amazon::Toys => "toys",
        }
    }

    /// McAuley's category name, as in `reviews_<Category>_5.json.gz`.
    pub fn category(self) -> &'static str {
        match self {
            Amazon::Beauty => "Beauty",
            Amazon::Sports => "Sports_and_Outdoors",
            Amazon::Toys => "Toys_and_Games",
        }
    }

    /// The counts published by P5, TIGER and OpenP5 for the 5-core data.
    pub fn published(self) -> Counts {
        match self {
            Amazon::Beauty => Counts {
                users: 22_363,
                items: 12_101,
                interactions: 198_502,
            },
            Amazon::Sports => Counts {
                users: 35_598,
                items: 18_357,
                interactions: 296_337,
            },
            Amazon::Toys => Counts {
                users: 19_412,
                items: 11_924,
                interactions: 167_597,
            },
        }
    }

    /// Where McAuley's 2014 files are published.
    pub const MCAULEY_BASE_URL: &'static str =
        "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/";

    /// McAuley's file names: the 5-core reviews and the category metadata.
    pub fn mcauley_files(self) -> [String; 2] {
        [
            format!("reviews_{}_5.json.gz", self.category()),
            format!("meta_{}.json.gz", self.category()),
        ]
    }

    /// The dataset called `name`, if it is an Amazon one.
    pub fn from_name(name: &str) -> Option<Amazon> {
        Amazon::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A dataset as named by a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetSpec {
    /// The embedded synthetic shop.
    Synthetic(SyntheticConfig),
    /// An Amazon dataset in the data directory.
    Amazon(Amazon),
    /// A file or directory of the user's own.
    Path(PathBuf),
}

impl DatasetSpec {
    /// Parses `synthetic`, `beauty`, `sports`, `toys`, or an existing path.
    pub fn parse(name: &str) -> Result<Self> {
        if name == "synthetic" {
            return Ok(DatasetSpec::Synthetic(SyntheticConfig::default()));
        }
        if let Some(amazon) = Amazon::from_name(name) {
            return Ok(DatasetSpec::Amazon(amazon));
        }
        let path = Path::new(name);
        if path.exists() {
            return Ok(DatasetSpec::Path(path.to_path_buf()));
        }
        if name.contains(['/', '\\', '.']) {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
        Err(Error::UnknownDataset {
            name: name.to_string(),
        })
    }

    /// The name datasets are reported and cached under.
    pub fn name(&self) -> String {
        match self {
            DatasetSpec::Synthetic(_) => "synthetic".to_string(),
            DatasetSpec::Amazon(a) => a.name().to_string(),
            DatasetSpec::Path(p) => {
                let file = p
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "dataset".to_string());
                file.split('.').next().unwrap_or("dataset").to_string()
            }
        }
    }
}

/// How an interactions file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InteractionFormat {
    /// CSV/TSV with a header (see [`crate::source::tabular`]).
    Table,
    /// McAuley's `reviews_<Category>_5.json.gz`.
    McAuleyReviews,
}

/// How an item metadata file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemFormat {
    /// JSON lines (see [`crate::source::items`]).
    JsonLines,
    /// McAuley's `meta_<Category>.json.gz` (Python literals).
    McAuleyMeta,
}

/// Where a dataset's data comes from, resolved to concrete files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    /// Generated in code.
    Synthetic(SyntheticConfig),
    /// Read from files.
    Files {
        /// The interactions file.
        interactions: PathBuf,
        /// Its layout.
        interactions_format: InteractionFormat,
        /// The item metadata file, if any, and its layout.
        items: Option<(PathBuf, ItemFormat)>,
    },
}

impl Source {
    /// Resolves `spec` against the data directory. `items` overrides the item
    /// metadata file.
    pub fn resolve(spec: &DatasetSpec, data_dir: &Path, items: Option<&Path>) -> Result<Source> {
        let mut source = match spec {
            DatasetSpec::Synthetic(config) => return Ok(Source::Synthetic(config.clone())),
            DatasetSpec::Amazon(amazon) => resolve_amazon(*amazon, data_dir)?,
            DatasetSpec::Path(path) if path.is_dir() => resolve_dir(path, &spec.name())?,
            DatasetSpec::Path(path) => resolve_file(path),
        };
        if let (Some(items), Source::Files { items: slot, .. }) = (items, &mut source) {
            *slot = Some((items.to_path_buf(), item_format(items)));
        }
        Ok(source)
    }

    /// Reads the data.
    pub fn read(&self, progress: &ProgressHandle) -> Result<RawData> {
        match self {
            Source::Synthetic(config) => Ok(synthetic::generate(config)),
            Source::Files {
                interactions,
                interactions_format,
                items: item_file,
            } => {
                let read_interactions = |raw: &mut RawData| match interactions_format {
                    InteractionFormat::Table => {
                        tabular::read_interactions(interactions, progress, raw)
                    }
                    InteractionFormat::McAuleyReviews => {
                        mcauley::read_reviews(interactions, progress, raw)
                    }
                };
                let mut raw = RawData::default();
                match item_file {
                    // A JSON-lines items file is read on a second thread while
                    // the interactions are read.
                    Some((path, ItemFormat::JsonLines)) => {
                        let (read, parsed) = std::thread::scope(|scope| {
                            let items = scope.spawn(|| items::parse_items(path, progress));
                            let read = read_interactions(&mut raw);
                            (read, items.join())
                        });
                        read?;
                        let parsed = parsed.map_err(|_| {
                            Error::Config(format!("reading {} failed unexpectedly", path.display()))
                        })??;
                        parsed.attach_to(&mut raw);
                    }
                    // McAuley's metadata covers the whole category; knowing the
                    // items first lets most lines be skipped unparsed.
                    Some((path, ItemFormat::McAuleyMeta)) => {
                        read_interactions(&mut raw)?;
                        mcauley::read_meta(path, progress, &mut raw)?;
                    }
                    None => read_interactions(&mut raw)?,
                }
                progress.end();
                Ok(raw)
            }
        }
    }

    /// The files this source reads.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            Source::Synthetic(_) => Vec::new(),
            Source::Files {
                interactions,
                items,
                ..
            } => std::iter::once(interactions.as_path())
                .chain(items.as_ref().map(|(p, _)| p.as_path()))
                .collect(),
        }
    }
}

fn first_existing(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|p| p.is_file()).cloned()
}

fn with_gz(dir: &Path, name: &str) -> [PathBuf; 2] {
    [dir.join(format!("{name}.gz")), dir.join(name)]
}

fn resolve_amazon(amazon: Amazon, data_dir: &Path) -> Result<Source> {
    let own = data_dir.join(amazon.name());
    let category = amazon.category();
    let reviews_name = format!("reviews_{category}_5.json");
    let meta_name = format!("meta_{category}.json");
    for dir in [own.as_path(), data_dir] {
        if let Some(reviews) = first_existing(&with_gz(dir, &reviews_name)) {
            let items = first_existing(&with_gz(dir, &meta_name))
                .map(|p| (p, ItemFormat::McAuleyMeta))
                .or_else(|| {
                    first_existing(&with_gz(&own, "items.jsonl"))
                        .map(|p| (p, ItemFormat::JsonLines))
                });
            return Ok(Source::Files {
                interactions: reviews,
                interactions_format: InteractionFormat::McAuleyReviews,
                items,
            });
        }
    }
    if let Some(interactions) = first_existing(&with_gz(&own, "interactions.tsv")) {
        return Ok(Source::Files {
            interactions,
            interactions_format: InteractionFormat::Table,
            items: first_existing(&with_gz(&own, "items.jsonl"))
                .map(|p| (p, ItemFormat::JsonLines)),
        });
    }
    Err(Error::MissingFiles {
        name: amazon.name().to_string(),
        dir: data_dir.to_path_buf(),
        expected: format!(
            "{name}/interactions.tsv.gz (recalign's shared files) or [{name}/]{reviews_name}.gz \
             (McAuley's originals; `recalign data download {name}` fetches them)",
            name = amazon.name()
        ),
    })
}

fn resolve_dir(dir: &Path, name: &str) -> Result<Source> {
    let mut candidates = Vec::new();
    for base in ["interactions.tsv", "interactions.csv"] {
        candidates.extend(with_gz(dir, base));
    }
    if let Some(interactions) = first_existing(&candidates) {
        return Ok(Source::Files {
            interactions,
            interactions_format: InteractionFormat::Table,
            items: first_existing(&with_gz(dir, "items.jsonl")).map(|p| (p, ItemFormat::JsonLines)),
        });
    }
    let reviews = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_mcauley_reviews(p))
        .min();
    if let Some(reviews) = reviews {
        return Ok(resolve_file(&reviews));
    }
    Err(Error::MissingFiles {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        expected: "interactions.tsv[.gz], interactions.csv[.gz] or reviews_<Category>_5.json[.gz]"
            .to_string(),
    })
}

fn resolve_file(path: &Path) -> Source {
    let dir = path.parent().unwrap_or(Path::new("."));
    if is_mcauley_reviews(path) {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let category = file
            .trim_start_matches("reviews_")
            .split("_5.json")
            .next()
            .unwrap_or_default()
            .to_string();
        let items = first_existing(&with_gz(dir, &format!("meta_{category}.json")))
            .map(|p| (p, ItemFormat::McAuleyMeta));
        return Source::Files {
            interactions: path.to_path_buf(),
            interactions_format: InteractionFormat::McAuleyReviews,
            items,
        };
    }
    Source::Files {
        interactions: path.to_path_buf(),
        interactions_format: InteractionFormat::Table,
        items: first_existing(&with_gz(dir, "items.jsonl")).map(|p| (p, ItemFormat::JsonLines)),
    }
}

fn is_mcauley_reviews(path: &Path) -> bool {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .is_some_and(|f| {
            f.starts_with("reviews_") && (f.ends_with(".json") || f.ends_with(".json.gz"))
        })
}

fn item_format(path: &Path) -> ItemFormat {
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.starts_with("meta_") {
        ItemFormat::McAuleyMeta
    } else {
        ItemFormat::JsonLines
    }
}
