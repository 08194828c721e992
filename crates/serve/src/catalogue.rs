//! The catalogue as the HTTP side sees it: item ids resolved to indices and
//! described with their titles, without touching the model, which the
//! inference thread owns.

use std::collections::HashMap;

use recalign_data::{Dataset, ItemIdx};
use serde::Serialize;

use crate::api::ApiError;

/// One item, as `GET /v1/items/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemInfo {
    /// The id in the dataset's files (an ASIN for Amazon data).
    pub id: String,
    /// The identifier the model reads and writes.
    pub identifier: String,
    /// Title, where known.
    pub title: Option<String>,
    /// Brand, where known.
    pub brand: Option<String>,
    /// Category paths, most general first.
    pub categories: Vec<Vec<String>>,
}

/// The items of the served dataset.
#[derive(Debug, Clone)]
pub struct Catalogue {
    dataset: String,
    items: Vec<ItemInfo>,
    by_id: HashMap<String, ItemIdx>,
    rates: bool,
}

impl Catalogue {
    /// The catalogue of `dataset`; `rates` says whether the model learnt to
    /// predict ratings.
    pub fn new(dataset: &Dataset, rates: bool) -> Self {
        let items: Vec<ItemInfo> = dataset
            .items()
            .iter()
            .map(|item| ItemInfo {
                id: item.raw_id.clone(),
                identifier: item.identifier.clone(),
                title: item.meta.title.clone(),
                brand: item.meta.brand.clone(),
                categories: item.meta.categories.clone(),
            })
            .collect();
        let by_id = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.id.clone(), ItemIdx(i as u32)))
            .collect();
        Self {
            dataset: dataset.name.clone(),
            items,
            by_id,
            rates,
        }
    }

    /// The dataset's name.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether the model learnt to predict ratings.
    pub fn rates(&self) -> bool {
        self.rates
    }

    /// The item at `item`.
    pub fn item(&self, item: ItemIdx) -> &ItemInfo {
        &self.items[item.index()]
    }

    /// The item with id `id`, if any.
    pub fn find(&self, id: &str) -> Option<ItemIdx> {
        self.by_id.get(id).copied()
    }

    /// The item with id `id`, or a 422 naming `field`.
    pub fn resolve(&self, id: &str, field: &str) -> Result<ItemIdx, ApiError> {
        self.find(id).ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_item",
                format!("no item `{id}` in {}", self.dataset),
                field,
            )
        })
    }
}
