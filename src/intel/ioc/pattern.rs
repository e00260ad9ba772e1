//! A parser of STIX 2.1 patterns (STIX 2.1 §9) reduced to what a network matcher can use.
//!
//! The whole grammar is checked (observation expressions joined by `AND`/`OR`/`FOLLOWEDBY`,
//! qualifiers, comparison expressions with `AND`/`OR`/`NOT`, the comparison operators, string,
//! numeric, boolean, timestamp, hex and binary literals, object paths with quoted and indexed
//! components), so a malformed pattern is an error, not a silent skip. What comes out is the
//! list of `path = 'string'` comparisons when the pattern is a pure disjunction of them (the
//! only shape that means "any one of these values is bad"); any other shape is reported as
//! unsupported, since a conjunction or sequence cannot be decided from one name or address.
//!
//! Hand-rolled: no maintained Rust crate parses STIX patterns.
//!
//! Invariants: input longer than [`MAX_PATTERN_LEN`] is refused; nesting deeper than
//! [`MAX_DEPTH`] is refused (no unbounded recursion); every loop consumes input.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Longest pattern parsed, in bytes: bounds the token list of one indicator.
pub const MAX_PATTERN_LEN: usize = 64 * 1024;

/// Deepest bracket/parenthesis nesting: bounds recursion on `((((…`.
pub const MAX_DEPTH: usize = 32;

/// What a pattern means to the matcher.
#[derive(Debug, PartialEq, Eq)]
pub enum Pattern {
    /// A disjunction of `object-path = 'value'` comparisons (one or more).
    AnyOf(Vec<(String, String)>),
    /// Well-formed, but not a disjunction of equalities (AND, FOLLOWEDBY, qualifiers, other
    /// operators, non-string values).
    Unsupported,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    LParen,
    RParen,
    Comma,
    Op,
    Eq,
    Str,
    /// A bare word: keyword, number, boolean or object path.
    Word(String),
}

/// Parses `s`; Err carries a message naming the problem (never the values).
pub fn parse(s: &str) -> Result<Pattern, &'static str> {
    if s.len() > MAX_PATTERN_LEN {
        return Err("STIX pattern longer than 64 KiB");
    }
    let (toks, strs) = lex(s)?;
    let mut p = Parser {
        toks,
        strs,
        pos: 0,
        str_pos: 0,
        simple: true,
        comps: Vec::new(),
    };
    p.observation_expr(0)?;
    if p.pos != p.toks.len() {
        return Err("STIX pattern has text after the end of the expression");
    }
    if p.simple && !p.comps.is_empty() {
        Ok(Pattern::AnyOf(p.comps))
    } else {
        Ok(Pattern::Unsupported)
    }
}

/// Tokens plus the decoded string literals (in order), kept apart so `Tok` stays small.
fn lex(s: &str) -> Result<(Vec<Tok>, Vec<Option<String>>), &'static str> {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut strs = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'[' => {
                toks.push(Tok::Open);
                i += 1;
            }
            b']' => {
                toks.push(Tok::Close);
                i += 1;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            b'=' => {
                toks.push(Tok::Eq);
                i += 1;
            }
            b'!' | b'<' | b'>' => {
                let two = b.get(i + 1) == Some(&b'=');
                if c == b'!' && !two {
                    return Err("STIX pattern has '!' without '='");
                }
                toks.push(Tok::Op);
                i += if two { 2 } else { 1 };
            }
            b'\'' => {
                let (v, next) = string(b, i)?;
                toks.push(Tok::Str);
                strs.push(Some(v));
                i = next;
            }
            // Typed literals t'…' (timestamp), h'…' (hex), b'…' (base64): not strings to match.
            b't' | b'h' | b'b' if b.get(i + 1) == Some(&b'\'') => {
                let (_, next) = string(b, i + 1)?;
                toks.push(Tok::Str);
                strs.push(None);
                i = next;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'+' => {
                let (w, next) = word(b, i)?;
                toks.push(Tok::Word(w));
                i = next;
            }
            _ => return Err("STIX pattern has an unexpected character"),
        }
    }
    Ok((toks, strs))
}

