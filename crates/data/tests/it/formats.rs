//! Every reader on small fixtures: good input, and bad input rejected with
//! the file, line and field named.

use recalign_data::error::LineError;
use recalign_data::source::{RawData, items, mcauley, tabular};
use recalign_data::{DatasetSpec, Error, LoadOptions, PrepareConfig, Source, read};

use crate::util::{items_of, loose, write};

fn table(dir: &std::path::Path, name: &str, text: &str) -> Result<RawData, Error> {
    let path = write(dir, name, text);
    let mut raw = RawData::default();
    tabular::read_interactions(&path, &read::silent(), &mut raw).map(|()| raw)
}

#[test]
fn tsv_csv_plain_and_gzip_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let tsv =
        "user_id\titem_id\trating\ttimestamp\nu1\ti1\t5\t100\nu1\ti2\t\t\r\nu2\ti1\t3.5\t1.5e2\n";
    let csv =
        "timestamp,user,item,rating,extra\n100,u1,i1,5,x\n,u1,i2,,\"a, b\"\n150,\"u2\",i1,3.5,\n";
    for (name, text) in [
        ("a.tsv", tsv),
        ("a.tsv.gz", tsv),
        ("b.csv", csv),
        ("b.csv.gz", csv),
        ("c.txt", tsv),
    ] {
        let raw = table(dir.path(), name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (raw.users.len(), raw.items.len(), raw.interactions.len()),
            (2, 2, 3),
            "{name}"
        );
        let x = raw.interactions[1];
        assert_eq!((x.rating(), x.timestamp()), (None, None), "{name}");
        let y = raw.interactions[2];
        assert_eq!(
            (y.rating(), y.timestamp()),
            (Some(3.5), Some(150)),
            "{name}"
        );
        assert_eq!(raw.users.name(y.user), "u2");
    }
}

#[test]
fn bad_tables_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "a.tsv",
            "user\titem\trating\nu1\ti1\tfive\n",
            "a.tsv:2: field `rating`: `five` is not a number",
        ),
        (
            "b.tsv",
            "user\titem\ttimestamp\nu1\ti1\t1\nu1\ti2\tyesterday\n",
            "b.tsv:3: field `timestamp`: `yesterday` is not a unix time",
        ),
        (
            "c.tsv",
            "user\titem\nu1\ti1\nu1\n",
            "c.tsv:3: expected 2 fields as in the header, found 1",
        ),
        (
            "d.tsv",
            "user\titem\nu1\t\n",
            "d.tsv:2: field `item`: empty",
        ),
        (
            "e.tsv",
            "who\titem\nu1\ti1\n",
            "e.tsv:1: field `user_id`: the header has no user column",
        ),
        ("f.tsv", "", "f.tsv: file is empty"),
        ("g.tsv", "user\titem\n", "g.tsv: file is empty"),
        ("h.csv", "user,item\n\"u1,i1\n", "h.csv:"),
        (
            "i.tsv",
            "user\titem\trating\nu1\ti1\tNaN\n",
            "i.tsv:2: field `rating`",
        ),
    ];
    for (name, text, expected) in cases {
        let err = table(dir.path(), name, text).unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{name}: got `{err}`, expected `{expected}`"
        );
    }
}

#[test]
fn invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tsv");
    std::fs::write(&path, b"user\titem\nu1\ti1\nu\xff\ti2\n").unwrap();
    let mut raw = RawData::default();
    let err = tabular::read_interactions(&path, &read::silent(), &mut raw).unwrap_err();
    assert!(
        matches!(err, Error::Line(LineError { line: 3, .. })),
        "{err}"
    );
}

