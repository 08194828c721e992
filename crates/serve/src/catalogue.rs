//! The catalogue as the HTTP side sees it: item ids resolved to indices and
//! described with their titles, read from the dataset the inference thread
//! publishes (again after each item it adds), without touching the model
//! it owns.

use std::sync::{Arc, PoisonError, RwLock};

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

/// Where the inference thread publishes the catalogue it answers from.
/// Items are only ever appended, so an index resolved from an older
/// catalogue means the same item in every later one.
#[derive(Debug, Clone)]
pub struct Shelf(Arc<RwLock<Arc<Dataset>>>);

impl Shelf {
    /// A shelf holding `dataset`.
    pub fn new(dataset: Arc<Dataset>) -> Self {
        Self(Arc::new(RwLock::new(dataset)))
    }

    /// The catalogue as last published.
    pub fn load(&self) -> Arc<Dataset> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the catalogue (readers holding the old one keep it).
    pub fn publish(&self, dataset: Arc<Dataset>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = dataset;
    }
}

/// The items of the served dataset.
#[derive(Debug, Clone)]
pub struct Catalogue {
    shelf: Shelf,
    rates: bool,
}

impl Catalogue {
    /// The catalogue on `shelf`; `rates` says whether the model learnt to
    /// predict ratings.
    pub fn new(shelf: Shelf, rates: bool) -> Self {
        Self { shelf, rates }
    }

    /// The catalogue as it is now; it does not change under the caller.
    pub fn view(&self) -> View {
        View(self.shelf.load())
    }

    /// Number of items now.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the model learnt to predict ratings.
    pub fn rates(&self) -> bool {
        self.rates
    }
}

/// The catalogue at one moment.
#[derive(Debug, Clone)]
pub struct View(Arc<Dataset>);

impl View {
    /// The dataset's name.
    pub fn dataset(&self) -> &str {
        &self.0.name
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.num_items()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item at `item`.
    pub fn item(&self, item: ItemIdx) -> ItemInfo<'_> {
        self.0.item(item).into()
    }

    /// The item with id `id`, if any.
    pub fn find(&self, id: &str) -> Option<ItemIdx> {
        self.0.item_by_raw_id(id)
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
