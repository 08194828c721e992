//! Integration tests of recalign-eval, one module per topic.

mod fixture;
mod popularity;
mod protocol;
mod report;
mod util;
