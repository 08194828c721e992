//! A parser for Python literals, as written by Python's `repr()` of a dict.
//!
//! McAuley's 2014 metadata files (`meta_<Category>.json.gz`) are not JSON: each
//! line is `str(dict)` from Python 2, e.g.
//! `{'asin': '0000031852', 'title': 'Girls Ballet Tutu', 'price': 3.17}`.
//! Parsing them with `eval` would run arbitrary code, so this module parses
//! the literal grammar only: dicts, lists, tuples, sets, single/double/triple
//! quoted strings (with `u`, `b`, `r` prefixes and every escape Python 2 and 3
//! `repr` emit), ints (with Python 2's `L` suffix), floats, `True`, `False`,
//! `None`. JSON's `true`, `false`, `null` are accepted too, so the same parser
//! reads JSON-lines metadata. The result is a [`serde_json::Value`].
//!
//! Byte strings (Python 2 `str`) carry `\xNN` escapes for raw bytes; they are
//! decoded as UTF-8, or as Latin-1 when they are not valid UTF-8.

use std::fmt;

use serde_json::{Map, Number, Value};

/// Deepest nesting accepted; guards the recursion against hostile input.
const MAX_DEPTH: usize = 128;

/// Why a literal could not be parsed, and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyLiteralError {
    /// 0-based byte offset in the input.
    pub offset: usize,
    /// What was expected or found.
    pub message: String,
}

impl fmt::Display for PyLiteralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.offset + 1)
    }
}

impl std::error::Error for PyLiteralError {}

