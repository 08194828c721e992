//! Next-item retrieval: a history → the next item's identifier.

use recalign_data::{Event, ItemIdx};

use super::{Out, prefixes};
use crate::render::{join, separator};
use crate::templates::{Slot, Template};
use crate::{Sample, Task, UserContext};

pub(super) fn generate<'d>(ctx: UserContext<'_, 'd>, out: &mut Out<'_, 'd>) {
    prefixes(
        ctx,
        out,
        |_| true,
        |ctx, history, target| Some(sample(ctx, history, target)),
    );
}

fn sample<'d>(ctx: &mut UserContext<'_, 'd>, history: &[Event], target: Event) -> Sample<'d> {
    let template = ctx.template(Task::Retrieval);
    let input = prompt(ctx, template, history);
    let mut answer = String::new();
    template.target.render(&mut answer, |_, out| {
        out.push_str(&item_answer(ctx, target.item))
    });
    ctx.sample(template, input, answer, vec![ctx.raw_id(target.item)])
}

/// The input of a retrieval sample with `history`.
pub(crate) fn prompt(ctx: &UserContext<'_, '_>, template: &Template, history: &[Event]) -> String {
    let style = ctx.style();
    let user = ctx.p5_user();
    let texts = ctx.texts();
    let fixed = template.input.literal_len() + user.len();
    let window = ctx.window(history, fixed, |e| texts.full(e.item, style).len());
    let mut input = String::with_capacity(fixed + window.len() * 64);
    template.input.render(&mut input, |slot, out| match slot {
        Slot::History => join(out, window, separator(style), |e, o| {
            o.push_str(texts.full(e.item, style));
        }),
        Slot::User => out.push_str(&user),
        _ => {}
    });
    input
}

/// How the model names `item` as a retrieval answer.
pub(crate) fn item_answer(ctx: &UserContext<'_, '_>, item: ItemIdx) -> String {
    if ctx.config().retrieval.target_titles {
        ctx.texts().full(item, ctx.style()).to_string()
    } else {
        ctx.texts().id(item).to_string()
    }
}