#[test]
fn truncated_gzip_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("user\titem\ttimestamp\n");
    for i in 0..20_000 {
        text.push_str(&format!("user{}\titem{}\t{}\n", i % 97, i % 13, i));
    }
    let path = write(dir.path(), "big.tsv.gz", &text);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let mut raw = RawData::default();
    let err = tabular::read_interactions(&path, &read::silent(), &mut raw).unwrap_err();
    assert!(matches!(err, Error::Gzip { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("big.tsv.gz: gzip stream is truncated or corrupt"),
        "{err}"
    );
}

#[test]
fn items_jsonl_attaches_metadata_and_skips_bad_lines_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = table(dir.path(), "i.tsv", "user\titem\nu1\tA\nu1\tB\nu1\tC\n").unwrap();
    let path = write(
        dir.path(),
        "items.jsonl.gz",
        concat!(
            r#"{"item_id": "A", "title": "Rose &amp; Oud", "brand": null, "categories": [["Beauty", "Fragrance"]], "price": 12.5}"#,
            "\n",
            r#"{"asin": "B", "title": "Second", "categories": ["Beauty"], "price": "$3.99", "description": ["a", "b"]}"#,
            "\n",
            "\n",
            r#"{"item_id": "C", "title": 7}"#,
            "\n",
            r#"{"item_id": "Z", "title": "not in the interactions"}"#,
            "\n",
            "not json\n",
            r#"{"title": "no id"}"#,
            "\n",
            r#"{"item_id": "C", "price": "cheap"}"#,
            "\n",
        ),
    );
    items::read_items(&path, &read::silent(), &mut raw).unwrap();
    let meta = |id: &str| raw.metadata[raw.items.get(id).unwrap() as usize].clone();
    let a = meta("A").unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("Rose &amp; Oud"),
        "raw text is kept until preparation"
    );
    assert_eq!(
        a.categories,
        vec![vec!["Beauty".to_string(), "Fragrance".to_string()]]
    );
    let b = meta("B").unwrap();
    assert_eq!(
        (b.price, b.description.as_deref()),
        (Some(3.99), Some("a\nb"))
    );
    assert_eq!(b.categories, vec![vec!["Beauty".to_string()]]);
    assert_eq!(meta("C").unwrap().title.as_deref(), Some("7"));
    assert_eq!(raw.skipped_metadata.count, 3);
    let first = raw.skipped_metadata.first.join("\n");
    assert!(first.contains("items.jsonl.gz:6: not JSON"), "{first}");
    assert!(
        first.contains("items.jsonl.gz:7: field `item_id`: missing"),
        "{first}"
    );
    assert!(
        first.contains("items.jsonl.gz:8: field `price`: `cheap` is not a price"),
        "{first}"
    );
    // The catalogue unescapes the title.
    let data = recalign_data::prepare("t", raw, &loose()).unwrap();
    let a = data.item(data.item_by_raw_id("A").unwrap());
    assert_eq!(a.title(), Some("Rose & Oud"));
}

#[test]
fn mcauley_reviews_and_python_literal_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = write(
        dir.path(),
        "reviews_Beauty_5.json.gz",
        concat!(
            r#"{"reviewerID": "U1", "asin": "A1", "reviewerName": "x", "helpful": [0, 0], "reviewText": "Nice \"stuff\"", "overall": 5.0, "summary": "s", "unixReviewTime": 1400000000, "reviewTime": "05 13, 2014"}"#,
            "\n",
            r#"{"reviewerID": "U1", "asin": "A2", "overall": 4.0, "unixReviewTime": 1400000000}"#,
            "\n",
            r#"{"reviewerID": "U1", "asin": "A3", "overall": 3.0, "unixReviewTime": 1300000000}"#,
            "\n",
        ),
    );
    write(
        dir.path(),
        "meta_Beauty.json.gz",
        concat!(
            "{'asin': 'A0', 'title': 'not in the reviews'}\n",
            "{'asin': 'A1', 'title': \"L'Oreal Paris Elvive\", 'price': 6.99, 'salesRank': {'Beauty': 1}, 'categories': [['Beauty', 'Hair Care']], 'brand': 'L\\xc3\\xa9a'}\n",
            "{'asin': 'A2', 'title': 'Broken\n",
            "{'asin': 'A3', 'related': {'also_bought': ['A1']}, 'imUrl': 'http://x'}\n",
        ),
    );
    let spec = DatasetSpec::parse(reviews.to_str().unwrap()).unwrap();
    let source = Source::resolve(&spec, dir.path(), None).unwrap();
    let raw = source.read(&read::silent()).unwrap();
    assert_eq!(raw.interactions.len(), 3);
    assert_eq!(raw.interactions[0].rating(), Some(5.0));
    assert_eq!(raw.skipped_metadata.count, 1);
    assert!(raw.skipped_metadata.first[0].contains("meta_Beauty.json.gz:3: not a Python literal"));
    let data = recalign_data::prepare("beauty", raw, &loose()).unwrap();
    let a1 = data.item(data.item_by_raw_id("A1").unwrap());
    assert_eq!(a1.title(), Some("L'Oreal Paris Elvive"));
    assert_eq!(a1.meta.brand.as_deref(), Some("Léa"));
    assert_eq!(a1.meta.price, Some(6.99));
    // Same-day reviews keep file order; the earlier one comes first.
    assert_eq!(items_of(&data, "U1"), ["A3", "A1", "A2"]);
}

