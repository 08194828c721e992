//! The `recalign` binary: parses arguments, sets up logging, and calls the
//! library crates. It holds no recommendation logic of its own.
//!
//! Exit codes: 0 success, 1 the command failed, 2 invalid command line
//! (clap's own code). Errors print as `error: …` with their causes, and a
//! `hint: …` line where the library has one.

mod args;
mod choices;
mod commands;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed pipe (`recalign stats | head`) is not a failure.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", message(&err));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes joined by `: `, leaving out a cause that the
/// message already ends with (an error that shows its source and also
/// returns it, as `path: No such file…` does, would otherwise say it twice).
fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn init_logging(global: &args::GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_env("RECALIGN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(recalign_runtime::IoError::new("hp.toml", io))
            .context("reading the hyper-parameters");
        assert_eq!(
            message(&err),
            "reading the hyper-parameters: hp.toml: no such file"
        );
        let plain = anyhow::anyhow!("outer").context("context");
        assert_eq!(message(&plain), "context: outer");
    }
}
