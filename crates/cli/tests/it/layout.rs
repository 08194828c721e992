//! The crate map: data flows one way (data → … → cli), so no library crate
//! may depend on a crate above it. This reads each crate's manifest.

use std::path::Path;

/// Each crate and the recalign crates it may depend on (`recalign-testkit`
/// only as a dev-dependency).
const ALLOWED: &[(&str, &[&str])] = &[
    ("runtime", &[]),
    ("data", &["recalign-runtime"]),
    ("fetch", &["recalign-runtime"]),
    ("testkit", &[]),
    ("samples", &["recalign-data", "recalign-runtime"]),
    ("eval", &["recalign-data", "recalign-runtime"]),
    ("baselines", &["recalign-data", "recalign-eval"]),
    ("tokenizer", &["recalign-runtime"]),
    ("t5", &["recalign-runtime"]),
    (
        "model-dir",
        &[
            "recalign-runtime",
            "recalign-samples",
            "recalign-t5",
            "recalign-tokenizer",
        ],
    ),
    (
        "train",
        &[
            "recalign-model-dir",
            "recalign-runtime",
            "recalign-t5",
            "recalign-tokenizer",
        ],
    ),
    ("decode", &["recalign-t5"]),
    (
        "recommend",
        &[
            "recalign-data",
            "recalign-decode",
            "recalign-eval",
            "recalign-model-dir",
            // The device chosen at run time, for its retrieval bench.
            "recalign-runtime",
            "recalign-samples",
            "recalign-t5",
            "recalign-tokenizer",
        ],
    ),
    (
        "serve",
        &[
            "recalign-data",
            "recalign-recommend",
            "recalign-runtime",
            "recalign-samples",
            // Its tests build a random model and tokenizer, and score
            // answers exactly.
            "recalign-decode",
            "recalign-t5",
            "recalign-tokenizer",
        ],
    ),
    ("report", &["recalign-runtime"]),
    (
        "experiment",
        &[
            "recalign-baselines",
            "recalign-data",
            "recalign-eval",
            "recalign-model-dir",
            "recalign-recommend",
            "recalign-report",
            "recalign-runtime",
            "recalign-samples",
            "recalign-t5",
            "recalign-train",
        ],
    ),
    (
        "cli",
        &[
            "recalign-baselines",
            "recalign-data",
            "recalign-eval",
            "recalign-experiment",
            "recalign-fetch",
            "recalign-recommend",
            "recalign-report",
            "recalign-runtime",
            "recalign-samples",
            "recalign-serve",
            "recalign-t5",
            "recalign-train",
        ],
    ),
];

#[test]
fn crates_only_depend_downwards() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let allowed = ALLOWED
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("crates/{name} is not in the crate map of this test"))
            .1;
        let text = std::fs::read_to_string(&manifest).unwrap();
        let mut section = "";
        for line in text.lines() {
            if line.starts_with('[') {
                section = line;
                continue;
            }
            let Some(dep) = line
                .split(['.', ' ', '='])
                .next()
                .filter(|d| d.starts_with("recalign-"))
            else {
                continue;
            };
            let ok = allowed.contains(&dep)
                || (section == "[dev-dependencies]" && dep == "recalign-testkit");
            assert!(
                ok,
                "crates/{name} depends on {dep} in {section}, which is not below it"
            );
        }
        seen.push(name);
    }
    assert_eq!(seen.len(), ALLOWED.len(), "crates found: {seen:?}");
}