/// Parses one Python literal; trailing text other than whitespace is an error.
pub fn parse(text: &str) -> Result<Value, PyLiteralError> {
    let mut parser = Parser {
        src: text.as_bytes(),
        pos: 0,
    };
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != parser.src.len() {
        return Err(parser.error("unexpected text after the literal"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> PyLiteralError {
        PyLiteralError {
            offset: self.pos.min(self.src.len()),
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8) -> Result<(), PyLiteralError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", byte as char)))
        }
    }

    /// Past a collection's opening byte: `None` when it is empty (its
    /// `close` consumed), else its first value, whitespace after it skipped.
    fn first_item(&mut self, close: u8, depth: usize) -> Result<Option<Value>, PyLiteralError> {
        self.pos += 1;
        if self.eat(close) {
            return Ok(None);
        }
        let first = self.value(depth + 1)?;
        self.skip_ws();
        Ok(Some(first))
    }

    fn value(&mut self, depth: usize) -> Result<Value, PyLiteralError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.dict_or_set(depth),
            Some(b'[') => {
                self.pos += 1;
                self.sequence(b']', depth).map(Value::Array)
            }
            Some(b'(') => self.tuple(depth),
            Some(b'\'' | b'"') => self.string(false, false).map(Value::String),
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some(c) => Err(self.error(format!("unexpected character `{}`", c as char))),
        }
    }

    /// Comma-separated values up to `close` (already past the opener).
    fn sequence(&mut self, close: u8, depth: usize) -> Result<Vec<Value>, PyLiteralError> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.error(format!("expected `,` or `{}`", close as char))),
            }
        }
    }

    /// `(x)` is a parenthesised value, `(x,)` and `(x, y)` are tuples.
    fn tuple(&mut self, depth: usize) -> Result<Value, PyLiteralError> {
        let Some(first) = self.first_item(b')', depth)? else {
            return Ok(Value::Array(Vec::new()));
        };
        match self.peek() {
            Some(b')') => {
                self.pos += 1;
                Ok(first)
            }
            Some(b',') => {
                self.pos += 1;
                let mut items = vec![first];
                items.extend(self.sequence(b')', depth)?);
                Ok(Value::Array(items))
            }
            _ => Err(self.error("expected `,` or `)`")),
        }
    }

    fn dict_or_set(&mut self, depth: usize) -> Result<Value, PyLiteralError> {
        let Some(first) = self.first_item(b'}', depth)? else {
            return Ok(Value::Object(Map::new()));
        };
        if self.peek() != Some(b':') {
            // A set literal: {a, b}.
            let mut items = vec![first];
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    items.extend(self.sequence(b'}', depth)?);
                }
                Some(b'}') => self.pos += 1,
                _ => return Err(self.error("expected `:`, `,` or `}`")),
            }
            return Ok(Value::Array(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            map.insert(key_string(key), value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
            if self.eat(b'}') {
                return Ok(Value::Object(map));
            }
            key = self.value(depth + 1)?;
        }
    }

    fn word(&mut self) -> Result<Value, PyLiteralError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        // String prefixes: u'..', b'..', r'..', ur'..', br'..', rb'..'.
        if matches!(self.peek(), Some(b'\'' | b'"')) && word.len() <= 2 {
            let lower = word.to_ascii_lowercase();
            let raw = lower.contains(&b'r');
            let bytes = lower.contains(&b'b');
            let unicode = lower.contains(&b'u');
            if lower.iter().all(|c| matches!(c, b'u' | b'b' | b'r')) && !(bytes && unicode) {
                return self.string(raw, unicode).map(Value::String);
            }
        }
        match word {
            b"True" | b"true" => Ok(Value::Bool(true)),
            b"False" | b"false" => Ok(Value::Bool(false)),
            b"None" | b"null" => Ok(Value::Null),
            _ => {
                self.pos = start;
                Err(self.error(format!(
                    "unexpected name `{}` (only literals are allowed)",
                    String::from_utf8_lossy(word)
                )))
            }
        }
    }

    fn number(&mut self) -> Result<Value, PyLiteralError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let mut float = false;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' | b'_' => {}
                b'.' => float = true,
                b'e' | b'E' => {
                    float = true;
                    if matches!(self.src.get(self.pos + 1), Some(b'-' | b'+')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
            self.pos += 1;
        }
        let text: String = String::from_utf8_lossy(&self.src[start..self.pos]).replace('_', "");
        if matches!(self.peek(), Some(b'L' | b'l')) && !float {
            self.pos += 1;
        }
        let bad = |p: &Self| {
            let mut e = p.error(format!("`{text}` is not a number"));
            e.offset = start;
            e
        };
        if !float && let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        let f: f64 = text.parse().map_err(|_| bad(self))?;
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| bad(self))
    }

    /// A quoted string starting at the current quote character.
    fn string(&mut self, raw: bool, unicode: bool) -> Result<String, PyLiteralError> {
        let quote = self.src[self.pos];
        let triple = self.src[self.pos..].starts_with(&[quote; 3]);
        let start = self.pos;
        self.pos += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                self.pos = start;
                return Err(self.error("unterminated string"));
            };
            if c == quote && (!triple || self.src[self.pos..].starts_with(&[quote; 3])) {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if c == b'\n' && !triple {
                self.pos = start;
                return Err(self.error("unterminated string"));
            }
            if c != b'\\' {
                out.push(c);
                self.pos += 1;
                continue;
            }
            let Some(&esc) = self.src.get(self.pos + 1) else {
                self.pos = start;
                return Err(self.error("unterminated string"));
            };
            if raw {
                // Raw strings keep the backslash; it only protects the quote.
                out.extend_from_slice(&[b'\\', esc]);
                self.pos += 2;
                continue;
            }
            self.pos += 2;
            match esc {
                b'\n' => {}
                b'\\' | b'\'' | b'"' => out.push(esc),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'a' => out.push(0x07),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'v' => out.push(0x0b),
                b'0'..=b'7' => {
                    let mut value = u32::from(esc - b'0');
                    for _ in 0..2 {
                        match self.peek() {
                            Some(d @ b'0'..=b'7') => {
                                value = value * 8 + u32::from(d - b'0');
                                self.pos += 1;
                            }
                            _ => break,
                        }
                    }
                    self.push_code(&mut out, value, unicode)?;
                }
                b'x' => {
                    let value = self.hex(2)?;
                    self.push_code(&mut out, value, unicode)?;
                }
                b'u' => {
                    let value = self.hex(4)?;
                    push_char(&mut out, value).map_err(|m| self.error(m))?;
                }
                b'U' => {
                    let value = self.hex(8)?;
                    push_char(&mut out, value).map_err(|m| self.error(m))?;
                }
                other => {
                    // Python keeps unknown escapes as written.
                    out.extend_from_slice(&[b'\\', other]);
                }
            }
        }
        Ok(match String::from_utf8(out) {
            Ok(s) => s,
            // Python 2 byte strings in a legacy encoding: read them as Latin-1.
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        })
    }

    /// `\xNN` / octal: a raw byte in byte strings, a code point in unicode ones.
    fn push_code(
        &self,
        out: &mut Vec<u8>,
        value: u32,
        unicode: bool,
    ) -> Result<(), PyLiteralError> {
        if unicode {
            push_char(out, value).map_err(|m| self.error(m))
        } else {
            out.push(u8::try_from(value).map_err(|_| self.error("octal escape out of range"))?);
            Ok(())
        }
    }

    fn hex(&mut self, digits: usize) -> Result<u32, PyLiteralError> {
        let end = self.pos + digits;
        let text = self
            .src
            .get(self.pos..end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error(format!("expected {digits} hex digits in escape")))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| self.error("bad hex escape"))?;
        self.pos = end;
        Ok(value)
    }
}

