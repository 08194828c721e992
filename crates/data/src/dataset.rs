//! The prepared dataset: users, the item catalogue, each user's chronological
//! sequence, and the leave-one-out split over it.
//!
//! The split is not stored as three copies: it is a view over each user's
//! sequence `s` of length `n ≥ 3`:
//!
//! | split | history (model input) | target |
//! |---|---|---|
//! | train | `s[..n-2]` (targets inside it) | — |
//! | valid | `s[..n-2]` | `s[n-2]` |
//! | test | `s[..n-1]` (includes the validation item) | `s[n-1]` |
//!
//! So no training sequence ever contains its user's validation or test
//! interaction, by construction. [`Dataset::recent`] truncates a history to
//! the configured maximum length, keeping the most recent items.

use serde::{Deserialize, Serialize};

use crate::ids::IdScheme;
use crate::prepare::{PrepareConfig, PrepareReport};
use crate::source::{Feedback, ItemMetadata};

/// Dense index of a user in a [`Dataset`] (users are sorted by raw id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UserIdx(pub u32);

/// Dense index of an item in a [`Dataset`] (items are sorted by raw id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemIdx(pub u32);

impl UserIdx {
    /// As a `usize` for indexing.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl ItemIdx {
    /// As a `usize` for indexing.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One interaction of a user's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The item.
    pub item: ItemIdx,
    /// Its rating and time.
    pub feedback: Feedback,
}

impl Event {
    /// An event (see [`Feedback::new`]).
    pub fn new(item: ItemIdx, rating: Option<f32>, timestamp: Option<i64>) -> Self {
        Event {
            item,
            feedback: Feedback::new(rating, timestamp),
        }
    }

    /// The rating, if the source has one.
    pub fn rating(&self) -> Option<f32> {
        self.feedback.rating()
    }

    /// Unix seconds, if the source has them.
    pub fn timestamp(&self) -> Option<i64> {
        self.feedback.timestamp()
    }
}

/// An item of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The id in the source files (an ASIN for Amazon data).
    pub raw_id: String,
    /// The identifier the language model reads and writes (see
    /// [`crate::ids::IdScheme`]).
    pub identifier: String,
    /// Title, brand, categories, price, description, where known; text is
    /// HTML-unescaped and whitespace-normalised.
    pub meta: ItemMetadata,
}

impl Item {
    /// The title, if known.
    pub fn title(&self) -> Option<&str> {
        self.meta.title.as_deref()
    }
}

/// Which part of the leave-one-out split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Everything before the last two interactions.
    Train,
    /// The second-last interaction, predicted from the training prefix.
    Valid,
    /// The last interaction, predicted from everything before it.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        })
    }
}

impl std::str::FromStr for Split {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "train" => Ok(Split::Train),
            "valid" | "validation" => Ok(Split::Valid),
            "test" => Ok(Split::Test),
            other => Err(format!("unknown split `{other}` (train, valid, test)")),
        }
    }
}

/// A held-out interaction with the history that may be used to predict it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOut<'a> {
    /// The user.
    pub user: UserIdx,
    /// Every earlier interaction, oldest first (not truncated).
    pub history: &'a [Event],
    /// The interaction to predict.
    pub target: Event,
}

/// A dataset after filtering, ordering, splitting and item identification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Short name (`beauty`, `synthetic`, or the file's stem).
    pub name: String,
    /// The configuration it was prepared with.
    pub config: PrepareConfig,
    /// What preparation did and found.
    pub report: PrepareReport,
    pub(crate) users: Vec<String>,
    pub(crate) items: Vec<Item>,
    /// CSR offsets into `events`, one more than there are users.
    pub(crate) offsets: Vec<u32>,
    pub(crate) events: Vec<Event>,
    /// Items appended after preparation ([`crate::new_items`]), by raw id:
    /// they follow the sorted catalogue, so binary search does not find
    /// them. In memory only.
    #[serde(skip)]
    pub(crate) added: std::collections::BTreeMap<String, ItemIdx>,
}

