//! Integration tests of recalign-samples on the embedded shop.

mod leakage;
mod output;
mod tasks;
mod util;