fn push_char(out: &mut Vec<u8>, code: u32) -> Result<(), String> {
    let c =
        char::from_u32(code).ok_or_else(|| format!("escape U+{code:04X} is not a character"))?;
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Ok(())
}

/// Dict keys become JSON object keys; non-string keys are written as text.
fn key_string(key: Value) -> String {
    match key {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_mcauley_meta_line() {
        let line = r#"{'asin': '0000031852', 'title': 'Girls Ballet Tutu Zebra Hot Pink', 'price': 3.17, 'imUrl': 'http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg', 'related': {'also_bought': ['B00JHONN1S', 'B002BZX8Z6'], 'bought_together': ['B002BZX8Z6']}, 'salesRank': {'Toys & Games': 211836}, 'categories': [['Sports & Outdoors', 'Other Sports', 'Dance']]}"#;
        let v = parse(line).unwrap();
        assert_eq!(v["asin"], "0000031852");
        assert_eq!(v["price"], 3.17);
        assert_eq!(v["salesRank"]["Toys & Games"], 211836);
        assert_eq!(
            v["categories"],
            json!([["Sports & Outdoors", "Other Sports", "Dance"]])
        );
        assert_eq!(v["related"]["also_bought"][1], "B002BZX8Z6");
    }

    #[test]
    fn handles_quotes_and_escapes_as_python_repr_writes_them() {
        // repr() switches to double quotes when the text holds a single quote.
        let v = parse(r#"{'title': "L'Oreal Paris \"Elvive\"", 'd': 'it\'s\tok\n'}"#).unwrap();
        assert_eq!(v["title"], "L'Oreal Paris \"Elvive\"");
        assert_eq!(v["d"], "it's\tok\n");
    }

    #[test]
    fn decodes_python2_byte_escapes_as_utf8_then_latin1() {
        // UTF-8 bytes of "café ’" escaped as Python 2 repr writes them.
        assert_eq!(parse(r"'caf\xc3\xa9 \xe2\x80\x99'").unwrap(), "café ’");
        // Not valid UTF-8: Latin-1.
        assert_eq!(parse(r"'caf\xe9'").unwrap(), "café");
        // Unicode strings: \x is a code point.
        assert_eq!(parse(r"u'caf\xe9 \u2019 \U0001F600'").unwrap(), "café ’ 😀");
        assert_eq!(parse(r"'\101\x42'").unwrap(), "AB");
    }

    #[test]
    fn numbers_constants_and_containers() {
        assert_eq!(parse("-12").unwrap(), -12);
        assert_eq!(parse("12L").unwrap(), 12);
        assert_eq!(parse("1e3").unwrap(), 1000.0);
        assert_eq!(parse("  .5 ").unwrap(), 0.5);
        assert_eq!(parse("99999999999999999999").unwrap(), 1e20);
        assert_eq!(
            parse("[True, False, None, true, null]").unwrap(),
            json!([true, false, null, true, null])
        );
        assert_eq!(parse("(1,)").unwrap(), json!([1]));
        assert_eq!(parse("(1)").unwrap(), json!(1));
        assert_eq!(parse("()").unwrap(), json!([]));
        assert_eq!(parse("{1, 2,}").unwrap(), json!([1, 2]));
        assert_eq!(
            parse("{1: 'a', 'b': [],}").unwrap(),
            json!({"1": "a", "b": []})
        );
        assert_eq!(parse(r#"'''a'b'''"#).unwrap(), "a'b");
        assert_eq!(parse(r"r'a\'b'").unwrap(), r"a\'b");
    }

    #[test]
    fn reads_json_too() {
        let v = parse(r#"{"asin": "B1", "title": "A \"quoted\" \u00e9", "price": null}"#).unwrap();
        assert_eq!(v["title"], "A \"quoted\" é");
        assert_eq!(v["price"], Value::Null);
    }

    #[test]
    fn rejects_code_and_malformed_input_with_a_position() {
        for (text, at) in [
            ("__import__('os').system('ls')", 0),
            ("{'a': 1", 7),
            ("{'a' 1}", 5),
            ("'unterminated", 0),
            ("[1, 2", 5),
            ("{'a': 1} extra", 9),
            ("", 0),
            ("'\\x4'", 3),
            ("1.2.3", 0),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.offset, at, "{text}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).unwrap_err().message.contains("too deep"));
    }
}