impl Dataset {
    /// Number of users.
    pub fn num_users(&self) -> usize {
        self.users.len()
    }

    /// Number of items in the catalogue.
    pub fn num_items(&self) -> usize {
        self.items.len()
    }

    /// Number of interactions.
    pub fn num_interactions(&self) -> usize {
        self.events.len()
    }

    /// All users, in index order.
    pub fn users(&self) -> impl ExactSizeIterator<Item = UserIdx> + '_ {
        (0..self.users.len() as u32).map(UserIdx)
    }

    /// The raw id of `user` in the source files.
    pub fn user_id(&self, user: UserIdx) -> &str {
        &self.users[user.index()]
    }

    /// The catalogue, indexed by [`ItemIdx`].
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The tokens a tokenizer must keep whole: every item's identifier, in
    /// catalogue order, for `atomic`; every code token in use, by level and
    /// code, for `semantic`; none for digit identifiers.
    pub fn whole_tokens(&self) -> Vec<&str> {
        match self.config.id_scheme {
            IdScheme::Atomic => self.items.iter().map(|i| i.identifier.as_str()).collect(),
            IdScheme::Semantic => {
                let mut tokens = std::collections::BTreeMap::new();
                for item in &self.items {
                    for token in crate::codes::tokens(&item.identifier) {
                        tokens.insert(crate::codes::parse_token(token), token);
                    }
                }
                tokens.into_values().collect()
            }
            _ => Vec::new(),
        }
    }

    /// One item.
    pub fn item(&self, item: ItemIdx) -> &Item {
        &self.items[item.index()]
    }

    /// The item whose raw id is `raw_id` (binary search over the prepared
    /// catalogue, which is sorted, then the items added since).
    pub fn item_by_raw_id(&self, raw_id: &str) -> Option<ItemIdx> {
        let prepared = &self.items[..self.items.len() - self.added.len()];
        prepared
            .binary_search_by(|i| i.raw_id.as_str().cmp(raw_id))
            .ok()
            .map(|i| ItemIdx(i as u32))
            .or_else(|| self.added.get(raw_id).copied())
    }

    /// The user whose raw id is `raw_id`.
    pub fn user_by_raw_id(&self, raw_id: &str) -> Option<UserIdx> {
        self.users
            .binary_search_by(|u| u.as_str().cmp(raw_id))
            .ok()
            .map(|u| UserIdx(u as u32))
    }

    /// The user's whole chronological sequence (all splits).
    pub fn sequence(&self, user: UserIdx) -> &[Event] {
        let start = self.offsets[user.index()] as usize;
        let end = self.offsets[user.index() + 1] as usize;
        &self.events[start..end]
    }

    /// The user's training sequence: all but the last two interactions.
    pub fn train_sequence(&self, user: UserIdx) -> &[Event] {
        let seq = self.sequence(user);
        &seq[..seq.len() - 2]
    }

    /// The validation or test interaction of `user` with its history.
    /// `Split::Train` has no single held-out item and returns `None`.
    pub fn held_out(&self, user: UserIdx, split: Split) -> Option<HeldOut<'_>> {
        let seq = self.sequence(user);
        let n = seq.len();
        let at = match split {
            Split::Train => return None,
            Split::Valid => n - 2,
            Split::Test => n - 1,
        };
        Some(HeldOut {
            user,
            history: &seq[..at],
            target: seq[at],
        })
    }

    /// Every user's held-out interaction of `split`, in user order.
    pub fn held_out_all(&self, split: Split) -> impl Iterator<Item = HeldOut<'_>> + '_ {
        self.users().filter_map(move |u| self.held_out(u, split))
    }

    /// The most recent `config.max_history` events of `history`.
    pub fn recent<'a>(&self, history: &'a [Event]) -> &'a [Event] {
        &history[history.len().saturating_sub(self.config.max_history)..]
    }

    /// All events of all users, grouped by user in index order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}
