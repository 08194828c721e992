//! One module per task; each turns one user's sequence into samples.
//!
//! Prefix tasks (retrieval, ranking, rating, BPR) train on positions `t` of
//! the training sequence: the history is `train[..t]` and the target
//! `train[t]`, so every training target is itself a training interaction.
//! Outside training they predict the held-out item from the history the
//! split allows. MIM and MLM rewrite the (most recent part of the) training
//! sequence and exist only for training.
//!
//! The drivers here hold what the tasks share: `prefixes` and
//! `training_prefixes` choose the positions, `against_negatives` draws
//! items the user never interacted with, `repeat` draws the user's count of
//! samples, and `Out` passes each sample on or reports it as skipped. The
//! auxiliary tasks (MIM, MLM, BPR) run only through `repeat` and
//! `against_negatives`, which read the training sequence alone; that they
//! run for the training split only is the caller's rule
//! ([`crate::Generator::tasks`]), so they never look at the split.

mod bpr;
mod mim;
mod mlm;
pub(crate) mod ranking;
pub(crate) mod rating;
pub(crate) mod retrieval;

use recalign_data::candidates::{sample_negatives, user_items};
use recalign_data::{Event, ItemIdx, Split};

use crate::{Sample, Task, UserContext};

/// Makes `task`'s samples for the user of `ctx`. Called only for the tasks
/// of [`crate::Generator::tasks`] of `ctx`'s split: auxiliary tasks for the
/// training split only.
pub(crate) fn generate<'d>(
    task: Task,
    ctx: UserContext<'_, 'd>,
    emit: &mut dyn FnMut(Sample<'d>),
    skipped: &mut dyn FnMut(Task),
) {
    let mut out = Out {
        task,
        emit,
        skipped,
    };
    match task {
        Task::Retrieval => retrieval::generate(ctx, &mut out),
        Task::Ranking => ranking::generate(ctx, &mut out),
        Task::Rating => rating::generate(ctx, &mut out),
        Task::MaskedItemModeling => repeat(ctx, &mut out, mim::sample),
        Task::MaskedLanguageModeling => repeat(ctx, &mut out, mlm::sample),
        Task::Bpr => bpr::generate(ctx, &mut out),
    }
}

/// Where one task's samples go: each sample made, and each one the task
/// could not make (history too short, no title words, no negatives left, …).
pub(crate) struct Out<'o, 'd> {
    task: Task,
    emit: &'o mut dyn FnMut(Sample<'d>),
    skipped: &'o mut dyn FnMut(Task),
}

impl<'d> Out<'_, 'd> {
    /// Passes `sample` on, or reports a skipped sample when there is none.
    fn push(&mut self, sample: Option<Sample<'d>>) {
        match sample {
            Some(sample) => (self.emit)(sample),
            None => self.skip(),
        }
    }

    /// Reports a sample the task could not make.
    fn skip(&mut self) {
        (self.skipped)(self.task);
    }
}

/// A prefix task's samples: on the training split as [`training_prefixes`];
/// on a held-out split one sample for the held-out item, when `usable`.
fn prefixes<'g, 'd>(
    mut ctx: UserContext<'g, 'd>,
    out: &mut Out<'_, 'd>,
    usable: impl Fn(&Event) -> bool,
    mut make: impl FnMut(&mut UserContext<'g, 'd>, &'d [Event], Event) -> Option<Sample<'d>>,
) {
    if ctx.split == Split::Train {
        training_prefixes(ctx, out, usable, make);
    } else if let Some(held) = ctx.dataset().held_out(ctx.user, ctx.split) {
        if usable(&held.target) {
            out.push(make(&mut ctx, held.history, held.target));
        } else {
            out.skip();
        }
    }
}

/// A prefix task's training samples: `make` at the chosen positions `t` of
/// the training sequence whose target is `usable` (history `train[..t]`,
/// target `train[t]`). A sequence without such positions, and a sample
/// `make` cannot build, is reported as skipped.
fn training_prefixes<'g, 'd>(
    mut ctx: UserContext<'g, 'd>,
    out: &mut Out<'_, 'd>,
    usable: impl Fn(&Event) -> bool,
    mut make: impl FnMut(&mut UserContext<'g, 'd>, &'d [Event], Event) -> Option<Sample<'d>>,
) {
    let train = ctx.train();
    let positions = ctx.positions(ctx.config().per_user(out.task), |t| usable(&train[t]));
    if positions.is_empty() {
        out.skip();
    }
    for t in positions {
        out.push(make(&mut ctx, &train[..t], train[t]));
    }
}

/// Training samples that set the target against `count` items the user
/// never interacted with, drawn uniformly (ranking, BPR): `make` gets the
/// history, the target and the drawn items. A position where none are left
/// to draw is skipped.
fn against_negatives<'g, 'd>(
    ctx: UserContext<'g, 'd>,
    out: &mut Out<'_, 'd>,
    count: usize,
    mut make: impl FnMut(&mut UserContext<'g, 'd>, &'d [Event], Event, Vec<ItemIdx>) -> Sample<'d>,
) {
    let excluded = user_items(ctx.dataset(), ctx.user);
    let n = ctx.dataset().num_items();
    training_prefixes(
        ctx,
        out,
        |_| true,
        |ctx, history, target| {
            let mut negatives = Vec::with_capacity(count);
            if sample_negatives(&mut ctx.rng, n, &excluded, count, &mut negatives) == 0 {
                return None;
            }
            Some(make(ctx, history, target, negatives))
        },
    );
}

/// The user's count of samples of a task that is not tied to positions
/// (MIM, MLM): each drawn afresh by `make` from the training sequence, or
/// reported as skipped when it cannot be made.
fn repeat<'g, 'd>(
    mut ctx: UserContext<'g, 'd>,
    out: &mut Out<'_, 'd>,
    mut make: impl FnMut(&mut UserContext<'g, 'd>) -> Option<Sample<'d>>,
) {
    let count = ctx.count(ctx.config().per_user(out.task), usize::MAX);
    for _ in 0..count {
        out.push(make(&mut ctx));
    }
}
