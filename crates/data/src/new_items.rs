//! Items added to a prepared catalogue at run time (cold start), such as a
//! product listed after the model was trained.
//!
//! A new item is appended: every existing [`ItemIdx`] keeps its meaning, so
//! requests resolved before the addition stay valid. Its identifier follows
//! the dataset's scheme:
//!
//! | scheme | new identifier |
//! |---|---|
//! | digits (`random`, `sequential-train`, `sequential`) | the one given, or the next unused number |
//! | `semantic` | the one given, or, with `like`, that item's code levels and the first free separating code |
//! | `atomic` | refused: each identifier is a token the model learnt, and a new one would have no trained embedding |
//!
//! Appended items are kept in memory only; a prepared dataset in the cache
//! never contains them.

use crate::codes;
use crate::dataset::{Dataset, Item, ItemIdx};
use crate::ids::IdScheme;
use crate::source::ItemMetadata;

/// An item to add.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewItem {
    /// Its id, unique in the catalogue.
    pub raw_id: String,
    /// The identifier the model should write for it; chosen by the rules
    /// above when `None`.
    pub identifier: Option<String>,
    /// For `semantic` identifiers: an existing item whose code levels the
    /// new item shares (the separating level makes it unique).
    pub like: Option<ItemIdx>,
    /// Title, brand, categories, as known.
    pub meta: ItemMetadata,
}

/// Why an item cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewItemError {
    /// The id is empty or only whitespace.
    #[error("the item id is empty")]
    EmptyId,
    /// An item with this id exists.
    #[error("item `{0}` is already in the catalogue")]
    Exists(String),
    /// Another item has this identifier.
    #[error("identifier `{identifier}` already names item `{owner}`")]
    IdentifierTaken {
        /// The identifier asked for.
        identifier: String,
        /// The item that has it.
        owner: String,
    },
    /// The identifier does not follow the dataset's scheme.
    #[error("identifier `{identifier}` does not fit the `{scheme}` scheme: {reason}")]
    BadIdentifier {
        /// The identifier asked for.
        identifier: String,
        /// The dataset's scheme.
        scheme: IdScheme,
        /// What is wrong.
        reason: String,
    },
    /// The scheme cannot name an item the model never saw.
    #[error(
        "the dataset uses `atomic` identifiers: each is a token the model learnt, one per \
         trained item, and a new item's token would have no trained embedding; serve a model \
         trained with digit (`random`) or `semantic` identifiers to add items"
    )]
    Unsupported,
    /// A `semantic` item needs its code, or an item to take it from.
    #[error(
        "`semantic` identifiers are codes of item features that are not recomputed at run \
         time: give the new item's `identifier`, or `like`, an existing item whose code \
         levels it shares"
    )]
    IdentifierRequired,
    /// `like` was given for identifiers that carry no meaning.
    #[error("`like` is for `semantic` identifiers; this dataset uses `{0}`")]
    LikeUnsupported(IdScheme),
    /// No separating code is left for items like `like`.
    #[error("every separating code below {limit} is taken among items like `{like}`")]
    Full {
        /// The item whose levels were asked for.
        like: String,
        /// The number of separating codes tried.
        limit: usize,
    },
}

/// Separating codes tried for a `like` item (the tokenizer knows only the
/// codes in use when it was trained; the model's side checks that).
const MAX_SEPARATOR: usize = 4096;

impl Dataset {
    /// Appends `item` to the catalogue and returns its index.
    pub fn add_item(&mut self, item: NewItem) -> Result<ItemIdx, NewItemError> {
        let raw_id = item.raw_id.trim().to_owned();
        if raw_id.is_empty() {
            return Err(NewItemError::EmptyId);
        }
        if self.item_by_raw_id(&raw_id).is_some() {
            return Err(NewItemError::Exists(raw_id));
        }
        let identifier = self.new_identifier(&item)?;
        if let Some(owner) = self.items.iter().find(|i| i.identifier == identifier) {
            return Err(NewItemError::IdentifierTaken {
                identifier,
                owner: owner.raw_id.clone(),
            });
        }
        let index = ItemIdx(self.items.len() as u32);
        self.added.insert(raw_id.clone(), index);
        self.items.push(Item {
            raw_id,
            identifier,
            meta: item.meta,
        });
        Ok(index)
    }

