//! Rating prediction: a history with ratings and an item → its rating.
//!
//! Only for datasets with ratings (the shared Amazon files have none yet;
//! the embedded shop and McAuley's originals do). History items show their
//! rating where it is known; a target whose rating is unknown is skipped.

use recalign_data::{Event, ItemIdx};

use super::{Out, prefixes};
use crate::config::Style;
use crate::render::{join, rating_text, separator};
use crate::templates::{Slot, Template};
use crate::{Sample, Task, UserContext};

pub(super) fn generate<'d>(ctx: UserContext<'_, 'd>, out: &mut Out<'_, 'd>) {
    let known = |e: &Event| e.rating().is_some();
    prefixes(ctx, out, known, |ctx, history, target| {
        Some(sample(ctx, history, target))
    });
}

/// `ID: x, title: t, rating: 4` (the rating only where known).
fn rated(out: &mut String, text: &str, e: &Event) {
    out.push_str(text);
    if let Some(r) = e.rating() {
        out.push_str(", rating: ");
        out.push_str(&rating_text(r, Style::Informative));
    }
}

fn sample<'d>(ctx: &mut UserContext<'_, 'd>, history: &[Event], target: Event) -> Sample<'d> {
    let template = ctx.template(Task::Rating);
    let input = prompt(ctx, template, history, target.item);
    let mut answer = String::new();
    let rating = target.rating().unwrap_or_default();
    template.target.render(&mut answer, |_, out| {
        out.push_str(&rating_text(rating, ctx.style()))
    });
    ctx.sample(template, input, answer, Vec::new())
}

/// The input of a rating sample asking about `item` after `history`.
pub(crate) fn prompt(
    ctx: &UserContext<'_, '_>,
    template: &Template,
    history: &[Event],
    item: ItemIdx,
) -> String {
    let style = ctx.style();
    let user = ctx.p5_user();
    let texts = ctx.texts();
    let item = match style {
        Style::Informative => texts.full(item, style).to_string(),
        Style::P5 => format!("item_{}", texts.id(item)),
    };
    let fixed = template.input.literal_len() + user.len() + item.len();
    let window = ctx.window(history, fixed, |e| texts.full(e.item, style).len() + 11);
    let mut input = String::with_capacity(fixed + window.len() * 72);
    template.input.render(&mut input, |slot, out| match slot {
        Slot::History => join(out, window, separator(style), |e, o| {
            rated(o, texts.full(e.item, style), e);
        }),
        Slot::Item => out.push_str(&item),
        Slot::User => out.push_str(&user),
        _ => {}
    });
    input
}
