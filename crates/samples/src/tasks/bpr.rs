//! Bayesian personalized ranking as a choice: a history and two items, the
//! user's next purchase and a uniformly drawn item the user never
//! interacted with, in random order → the purchase, as `(B) ID: 1947`.

use super::{Out, against_negatives};
use crate::config::Style;
use crate::render::{join, separator};
use crate::templates::Slot;
use crate::{Task, UserContext};

pub(super) fn generate<'d>(ctx: UserContext<'_, 'd>, out: &mut Out<'_, 'd>) {
    against_negatives(ctx, out, 1, |ctx, history, target, negatives| {
        let (positive, negative) = (target.item, negatives[0]);
        let positive_first = rand::Rng::random::<bool>(&mut ctx.rng);
        let (a, b) = if positive_first {
            (positive, negative)
        } else {
            (negative, positive)
        };
        let template = ctx.template(Task::Bpr);
        let texts = ctx.texts();
        let style = Style::Informative;
        let fixed =
            template.input.literal_len() + texts.full(a, style).len() + texts.full(b, style).len();
        let window = ctx.window(history, fixed, |e| texts.full(e.item, style).len());
        let mut input = String::with_capacity(fixed + window.len() * 64);
        template.input.render(&mut input, |slot, out| match slot {
            Slot::History => join(out, window, separator(style), |e, o| {
                o.push_str(texts.full(e.item, style));
            }),
            Slot::OptionA => out.push_str(texts.full(a, style)),
            Slot::OptionB => out.push_str(texts.full(b, style)),
            _ => {}
        });
        let mut answer = String::new();
        template.target.render(&mut answer, |slot, out| match slot {
            Slot::Choice => out.push(if positive_first { 'A' } else { 'B' }),
            _ => out.push_str(texts.bare(positive, style)),
        });
        ctx.sample(template, input, answer, vec![ctx.raw_id(positive)])
    });
}