#[test]
fn bad_reviews_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"reviewerID": "U1", "overall": 5.0, "unixReviewTime": 1}"#,
            ":1: field `asin`: missing",
        ),
        (
            r#"{"reviewerID": "U1", "asin": "A", "overall": "five", "unixReviewTime": 1}"#,
            ":1: field `overall`: `\"five\"` is not a number",
        ),
        (
            r#"{"reviewerID": "U1", "asin": "A", "overall": 5, "unixReviewTime": "soon"}"#,
            ":1: field `unixReviewTime`",
        ),
        (
            r#"{"reviewerID": 12, "asin": "A", "overall": 5, "unixReviewTime": 1}"#,
            ":1: field `reviewerID`: expected a string",
        ),
        (r#"["not", "an", "object"]"#, ":1: not a JSON object"),
    ];
    for (i, (line, expected)) in cases.iter().enumerate() {
        let path = write(
            dir.path(),
            &format!("reviews_X{i}_5.json"),
            &format!("{line}\n"),
        );
        let mut raw = RawData::default();
        let err = mcauley::read_reviews(&path, &read::silent(), &mut raw)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "got `{err}`, expected `{expected}`");
    }
}

#[test]
fn names_and_paths_resolve_or_fail_clearly() {
    assert!(matches!(
        DatasetSpec::parse("synthetic"),
        Ok(DatasetSpec::Synthetic(_))
    ));
    assert!(matches!(
        DatasetSpec::parse("toys"),
        Ok(DatasetSpec::Amazon(_))
    ));
    assert!(matches!(
        DatasetSpec::parse("movielens"),
        Err(Error::UnknownDataset { .. })
    ));
    let err = DatasetSpec::parse("./no/such.csv").unwrap_err().to_string();
    assert!(err.contains("no/such.csv"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let spec = DatasetSpec::parse("sports").unwrap();
    let err = Source::resolve(&spec, empty.path(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sports/interactions.tsv.gz"), "{err}");
    assert!(
        err.contains("reviews_Sports_and_Outdoors_5.json.gz"),
        "{err}"
    );

    // A directory of the user's own data.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "interactions.csv", "user,item\nu,a\nu,b\nu,c\n");
    write(
        dir.path(),
        "items.jsonl",
        "{\"item_id\": \"a\", \"title\": \"A\"}\n",
    );
    let spec = DatasetSpec::parse(dir.path().to_str().unwrap()).unwrap();
    let options = LoadOptions {
        data_dir: empty.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let data = recalign_data::load(&spec, &loose(), &options)
        .unwrap()
        .dataset;
    assert_eq!(data.num_interactions(), 3);
    assert_eq!(
        data.item(data.item_by_raw_id("a").unwrap()).title(),
        Some("A")
    );
    let empty_dir = tempfile::tempdir().unwrap();
    let spec = DatasetSpec::parse(empty_dir.path().to_str().unwrap()).unwrap();
    let err = recalign_data::load(&spec, &PrepareConfig::default(), &options).unwrap_err();
    assert!(matches!(err, Error::MissingFiles { .. }), "{err}");
}
