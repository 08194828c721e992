//! The catalogue as the HTTP side sees it: item ids resolved to indices and
//! described with their titles, read from the dataset the inference thread
//! shares, without touching the model it owns.

use std::sync::Arc;

use recalign_data::{Dataset, Item, ItemIdx};
use serde::Serialize;

use crate::api::ApiError;

/// One item, as `GET /v1/items/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemInfo<'a> {
    /// The id in the dataset's files (an ASIN for Amazon data).
    pub id: &'a str,
    /// The identifier the model reads and writes.
    pub identifier: &'a str,
    /// Title, where known.
    pub title: Option<&'a str>,
    /// Brand, where known.
    pub brand: Option<&'a str>,
    /// Category paths, most general first.
    pub categories: &'a [Vec<String>],
}

impl<'a> From<&'a Item> for ItemInfo<'a> {
    fn from(item: &'a Item) -> Self {
        Self {
            id: &item.raw_id,
            identifier: &item.identifier,
            title: item.title(),
            brand: item.meta.brand.as_deref(),
            categories: &item.meta.categories,
        }
    }
}

/// The items of the served dataset.
#[derive(Debug, Clone)]
pub struct Catalogue {
    dataset: Arc<Dataset>,
    rates: bool,
}

impl Catalogue {
    /// The catalogue of `dataset`; `rates` says whether the model learnt to
    /// predict ratings.
    pub fn new(dataset: Arc<Dataset>, rates: bool) -> Self {
        Self { dataset, rates }
    }

    /// The dataset's name.
    pub fn dataset(&self) -> &str {
        &self.dataset.name
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.dataset.num_items()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the model learnt to predict ratings.
    pub fn rates(&self) -> bool {
        self.rates
    }

    /// The item at `item`.
    pub fn item(&self, item: ItemIdx) -> ItemInfo<'_> {
        self.dataset.item(item).into()
    }

    /// The item with id `id`, if any.
    pub fn find(&self, id: &str) -> Option<ItemIdx> {
        self.dataset.item_by_raw_id(id)
    }

    /// The item with id `id`, or a 422 naming `field`.
    pub fn resolve(&self, id: &str, field: &str) -> Result<ItemIdx, ApiError> {
        self.find(id).ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_item",
                format!("no item `{id}` in {}", self.dataset()),
                field,
            )
        })
    }
}