    /// Items appended by [`Dataset::add_item`].
    pub fn num_added_items(&self) -> usize {
        self.added.len()
    }

    fn new_identifier(&self, item: &NewItem) -> Result<String, NewItemError> {
        let scheme = self.config.id_scheme;
        let bad = |identifier: &str, reason: String| NewItemError::BadIdentifier {
            identifier: identifier.to_owned(),
            scheme,
            reason,
        };
        match scheme {
            IdScheme::Atomic => Err(NewItemError::Unsupported),
            IdScheme::Random | IdScheme::SequentialTrain | IdScheme::Sequential => {
                if item.like.is_some() {
                    return Err(NewItemError::LikeUnsupported(scheme));
                }
                match &item.identifier {
                    Some(id) => {
                        let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
                        if !digits || id.starts_with('0') {
                            return Err(bad(id, "write a number without leading zeros".into()));
                        }
                        Ok(id.clone())
                    }
                    None => {
                        let top = self
                            .items
                            .iter()
                            .filter_map(|i| i.identifier.parse::<u64>().ok())
                            .max()
                            .unwrap_or(0);
                        Ok((top + 1).to_string())
                    }
                }
            }
            IdScheme::Semantic => {
                let width = self
                    .items
                    .first()
                    .map_or(0, |i| codes::tokens(&i.identifier).count());
                match (&item.identifier, item.like) {
                    (Some(id), _) => {
                        let parsed: Vec<_> = codes::tokens(id).map(codes::parse_token).collect();
                        let in_order = parsed.iter().enumerate().all(|(level, token)| {
                            token.is_some_and(|(letter, _)| letter == codes::letter(level))
                        });
                        if parsed.len() != width || !in_order {
                            let example: String =
                                (0..width).map(|level| codes::token(level, 0)).collect();
                            return Err(bad(
                                id,
                                format!(
                                    "write {width} code tokens, one per level, like `{example}`"
                                ),
                            ));
                        }
                        Ok(id.clone())
                    }
                    (None, Some(like)) => {
                        let model = self.items.get(like.index()).ok_or_else(|| {
                            bad("", format!("`like` item index {} is unknown", like.0))
                        })?;
                        let prefix: String = codes::tokens(&model.identifier)
                            .take(width.saturating_sub(1))
                            .collect();
                        (0..MAX_SEPARATOR)
                            .map(|code| {
                                format!("{prefix}{}", codes::token(width.saturating_sub(1), code))
                            })
                            .find(|id| self.items.iter().all(|i| &i.identifier != id))
                            .ok_or_else(|| NewItemError::Full {
                                like: model.raw_id.clone(),
                                limit: MAX_SEPARATOR,
                            })
                    }
                    (None, None) => Err(NewItemError::IdentifierRequired),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticConfig;
    use crate::{DatasetSpec, LoadOptions, PrepareConfig, SemanticConfig};

    fn shop(scheme: IdScheme) -> Dataset {
        let spec = DatasetSpec::Synthetic(SyntheticConfig {
            seed: 5,
            users: 120,
        });
        let config = PrepareConfig {
            id_scheme: scheme,
            semantic: SemanticConfig {
                codebook: 8,
                ..SemanticConfig::default()
            },
            ..PrepareConfig::default()
        };
        crate::load(&spec, &config, &LoadOptions::default())
            .unwrap()
            .dataset
    }

    fn titled(raw_id: &str) -> NewItem {
        NewItem {
            raw_id: raw_id.into(),
            meta: ItemMetadata {
                title: Some("A lamp nobody has bought yet".into()),
                ..ItemMetadata::default()
            },
            ..NewItem::default()
        }
    }

    #[test]
    fn digit_items_are_appended_with_the_next_number_and_found_by_id() {
        let mut data = shop(IdScheme::Random);
        let before = data.clone();
        let n = data.num_items();
        let top: u64 = (0..n)
            .map(|i| data.item(ItemIdx(i as u32)).identifier.parse().unwrap())
            .max()
            .unwrap();
        let added = data.add_item(titled("NEW-1")).unwrap();
        assert_eq!(added, ItemIdx(n as u32));
        assert_eq!(data.item(added).identifier, (top + 1).to_string());
        assert_eq!(
            data.item(added).title(),
            Some("A lamp nobody has bought yet")
        );
        assert_eq!(data.item_by_raw_id("NEW-1"), Some(added));
        // Existing items keep their indices, and are still found.
        for i in 0..n {
            let item = before.item(ItemIdx(i as u32));
            assert_eq!(data.item(ItemIdx(i as u32)), item);
            assert_eq!(data.item_by_raw_id(&item.raw_id), Some(ItemIdx(i as u32)));
        }
        let chosen = NewItem {
            identifier: Some("99999".into()),
            ..titled("NEW-2")
        };
        assert_eq!(data.add_item(chosen).unwrap(), ItemIdx(n as u32 + 1));
        assert_eq!(data.num_added_items(), 2);
        assert_eq!(data.num_items(), n + 2);
    }

    #[test]
    fn bad_new_items_are_refused_and_change_nothing() {
        let mut data = shop(IdScheme::Random);
        let existing = data.item(ItemIdx(4)).clone();
        let before = data.clone();
        let cases = [
            (titled("  "), NewItemError::EmptyId),
            (
                titled(&existing.raw_id),
                NewItemError::Exists(existing.raw_id.clone()),
            ),
            (
                NewItem {
                    identifier: Some(existing.identifier.clone()),
                    ..titled("NEW")
                },
                NewItemError::IdentifierTaken {
                    identifier: existing.identifier.clone(),
                    owner: existing.raw_id.clone(),
                },
            ),
            (
                NewItem {
                    like: Some(ItemIdx(0)),
                    ..titled("NEW")
                },
                NewItemError::LikeUnsupported(IdScheme::Random),
            ),
        ];
        for (item, error) in cases {
            assert_eq!(data.add_item(item), Err(error));
        }
        for identifier in ["", "12a", "007", "<a_1>"] {
            let item = NewItem {
                identifier: Some(identifier.into()),
                ..titled("NEW")
            };
            let error = data.add_item(item).unwrap_err();
            assert!(
                matches!(error, NewItemError::BadIdentifier { .. }),
                "{identifier}: {error}"
            );
        }
        assert_eq!(data, before);
        let mut atomic = shop(IdScheme::Atomic);
        assert_eq!(
            atomic.add_item(titled("NEW")),
            Err(NewItemError::Unsupported)
        );
    }

    #[test]
    fn semantic_items_take_a_given_code_or_a_like_items_levels() {
        let mut data = shop(IdScheme::Semantic);
        assert_eq!(
            data.add_item(titled("NEW")),
            Err(NewItemError::IdentifierRequired)
        );
        let like = data.item(ItemIdx(7)).identifier.clone();
        let levels: Vec<&str> = codes::tokens(&like).collect();
        let added = data
            .add_item(NewItem {
                like: Some(ItemIdx(7)),
                ..titled("NEW")
            })
            .unwrap();
        let code = data.item(added).identifier.clone();
        let new_levels: Vec<&str> = codes::tokens(&code).collect();
        assert_eq!(new_levels.len(), levels.len());
        assert_eq!(new_levels[..levels.len() - 1], levels[..levels.len() - 1]);
        assert_ne!(code, like);
        let width = levels.len();
        for bad in ["<a_1><b_2>", "<b_1><a_2><c_3><d_4>", "12"] {
            let item = NewItem {
                identifier: Some(bad.into()),
                ..titled("OTHER")
            };
            assert!(
                matches!(data.add_item(item), Err(NewItemError::BadIdentifier { .. })),
                "{bad} (levels {width})"
            );
        }
    }
}
