//! Candidate ranking: a history and candidates → the chosen item.
//!
//! Candidates are the target plus uniform negatives the user never
//! interacted with, shuffled. Validation and test lists come from
//! [`recalign_data::candidates::candidates_for`], the seeded lists every
//! model is ranked on.
//!
//! How candidates read: up to 20 (by default), with their titles like
//! history items, joined by `; `. Beyond that, by identifier alone, joined
//! by `, ` (`8121, 302, 5570`): 100 titled candidates take about 2,500 T5
//! tokens, five times a 512-token input, and even `ID: 8121; ` costs two
//! tokens more per candidate than the bare number. Measured on Beauty with
//! 100 candidates: the candidate list is about 600 characters.

use rand::seq::SliceRandom;
use recalign_data::candidates::candidates_for;
use recalign_data::{Event, ItemIdx, Split};

use super::{Out, against_negatives};
use crate::config::{CandidateTitles, Style};
use crate::render::{join, separator};
use crate::templates::{Slot, Template};
use crate::{Sample, Task, UserContext};

pub(super) fn generate<'d>(mut ctx: UserContext<'_, 'd>, out: &mut Out<'_, 'd>) {
    let size = ctx.config().ranking.candidates;
    if ctx.split == Split::Train {
        against_negatives(ctx, out, size - 1, |ctx, history, target, negatives| {
            let mut candidates = vec![target.item];
            candidates.extend(negatives);
            candidates.shuffle(&mut ctx.rng);
            sample(ctx, history, target, &candidates)
        });
    } else if let Some(held) = ctx.dataset().held_out(ctx.user, ctx.split) {
        let seed = ctx.config().seed;
        let candidates = candidates_for(ctx.dataset(), ctx.user, ctx.split, size, seed)
            .filter(|candidates| candidates.len() > 1);
        out.push(candidates.map(|c| sample(&mut ctx, held.history, held.target, &c)));
    }
}

fn sample<'d>(
    ctx: &mut UserContext<'_, 'd>,
    history: &[Event],
    target: Event,
    candidates: &[ItemIdx],
) -> Sample<'d> {
    let template = ctx.template(Task::Ranking);
    let input = prompt(ctx, template, history, candidates);
    let mut answer = String::new();
    template.target.render(&mut answer, |_, out| {
        out.push_str(ctx.texts().id(target.item))
    });
    ctx.sample(template, input, answer, vec![ctx.raw_id(target.item)])
}

/// The input of a ranking sample with `history` and `candidates`.
pub(crate) fn prompt(
    ctx: &UserContext<'_, '_>,
    template: &Template,
    history: &[Event],
    candidates: &[ItemIdx],
) -> String {
    let style = ctx.style();
    let user = ctx.p5_user();
    let texts = ctx.texts();
    let titles = match ctx.config().ranking.candidate_titles {
        CandidateTitles::Always => true,
        CandidateTitles::Never => false,
        CandidateTitles::Auto => candidates.len() <= 20,
    };
    let sep = separator(style);
    let mut listed = String::with_capacity(candidates.len() * if titles { 64 } else { 8 });
    if titles {
        join(&mut listed, candidates, sep, |&c, o| {
            o.push_str(texts.full(c, style))
        });
    } else {
        let ids = if style == Style::P5 { sep } else { ", " };
        join(&mut listed, candidates, ids, |&c, o| {
            o.push_str(texts.id(c))
        });
    }
    let fixed = template.input.literal_len() + user.len() + listed.len();
    let window = ctx.window(history, fixed, |e| texts.full(e.item, style).len());
    let mut input = String::with_capacity(fixed + window.len() * 64);
    template.input.render(&mut input, |slot, out| match slot {
        Slot::History => join(out, window, sep, |e, o| {
            o.push_str(texts.full(e.item, style))
        }),
        Slot::Candidates => out.push_str(&listed),
        Slot::User => out.push_str(&user),
        _ => {}
    });
    input
}
