//! Decoding a fine-tuned T5 into recommendations.
//!
//! - [`trie`]: the catalogue's item identifiers as the model writes them
//!   (token ids ending in `</s>`), in a prefix tree that gives the allowed
//!   next tokens for any prefix; memory and build time linear in the
//!   catalogue.
//! - [`beam`]: beam search that only ever extends a hypothesis along the
//!   trie, batched over users, returning each user's top-K distinct items
//!   with their log-probabilities. It cannot return an invalid item, whatever
//!   the model prefers. The model side is a [`beam::StepScorer`];
//!   [`beam::T5Scorer`] runs T5 with its KV cache.

pub mod beam;
pub mod trie;

pub use beam::{Hypothesis, StepScorer, T5Scorer, search};
pub use trie::{ItemTrie, TrieError};