/// A quoted literal starting at `b[start] == '\''`: returns the unescaped text and the index
/// after the closing quote. Only `\'` and `\\` are escapes (STIX 2.1 §9.2).
fn string(b: &[u8], start: usize) -> Result<(String, usize), &'static str> {
    let mut out = Vec::new();
    let mut i = start + 1;
    loop {
        match b.get(i) {
            None => return Err("STIX pattern has an unterminated string"),
            Some(b'\'') => break,
            Some(b'\\') => match b.get(i + 1) {
                Some(&e @ (b'\'' | b'\\')) => {
                    out.push(e);
                    i += 2;
                }
                _ => return Err("STIX pattern string has an invalid escape"),
            },
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(out).map_err(|_| "STIX pattern string is not UTF-8")?;
    Ok((text, i + 1))
}

/// A bare word or object path: letters, digits, `_-+.:*`, quoted path components after `.`
/// (`file:hashes.'SHA-256'`), and list indexes `[n]`/`[*]` inside a path.
fn word(b: &[u8], start: usize) -> Result<(String, usize), &'static str> {
    let mut i = start;
    let mut is_path = false;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_alphanumeric() || b"_-+.*".contains(&c) {
            i += 1;
        } else if c == b':' {
            is_path = true;
            i += 1;
        } else if c == b'\'' && is_path && i > start && b.get(i - 1) == Some(&b'.') {
            let (_, next) = string(b, i)?;
            i = next;
        } else if c == b'[' && is_path {
            let close = b
                .get(i..)
                .and_then(|r| r.iter().position(|&x| x == b']'))
                .ok_or("STIX object path has an unclosed index")?;
            let idx = b.get(i + 1..i + close).unwrap_or_default();
            if idx.is_empty() || !(idx == b"*" || idx.iter().all(u8::is_ascii_digit)) {
                return Err("STIX object path has an invalid list index");
            }
            i += close + 1;
        } else {
            break;
        }
    }
    let w = b.get(start..i).unwrap_or_default();
    Ok((String::from_utf8_lossy(w).into_owned(), i))
}

