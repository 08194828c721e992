//! Integration tests of the `recalign` binary: each runs the real binary in
//! a temporary directory. Add new topics as modules here.

mod baseline;
mod commands;
mod download;
mod layout;
mod permissions;
mod run;
mod samples;
mod train;
mod util;
