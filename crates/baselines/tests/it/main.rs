//! Integration tests of the baselines on the embedded synthetic shop.

mod models;
mod util;