struct Parser {
    toks: Vec<Tok>,
    strs: Vec<Option<String>>,
    pos: usize,
    str_pos: usize,
    /// Still a pure disjunction of `path = 'string'`.
    simple: bool,
    comps: Vec<(String, String)>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.pos);
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, t: Tok, msg: &'static str) -> Result<(), &'static str> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(msg)
        }
    }

    fn next_str(&mut self) -> Option<String> {
        let s = self.strs.get_mut(self.str_pos).and_then(Option::take);
        self.str_pos += 1;
        s
    }

    /// observation_expr := obs_term ((AND | OR | FOLLOWEDBY) obs_term)*
    fn observation_expr(&mut self, depth: usize) -> Result<(), &'static str> {
        if depth > MAX_DEPTH {
            return Err("STIX pattern nested too deeply");
        }
        self.observation_term(depth)?;
        loop {
            if self.keyword("OR") {
                self.pos += 1;
            } else if self.keyword("AND") || self.keyword("FOLLOWEDBY") {
                self.simple = false;
                self.pos += 1;
            } else {
                return Ok(());
            }
            self.observation_term(depth)?;
        }
    }

    /// obs_term := ('[' comparison_expr ']' | '(' observation_expr ')') qualifier*
    fn observation_term(&mut self, depth: usize) -> Result<(), &'static str> {
        match self.bump() {
            Some(Tok::Open) => {
                self.comparison_expr(depth + 1)?;
                self.expect(Tok::Close, "STIX pattern is missing ']'")?;
            }
            Some(Tok::LParen) => {
                self.observation_expr(depth + 1)?;
                self.expect(Tok::RParen, "STIX pattern is missing ')'")?;
            }
            _ => return Err("STIX pattern must start an observation with '['"),
        }
        self.qualifiers()
    }

    /// WITHIN n SECONDS | REPEATS n TIMES | START t'…' STOP t'…'
    fn qualifiers(&mut self) -> Result<(), &'static str> {
        loop {
            let (unit, second) = if self.keyword("WITHIN") {
                ("SECONDS", false)
            } else if self.keyword("REPEATS") {
                ("TIMES", false)
            } else if self.keyword("START") {
                ("STOP", true)
            } else {
                return Ok(());
            };
            self.simple = false;
            self.pos += 1;
            self.literal()?;
            if !self.keyword(unit) {
                return Err("STIX pattern has an incomplete qualifier");
            }
            self.pos += 1;
            if second {
                self.literal()?;
            }
        }
    }

    /// comparison_expr := comparison_term ((AND | OR) comparison_term)*
    fn comparison_expr(&mut self, depth: usize) -> Result<(), &'static str> {
        if depth > MAX_DEPTH {
            return Err("STIX pattern nested too deeply");
        }
        self.comparison_term(depth)?;
        loop {
            if self.keyword("OR") {
                self.pos += 1;
            } else if self.keyword("AND") {
                self.simple = false;
                self.pos += 1;
            } else {
                return Ok(());
            }
            self.comparison_term(depth)?;
        }
    }

    /// comparison_term := '(' comparison_expr ')' | EXISTS path | path [NOT] op value
    fn comparison_term(&mut self, depth: usize) -> Result<(), &'static str> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.comparison_expr(depth + 1)?;
            return self.expect(Tok::RParen, "STIX pattern is missing ')'");
        }
        if self.keyword("EXISTS") {
            self.simple = false;
            self.pos += 1;
            return self.path().map(drop);
        }
        let path = self.path()?;
        if self.keyword("NOT") {
            self.simple = false;
            self.pos += 1;
        }
        match self.bump() {
            Some(Tok::Eq) => match self.literal()? {
                Some(v) => self.comps.push((path, v)),
                None => self.simple = false,
            },
            Some(Tok::Op) => {
                self.simple = false;
                self.literal()?;
            }
            Some(Tok::Word(w))
                if ["MATCHES", "LIKE", "ISSUBSET", "ISSUPERSET"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.simple = false;
                self.literal()?;
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                self.simple = false;
                self.expect(Tok::LParen, "STIX pattern IN needs '('")?;
                loop {
                    self.literal()?;
                    match self.bump() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RParen) => break,
                        _ => return Err("STIX pattern IN list is malformed"),
                    }
                }
            }
            _ => return Err("STIX pattern has a comparison without an operator"),
        }
        Ok(())
    }

    /// An object path `type:property…`.
    fn path(&mut self) -> Result<String, &'static str> {
        match self.bump() {
            Some(Tok::Word(w)) if is_object_path(w) => Ok(w.clone()),
            _ => Err("STIX pattern has a comparison without an object path"),
        }
    }

    /// A literal: Some(text) for a string, None for numbers, booleans and typed literals.
    fn literal(&mut self) -> Result<Option<String>, &'static str> {
        match self.bump() {
            Some(Tok::Str) => Ok(self.next_str()),
            Some(Tok::Word(w)) if is_number(w) || w == "true" || w == "false" => Ok(None),
            _ => Err("STIX pattern has a comparison without a valid value"),
        }
    }
}

/// `object-type:property` with a lowercase type of `[a-z0-9-]` (custom `x-` types included).
fn is_object_path(w: &str) -> bool {
    match w.split_once(':') {
        Some((ty, prop)) => {
            !ty.is_empty()
                && ty
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !prop.is_empty()
        }
        None => false,
    }
}

fn is_number(w: &str) -> bool {
    let d = w.strip_prefix(['-', '+']).unwrap_or(w);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}
