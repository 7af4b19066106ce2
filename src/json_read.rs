//! A JSON reader exactly as strict as serde_json reading the same text into a `Value`, and
//! never more lenient, for the passes that read a big answer without building all of it: the
//! check of a typed answer ([`crate::stream_schema`]) and the shaping of a shaped one
//! (`upstream::shaped`).
//!
//! Why not serde_json's `Deserializer`: driving a pass through serde's visitor protocol cost
//! as much as the reading itself (the typed big answer of benches/call.rs: serde_json's reading
//! and the check's visitor were about 37 % and 38 % of the call), and serde_json's fastest way
//! past a value (`IgnoredAny`) is more lenient than its `Value` (a lone surrogate escape goes
//! through). This reader hands a pass what it looks at (a member's name, a string, a number's
//! token, a whole value as a tree) and reads past everything else in tight loops of its own.
//!
//! The rules are serde_json's, as its `from_str` into a `Value` applies them: whitespace is
//! space, tab, line feed and carriage return; strings hold no control character and only the
//! escapes JSON defines, and a `\u` escape of a surrogate must be one half of a pair; numbers
//! follow JSON's grammar, and one serde_json would read as an infinite `f64` is refused (such
//! tokens are handed to serde_json itself, so the two agree at the edge); arrays and objects
//! nest at most 127 deep. The text is valid UTF-8 before it gets here. Where this reader says
//! [`Bad`], a pass falls back to serde_json, which words the error.

use serde_json::{Map, Value};

/// The text is not JSON as serde_json reads it (or is deeper than it reads).
#[derive(Debug)]
pub(crate) struct Bad;

pub(crate) type Read<T> = Result<T, Bad>;

/// serde_json refuses the 128th nested array or object.
const MAX_DEPTH: u32 = 128;

/// A number as serde_json would hand it on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number<'a> {
    /// An integer serde_json reads as an `i64` or `u64`.
    Int(i128),
    /// Anything else (a fraction, an exponent, `-0`, an integer past 64 bits): serde_json reads
    /// it as an `f64`, which [`float`] gives.
    Float(&'a str),
}

/// The `f64` serde_json reads from a number's token, by serde_json itself (its float parsing is
/// not correctly rounded without a feature, and a bound must compare the value it compares).
pub(crate) fn float(token: &str) -> Read<f64> {
    serde_json::from_str::<f64>(token).map_err(|_| Bad)
}

/// Where a string just read lies: in the text (no escapes), or decoded into the scratch buffer.
enum Place {
    Text(usize, usize),
    Scratch,
}

/// Bytes that end a string's plain run: the quote, the backslash, and control characters
/// (refused inside a string).
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

// Word-at-a-time tests of eight bytes (little-endian), shared with the text block's escaper
// (`upstream::answer`).
const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The top bit of each byte of `word` below `n` (at most 128), exact up to the first such
/// byte: the subtraction's borrow can flag a wrong byte only above one that really is below
/// `n`. So it tells whether, and where the first is, not which others are.
#[inline]
pub(crate) fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(LOW * u64::from(n)) & !word & HIGH
}

/// The top bit of each byte of `word` that is `b`, and of no other: no carry crosses a byte,
/// so unlike [`below`] it says which.
#[inline]
pub(crate) fn bytes_equal(word: u64, b: u8) -> u64 {
    let x = word ^ (LOW * u64::from(b));
    let low7 = !HIGH;
    !((x & low7).wrapping_add(low7) | x | low7)
}

/// The top bit of each byte of `word` that is a quote, a backslash or below 0x20, exact up to
/// the first such byte (each test is, see [`below`]).
#[inline]
fn stops(word: u64) -> u64 {
    below(word, 0x20)
        | below(word ^ (LOW * u64::from(b'"')), 1)
        | below(word ^ (LOW * u64::from(b'\\')), 1)
}

pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
    /// Strings with escapes, decoded.
    scratch: String,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
            scratch: String::new(),
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Read<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.at += 1,
                _ => return Ok(b),
            }
        }
        Err(Bad)
    }

    /// Nothing but whitespace is left.
    pub(crate) fn end(&mut self) -> Read<()> {
        match self.peek() {
            Err(Bad) => Ok(()),
            Ok(_) => Err(Bad),
        }
    }

    /// `word` (`null`, `true`, `false`) is next.
    pub(crate) fn literal(&mut self, word: &[u8]) -> Read<()> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// Consumes the `[` or `{` [`Reader::peek`] saw, one level deeper.
    #[inline]
    pub(crate) fn enter(&mut self) -> Read<()> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(Bad);
        }
        self.at += 1;
        Ok(())
    }

    /// Whether another item of the array being read follows (and, after the first, its comma
    /// was consumed); consumes the `]` when not.
    #[inline]
    pub(crate) fn next_item(&mut self, first: &mut bool) -> Read<bool> {
        let b = self.peek()?;
        if b == b']' {
            if *first {
                return Ok(self.close());
            }
        } else if *first {
            *first = false;
            return Ok(true);
        }
        match b {
            b',' => {
                self.at += 1;
                Ok(true)
            }
            b']' => Ok(self.close()),
            _ => Err(Bad),
        }
    }

    /// The name of the next member of the object being read, its colon consumed; `None` after
    /// the last, with the `}` consumed.
    #[inline]
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Read<Option<&str>> {
        let mut b = self.peek()?;
        if *first {
            *first = false;
            if b == b'}' {
                self.close();
                return Ok(None);
            }
        } else {
            match b {
                b',' => {
                    self.at += 1;
                    b = self.peek()?;
                }
                b'}' => {
                    self.close();
                    return Ok(None);
                }
                _ => return Err(Bad),
            }
        }
        if b != b'"' {
            return Err(Bad);
        }
        let place = self.place()?;
        if self.peek()? != b':' {
            return Err(Bad);
        }
        self.at += 1;
        Ok(Some(self.resolve(place)))
    }

    /// Consumes a closing bracket, one level up; `false` (no more items).
    fn close(&mut self) -> bool {
        self.at += 1;
        self.depth -= 1;
        false
    }

    /// The string [`Reader::peek`] saw, decoded.
    #[inline]
    pub(crate) fn string(&mut self) -> Read<&str> {
        let place = self.place()?;
        Ok(self.resolve(place))
    }

    fn resolve(&self, place: Place) -> &str {
        match place {
            // Both ends sit next to an ASCII quote, so on character boundaries.
            Place::Text(from, to) => &self.text[from..to],
            Place::Scratch => &self.scratch,
        }
    }

    /// Reads the string whose opening quote is at `self.at`. Inlined: returned through memory,
    /// its result cost a stalled load (the store of two words read back as one) per string.
    #[inline(always)]
    fn place(&mut self) -> Read<Place> {
        self.at += 1;
        let from = self.at;
        self.plain_run()?;
        if self.bytes[self.at] == b'"' {
            self.at += 1;
            return Ok(Place::Text(from, self.at - 1));
        }
        self.scratch.clear();
        self.scratch.push_str(&self.text[from..self.at]);
        loop {
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(Place::Scratch);
                }
                b'\\' => {
                    let c = self.escape()?;
                    self.scratch.push(c);
                }
                _ => return Err(Bad),
            }
            let from = self.at;
            self.plain_run()?;
            self.scratch.push_str(&self.text[from..self.at]);
        }
    }

    /// Moves to the next quote, backslash or control character of a string: eight bytes at a
    /// time while eight are left (most of an answer's bytes are in strings), then byte by byte.
    #[inline]
    fn plain_run(&mut self) -> Read<()> {
        let mut at = self.at;
        while let Some(word) = self.bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(word.try_into().map_err(|_| Bad)?);
            let stops = stops(word);
            if stops != 0 {
                self.at = at + (stops.trailing_zeros() / 8) as usize;
                return Ok(());
            }
            at += 8;
        }
        match self.bytes[at..].iter().position(|&b| STOP[b as usize]) {
            Some(n) => {
                self.at = at + n;
                Ok(())
            }
            None => Err(Bad),
        }
    }

    /// Decodes the escape at `self.at` (its backslash).
    fn escape(&mut self) -> Read<char> {
        let b = *self.bytes.get(self.at + 1).ok_or(Bad)?;
        self.at += 2;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let n = self.hex4()?;
                match n {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                            return Err(Bad);
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Bad);
                        }
                        let c = 0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(c).ok_or(Bad)?
                    }
                    0xDC00..=0xDFFF => return Err(Bad),
                    n => char::from_u32(n).ok_or(Bad)?,
                }
            }
            _ => return Err(Bad),
        })
    }

    fn hex4(&mut self) -> Read<u32> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(Bad)?;
        let mut n = 0;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Bad),
            };
            n = n << 4 | u32::from(v);
        }
        self.at += 4;
        Ok(n)
    }

    /// The number [`Reader::peek`] saw (a `-` or a digit).
    pub(crate) fn number(&mut self) -> Read<Number<'a>> {
        let from = self.at;
        let negative = self.bytes[self.at] == b'-';
        if negative {
            self.at += 1;
        }
        let mut magnitude: Option<u64> = Some(0);
        match self.bytes.get(self.at) {
            Some(b'0') => {
                self.at += 1;
                if self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
                    return Err(Bad);
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&d) = self.bytes.get(self.at).filter(|d| d.is_ascii_digit()) {
                    magnitude = magnitude
                        .and_then(|m| m.checked_mul(10))
                        .and_then(|m| m.checked_add(u64::from(d - b'0')));
                    self.at += 1;
                }
            }
            _ => return Err(Bad),
        }
        let mut exponent = false;
        let mut integer = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            integer = false;
            self.digits()?;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            integer = false;
            exponent = true;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits()?;
        }
        let token = &self.text[from..self.at];
        if integer && let Some(m) = magnitude {
            // serde_json reads `-0` as the float `-0.0`, and a negative integer past `i64` as a
            // float.
            if !negative {
                return Ok(Number::Int(m.into()));
            }
            if m != 0 && m <= 1 << 63 {
                return Ok(Number::Int(-i128::from(m)));
            }
        }
        // Only an exponent or hundreds of digits reach infinity, which serde_json refuses.
        if exponent || token.len() > 300 {
            float(token)?;
        }
        Ok(Number::Float(token))
    }

    /// One or more digits.
    fn digits(&mut self) -> Read<()> {
        let from = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        if self.at == from { Err(Bad) } else { Ok(()) }
    }

    /// Reads past one value, as strictly as the rest.
    pub(crate) fn skip(&mut self) -> Read<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'[' => {
                self.enter()?;
                let mut first = true;
                while self.next_item(&mut first)? {
                    self.skip()?;
                }
                Ok(())
            }
            b'{' => {
                self.enter()?;
                // As `next_key`, without decoding the names.
                if self.peek()? == b'}' {
                    self.close();
                    return Ok(());
                }
                loop {
                    if self.peek()? != b'"' {
                        return Err(Bad);
                    }
                    self.skip_string()?;
                    if self.peek()? != b':' {
                        return Err(Bad);
                    }
                    self.at += 1;
                    self.skip()?;
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.close();
                            return Ok(());
                        }
                        _ => return Err(Bad),
                    }
                }
            }
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => Err(Bad),
        }
    }

    /// Reads past the string whose opening quote is at `self.at`, escapes checked.
    fn skip_string(&mut self) -> Read<()> {
        self.at += 1;
        loop {
            self.plain_run()?;
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.escape()?;
                }
                _ => return Err(Bad),
            }
        }
    }

    /// The value next, as serde_json's `Value` reads it (numbers as serde_json types them).
    pub(crate) fn tree(&mut self) -> Read<Value> {
        match self.peek()? {
            b'{' => {
                self.enter()?;
                let mut map = Map::new();
                let mut first = true;
                while let Some(key) = self.next_key(&mut first)? {
                    let key = key.to_owned();
                    let v = self.tree()?;
                    // A repeated name: the last value wins, in the first one's place, as in
                    // serde_json's `Value`.
                    map.insert(key, v);
                }
                Ok(Value::Object(map))
            }
            b'[' => {
                self.enter()?;
                let mut items = Vec::new();
                let mut first = true;
                while self.next_item(&mut first)? {
                    items.push(self.tree()?);
                }
                Ok(Value::Array(items))
            }
            b'"' => Ok(Value::String(self.string()?.to_owned())),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Int(i) => match u64::try_from(i) {
                    Ok(u) => Ok(Value::from(u)),
                    Err(_) => i64::try_from(i).map(Value::from).map_err(|_| Bad),
                },
                Number::Float(token) => serde_json::Number::from_f64(float(token)?)
                    .map(Value::Number)
                    .ok_or(Bad),
            },
            _ => Err(Bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{Reader, STOP, stops};

    /// Texts at JSON's edges, each also bent byte by byte below.
    const TEXTS: &[&str] = &[
        r#"{"a":[1,-2,3.5,-0,0.0,1e2,1E-2,-1.5e+3,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809]}"#,
        r#"[true,false,null,"",{},[],{"":{"":[]}}]"#,
        r#"["\"\\\/\b\f\n\r\t","\u00e9\u20AC","\ud83d\ude00","é€😀","a\u0000b"]"#,
        " \t\n\r[ 1 , { \"k\" : \"v\" } ]\r\n ",
        r#"{"dup":1,"other":2,"dup":{"x":[0]}}"#,
        r#"[1e308,-1e308,1.7976931348623157e308,2.2250738585072014e-308,5e-324,1e-400]"#,
        r#""plain text that is longer than eight bytes, with \"quotes\" inside""#,
        "0",
        "-12",
    ];

    /// Texts serde_json refuses.
    const BAD: &[&str] = &[
        "",
        " ",
        "[",
        "]",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "01",
        "-",
        "1.",
        ".5",
        "+1",
        "1e",
        "1e+",
        "NaN",
        "tRue",
        "nul",
        "\"\\x41\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800x\"",
        "\"\\u12\"",
        "\"a\u{1}b\"",
        "\"open",
        "1e400",
        "-1e400",
        "[1e999]",
        "1 2",
        "{}}",
        "[\"a\"]x",
    ];

    fn read(text: &str) -> Option<Value> {
        let mut r = Reader::new(text);
        let v = r.tree().ok()?;
        r.end().ok()?;
        Some(v)
    }

    fn skips(text: &str) -> bool {
        let mut r = Reader::new(text);
        r.skip().is_ok() && r.end().is_ok()
    }

    /// The tree is serde_json's `Value`, number types and member order included, and what
    /// serde_json refuses is refused, by `tree` and by `skip` alike.
    #[test]
    fn the_reader_agrees_with_serde_json() {
        let mut bent_texts = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for text in TEXTS {
            let want: Value = serde_json::from_str(text).expect("a test text is JSON");
            let got = read(text).unwrap_or_else(|| panic!("the reader refused {text}"));
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), want.to_string(), "{text}");
            assert!(skips(text), "{text}");
            for _ in 0..400 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut bytes = text.as_bytes().to_vec();
                let at = (seed % bytes.len() as u64) as usize;
                let pool = b"{}[]\",:\\ 0e.-+tnu5\x01";
                bytes[at] = pool[(seed >> 32) as usize % pool.len()];
                if let Ok(bent) = String::from_utf8(bytes) {
                    bent_texts.push(bent);
                }
            }
        }
        bent_texts.extend(BAD.iter().map(|t| t.to_string()));
        let mut refused = 0;
        for text in &bent_texts {
            let want = serde_json::from_str::<Value>(text).ok();
            assert_eq!(read(text), want, "{text:?}");
            assert_eq!(skips(text), want.is_some(), "{text:?}");
            refused += usize::from(want.is_none());
        }
        assert!(refused >= BAD.len(), "the bent texts include refused ones");
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        for depth in [1, 126, 127, 128, 129, 5000] {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let want = serde_json::from_str::<Value>(&nested).is_ok();
            assert_eq!(read(&nested).is_some(), want, "{depth}");
            assert_eq!(skips(&nested), want, "{depth}");
        }
    }

    /// The word-at-a-time test finds the first byte the byte-at-a-time table finds.
    #[test]
    fn stops_finds_the_first_stop_of_a_word() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let pool = [
            b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, b'a', 0x5b, 0x5d, 0x7f, 0x80, 0xe9, 0xff,
        ];
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes: [u8; 8] =
                std::array::from_fn(|i| pool[(seed >> (i * 5)) as usize % pool.len()]);
            let first = bytes.iter().position(|&b| STOP[b as usize]);
            let word = stops(u64::from_le_bytes(bytes));
            let found = (word != 0).then(|| (word.trailing_zeros() / 8) as usize);
            assert_eq!(found, first, "{bytes:?}");
        }
    }
}
