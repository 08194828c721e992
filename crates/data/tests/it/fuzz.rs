//! Property tests: every parser, fed random bytes or mutated valid lines,
//! returns a value or an error and never panics; the Python-literal parser
//! reads back what Python's `repr` writes.

use proptest::prelude::*;
use recalign_data::read;
use recalign_data::source::{RawData, items, mcauley, pyliteral, tabular};
use recalign_testkit::gzip;
use serde_json::Value;

const TSV: &str = "user_id\titem_id\trating\ttimestamp\nA1\tB1\t5\t1400000000\nA1\tB2\t\t1400000001\nA2\tB1\t3.0\t\n";
const CSV: &str = "user,item,rating,timestamp\n\"A1\",B1,5,1400000000\nA2,\"B,2\",,\n";
const ITEMS: &str = "{\"item_id\": \"B1\", \"title\": \"T &amp; U\", \"categories\": [[\"C\"]], \"price\": 1.5}\n{\"item_id\": \"B2\", \"brand\": \"X\"}\n";
const REVIEWS: &str = "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": 5.0, \"unixReviewTime\": 1400000000}\n{\"reviewerID\": \"A2\", \"asin\": \"B1\", \"overall\": 4.0, \"unixReviewTime\": 1400000001}\n";
const META: &str = "{'asin': 'B1', 'title': 'It\\'s \"here\"', 'price': 3.17, 'categories': [['A', 'B']], 'related': {'also_bought': ['B2']}}\n{'asin': 'B2', 'title': u'caf\\xe9', 'brand': None}\n";

/// Runs every reader on `bytes` written to a file named `name`.
fn read_all(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let p = read::silent();
    let _ = tabular::read_interactions(&path, &p, &mut RawData::default());
    let _ = mcauley::read_reviews(&path, &p, &mut RawData::default());
    let mut raw = RawData::default();
    for id in ["B1", "B2"] {
        raw.items.intern(id);
    }
    let _ = items::read_items(&path, &p, &mut raw.clone());
    let _ = mcauley::read_meta(&path, &p, &mut raw);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (
            any::<usize>(),
            prop::sample::select(b"\t,\n\"'\\{}[]:0 \xff".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(text: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, b) => bytes[i % len] ^= b,
            Mutation::Delete(i) => {
                bytes.remove(i % len);
            }
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

/// JSON values that Python's repr can write.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z' ]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What Python 3's `repr` writes for `v`.
fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => format!("{:?}", n.as_f64().unwrap()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        out.push_str(&format!("\\x{:02x}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_all("x.tsv", &bytes);
        read_all("x.csv", &bytes);
        read_all("x.json.gz", &gzip(&bytes));
        // Random bytes after a valid gzip header: a corrupt stream.
        let mut corrupt = gzip(b"user\titem\nu\ti\n")[..10].to_vec();
        corrupt.extend_from_slice(&bytes);
        read_all("y.tsv.gz", &corrupt);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        which in 0usize..5,
        mutations in prop::collection::vec(mutation(), 1..6),
        compress in any::<bool>(),
    ) {
        let (name, text) = [("a.tsv", TSV), ("a.csv", CSV), ("items.jsonl", ITEMS), ("reviews_X_5.json", REVIEWS), ("meta_X.json", META)][which];
        let bytes = mutate(text.as_bytes(), &mutations);
        if compress {
            let gz = gzip(&bytes);
            read_all(&format!("{name}.gz"), &gz);
            read_all(&format!("{name}.gz"), &mutate(&gz, &mutations));
        } else {
            read_all(name, &bytes);
        }
    }

    #[test]
    fn pyliteral_never_panics(text in "\\PC{0,64}") {
        let _ = pyliteral::parse(&text);
    }

    #[test]
    fn pyliteral_reads_what_python_repr_writes(v in value()) {
        let text = python_repr(&v);
        let parsed = pyliteral::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed, v, "{}", text);
    }
}

#[test]
fn fixtures_are_valid() {
    // The mutation tests start from files that read cleanly.
    let dir = tempfile::tempdir().unwrap();
    let p = read::silent();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let mut raw = RawData::default();
    tabular::read_interactions(&write("a.tsv", TSV), &p, &mut raw).unwrap();
    tabular::read_interactions(&write("a.csv", CSV), &p, &mut raw).unwrap();
    mcauley::read_reviews(&write("r.json", REVIEWS), &p, &mut raw).unwrap();
    items::read_items(&write("i.jsonl", ITEMS), &p, &mut raw).unwrap();
    mcauley::read_meta(&write("m.json", META), &p, &mut raw).unwrap();
    assert_eq!(raw.skipped_metadata.count, 0, "{:?}", raw.skipped_metadata);
}
