//! How items and histories read as text.
//!
//! | style | item in a history | item as an answer |
//! |---|---|---|
//! | informative | `ID: 8121, title: Neutrogena Oil-Free Acne Wash` (`ID: 8121` when the title is unknown) | `8121` |
//! | P5 | `8121` | `8121` |
//!
//! Items are joined by `; ` (P5: ` , `), oldest first. Each item's text is
//! rendered once per dataset, so a sample is mostly copying.
//!
//! The input budget (`max_input_chars`) is met by dropping the oldest
//! history items, never by cutting an item in half; at least one item is
//! always kept.

use recalign_data::{Dataset, Event, ItemIdx};

use crate::config::Style;

/// The texts of every catalogue item, rendered once.
#[derive(Debug)]
pub struct ItemTexts {
    /// `ID: x, title: t`, or `ID: x` when the title is unknown.
    full: Vec<String>,
    /// `ID: x`.
    bare: Vec<String>,
    /// The identifier alone.
    id: Vec<String>,
    /// The title, if known.
    title: Vec<Option<String>>,
    /// Items shown without a title because none is known.
    pub untitled: usize,
}

impl ItemTexts {
    /// Renders every item of `dataset`.
    pub fn new(dataset: &Dataset) -> Self {
        let items = dataset.items();
        let mut texts = ItemTexts {
            full: Vec::with_capacity(items.len()),
            bare: Vec::with_capacity(items.len()),
            id: Vec::with_capacity(items.len()),
            title: Vec::with_capacity(items.len()),
            untitled: 0,
        };
        for item in items {
            let id = &item.identifier;
            texts.full.push(match item.title() {
                Some(title) => format!("ID: {id}, title: {title}"),
                None => format!("ID: {id}"),
            });
            texts.bare.push(format!("ID: {id}"));
            texts.id.push(id.clone());
            texts.title.push(item.title().map(str::to_string));
            texts.untitled += usize::from(item.title().is_none());
        }
        texts
    }

    /// The item as a history entry: with its title (informative) or its
    /// identifier (P5).
    pub fn full(&self, item: ItemIdx, style: Style) -> &str {
        match style {
            Style::Informative => &self.full[item.index()],
            Style::P5 => &self.id[item.index()],
        }
    }

    /// The item without its title (`ID: x`; P5: the identifier).
    pub fn bare(&self, item: ItemIdx, style: Style) -> &str {
        match style {
            Style::Informative => &self.bare[item.index()],
            Style::P5 => &self.id[item.index()],
        }
    }

    /// The identifier.
    pub fn id(&self, item: ItemIdx) -> &str {
        &self.id[item.index()]
    }

    /// The title, if known.
    pub fn title(&self, item: ItemIdx) -> Option<&str> {
        self.title[item.index()].as_deref()
    }
}

/// The separator between history items.
pub fn separator(style: Style) -> &'static str {
    match style {
        Style::Informative => "; ",
        Style::P5 => " , ",
    }
}

/// How many of the most recent `history` items fit in `available` bytes
/// when each takes `len(item)` and items are separated by `sep` bytes; at
/// least one when `history` is not empty.
pub fn fitting(
    history: &[Event],
    available: usize,
    sep: usize,
    len: impl Fn(&Event) -> usize,
) -> usize {
    let mut used = 0;
    let mut count = 0;
    for e in history.iter().rev() {
        let add = len(e) + if count > 0 { sep } else { 0 };
        if count > 0 && used + add > available {
            break;
        }
        used += add;
        count += 1;
    }
    count
}

/// Appends `items`, joined by `sep`, each rendered by `item`.
pub fn join<T>(out: &mut String, items: &[T], sep: &str, mut item: impl FnMut(&T, &mut String)) {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        item(x, out);
    }
}

/// A rating as the samples write it: `4`, `4.5` (P5: `4.0`).
pub fn rating_text(rating: f32, style: Style) -> String {
    match style {
        Style::P5 => format!("{rating:.1}"),
        Style::Informative if rating.fract() == 0.0 => format!("{rating:.0}"),
        Style::Informative => format!("{rating}"),
    }
}

/// T5 has 100 sentinels, `<extra_id_0>` … `<extra_id_99>`.
pub const SENTINELS: usize = 100;

/// Length of the longest sentinel, `<extra_id_99>`.
pub const SENTINEL_LEN: usize = 13;

/// T5's `i`-th sentinel token, `<extra_id_i>`.
pub fn sentinel(out: &mut String, i: usize) {
    out.push_str("<extra_id_");
    out.push_str(&i.to_string());
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;
    use recalign_data::ItemIdx;

    fn events(n: u32) -> Vec<Event> {
        (0..n).map(|i| Event::new(ItemIdx(i), None, None)).collect()
    }

    #[test]
    fn fitting_keeps_the_most_recent_items_and_at_least_one() {
        let h = events(5);
        // Each item 10 bytes, separator 2.
        assert_eq!(fitting(&h, 100, 2, |_| 10), 5);
        assert_eq!(fitting(&h, 34, 2, |_| 10), 3);
        assert_eq!(fitting(&h, 33, 2, |_| 10), 2);
        assert_eq!(fitting(&h, 0, 2, |_| 10), 1);
        assert_eq!(fitting(&[], 100, 2, |_| 10), 0);
    }

    #[test]
    fn ratings_and_sentinels_read_as_documented() {
        assert_eq!(rating_text(5.0, Style::Informative), "5");
        assert_eq!(rating_text(4.5, Style::Informative), "4.5");
        assert_eq!(rating_text(5.0, Style::P5), "5.0");
        let mut s = String::new();
        sentinel(&mut s, 12);
        assert_eq!(s, "<extra_id_12>");
    }
}
