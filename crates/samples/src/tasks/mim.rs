//! Masked item modeling (BERT4Rec's cloze task in words): items of the
//! training sequence are replaced by `<extra_id_N>` → the masked items.
//!
//! `mask_ratio` of the shown items are masked (rounded, at least one, at
//! most `max_masked` when set), always leaving one unmasked; any position
//! may be masked, the last included, so next-item prediction is a special
//! case. The target lists each sentinel followed by its item:
//! `<extra_id_0> ID: 302, title: … <extra_id_1> ID: 1947, title: …`.

use crate::config::Style;
use crate::render::{SENTINEL_LEN, join, sentinel, separator};
use crate::templates::Slot;
use crate::{Sample, Task, UserContext};

/// One sample, or `None` when the window holds fewer than two items.
pub(super) fn sample<'d>(ctx: &mut UserContext<'_, 'd>) -> Option<Sample<'d>> {
    let template = ctx.template(Task::MaskedItemModeling);
    let texts = ctx.texts();
    let style = Style::Informative;
    // Each item counts at least as long as a sentinel, so masking never
    // pushes the input over the budget.
    let window = ctx.window(ctx.train(), template.input.literal_len(), |e| {
        texts.full(e.item, style).len().max(SENTINEL_LEN)
    });
    if window.len() < 2 {
        return None;
    }
    let config = &ctx.config().mim;
    let mut masked =
        ((window.len() as f64 * config.mask_ratio).round() as usize).clamp(1, window.len() - 1);
    if config.max_masked > 0 {
        masked = masked.min(config.max_masked);
    }
    let mut positions = rand::seq::index::sample(&mut ctx.rng, window.len(), masked).into_vec();
    positions.sort_unstable();
    let mut input = String::with_capacity(template.input.literal_len() + window.len() * 64);
    let mut next = 0;
    template.input.render(&mut input, |slot, out| {
        if slot == Slot::History {
            let indices: Vec<usize> = (0..window.len()).collect();
            join(out, &indices, separator(style), |&i, o| {
                if positions.get(next) == Some(&i) {
                    sentinel(o, next);
                    next += 1;
                } else {
                    o.push_str(texts.full(window[i].item, style));
                }
            });
        }
    });
    let mut answer = String::new();
    template.target.render(&mut answer, |_, out| {
        for (k, &i) in positions.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            sentinel(out, k);
            out.push(' ');
            out.push_str(texts.full(window[i].item, style));
        }
    });
    let items = positions
        .iter()
        .map(|&i| ctx.raw_id(window[i].item))
        .collect();
    Some(ctx.sample(template, input, answer, items))
}
