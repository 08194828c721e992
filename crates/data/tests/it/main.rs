//! Integration tests of recalign-data, one module per topic.

mod amazon;
mod cache;
mod candidates;
mod codes;
mod formats;
mod fuzz;
mod split;
mod synthetic;
mod util;
