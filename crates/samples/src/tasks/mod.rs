//! One module per task; each turns one user's sequence into samples.
//!
//! Prefix tasks (retrieval, ranking, rating, BPR) train on positions `t` of
//! the training sequence: the history is `train[..t]` and the target
//! `train[t]`, so every training target is itself a training interaction.
//! Outside training they predict the held-out item from the history the
//! split allows. MIM and MLM rewrite the (most recent part of the) training
//! sequence and exist only for training.

mod bpr;
mod mim;
mod mlm;
pub(crate) mod ranking;
pub(crate) mod rating;
pub(crate) mod retrieval;

use crate::{Sample, Task, UserContext};

/// Makes `task`'s samples for the user of `ctx`.
pub(crate) fn generate<'d>(
    task: Task,
    ctx: UserContext<'_, 'd>,
    emit: &mut dyn FnMut(Sample<'d>),
    skipped: &mut dyn FnMut(Task),
) {
    match task {
        Task::Retrieval => retrieval::generate(ctx, emit, skipped),
        Task::Ranking => ranking::generate(ctx, emit, skipped),
        Task::Rating => rating::generate(ctx, emit, skipped),
        Task::MaskedItemModeling => mim::generate(ctx, emit, skipped),
        Task::MaskedLanguageModeling => mlm::generate(ctx, emit, skipped),
        Task::Bpr => bpr::generate(ctx, emit, skipped),
    }
}
