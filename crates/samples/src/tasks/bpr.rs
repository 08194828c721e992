//! Bayesian personalized ranking as a choice: a history and two items, the
//! user's next purchase and a uniformly drawn item the user never
//! interacted with, in random order → the purchase, as `(B) ID: 1947`.

use recalign_data::Split;
use recalign_data::candidates::{sample_negatives, user_items};

use crate::config::Style;
use crate::render::{join, separator};
use crate::templates::Slot;
use crate::{Sample, Task, UserContext};

pub(super) fn generate<'d>(
    mut ctx: UserContext<'_, 'd>,
    emit: &mut dyn FnMut(Sample<'d>),
    skipped: &mut dyn FnMut(Task),
) {
    if ctx.split != Split::Train {
        return;
    }
    let train = ctx.train();
    let excluded = user_items(ctx.dataset(), ctx.user);
    let positions = ctx.positions(ctx.config().bpr.per_user, |_| true);
    if positions.is_empty() {
        skipped(Task::Bpr);
    }
    for t in positions {
        let positive = train[t].item;
        let mut negative = Vec::with_capacity(1);
        let n = ctx.dataset().num_items();
        if sample_negatives(&mut ctx.rng, n, &excluded, 1, &mut negative) == 0 {
            skipped(Task::Bpr);
            continue;
        }
        let positive_first = rand::Rng::random::<bool>(&mut ctx.rng);
        let (a, b) = if positive_first {
            (positive, negative[0])
        } else {
            (negative[0], positive)
        };
        let template = ctx.template(Task::Bpr);
        let texts = ctx.texts();
        let style = Style::Informative;
        let fixed =
            template.input.literal_len() + texts.full(a, style).len() + texts.full(b, style).len();
        let window = ctx.window(&train[..t], fixed, |e| texts.full(e.item, style).len());
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
        emit(ctx.sample(template, input, answer, vec![ctx.raw_id(positive)]));
    }
}
