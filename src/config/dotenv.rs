//! `.env` read exactly as the old portal's python-dotenv reads it, so its file works
//! unchanged: no `$NAME` expansion (every Werkzeug hash contains `$`), unquoted values may
//! hold spaces (`ERP_DB_DRIVER=ODBC Driver 17 for SQL Server`), the same quoting and
//! escape rules, and only `${NAME}` / `${NAME:-default}` are expanded (python-dotenv's
//! default interpolation), never inside single quotes.
//!
//! Rules, per statement:
//! - leading blank lines and whitespace are skipped; an optional `export ` prefix;
//! - a line starting with `#` is a comment;
//! - the key is `'quoted'` or runs up to `=`, `#` or whitespace;
//! - no `=`: the key has no value and is ignored (python-dotenv yields None);
//! - `'single'` quotes: only `\\` and `\'` are escapes; may span lines; no expansion;
//! - `"double"` quotes: `\\ \' \" \a \b \f \n \r \t \v` are escapes; may span lines;
//! - unquoted: up to the end of the line, a ` #` (whitespace then `#`) starts a comment,
//!   trailing whitespace is dropped;
//! - a statement that does not parse is skipped with a warning naming its line.

use std::collections::HashMap;

/// One `KEY=value` of the file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: String,
    pub value: String,
    /// 1-based line where the statement starts.
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub bindings: Vec<Binding>,
    /// Statements that could not be parsed (python-dotenv warns and skips them too).
    pub warnings: Vec<String>,
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !f(c) {
                break;
            }
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }
    fn line_at(&self, pos: usize) -> usize {
        1 + self.s[..pos.min(self.s.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
    }
    fn skip_rest_of_line(&mut self) {
        self.eat_while(|c| c != b'\n' && c != b'\r');
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
    }
}

fn inline_space(c: u8) -> bool {
    c == b' ' || c == b'\t' || c == 0x0b || c == 0x0c
}

/// A quoted value: the raw text between the quotes (escapes still in), or `None` when
/// the closing quote is missing.
fn quoted<'a>(cur: &mut Cursor<'a>, quote: u8) -> Option<&'a str> {
    cur.pos += 1;
    let start = cur.pos;
    while let Some(c) = cur.peek() {
        if c == b'\\' && cur.s.get(cur.pos + 1) == Some(&quote) {
            cur.pos += 2;
            continue;
        }
        if c == quote {
            let raw = std::str::from_utf8(&cur.s[start..cur.pos]).ok()?;
            cur.pos += 1;
            return Some(raw);
        }
        cur.pos += 1;
    }
    None
}

fn unescape(raw: &str, double: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match (chars.peek().copied(), double) {
            (Some('\\'), _) => Some('\\'),
            (Some('\''), _) => Some('\''),
            (Some('"'), true) => Some('"'),
            (Some('a'), true) => Some('\x07'),
            (Some('b'), true) => Some('\x08'),
            (Some('f'), true) => Some('\x0c'),
            (Some('n'), true) => Some('\n'),
            (Some('r'), true) => Some('\r'),
            (Some('t'), true) => Some('\t'),
            (Some('v'), true) => Some('\x0b'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                chars.next();
                out.push(d);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A statement's key, after an optional `export `: bare or single-quoted.
fn key(cur: &mut Cursor) -> Option<String> {
    let rest = &cur.s[cur.pos..];
    if rest.starts_with(b"export") && rest.get(6).is_some_and(|&c| inline_space(c)) {
        cur.pos += 6;
        cur.eat_while(inline_space);
    }
    if cur.peek() == Some(b'\'') {
        quoted(cur, b'\'').map(str::to_owned)
    } else {
        let k = cur.eat_while(|c| c != b'=' && c != b'#' && !c.is_ascii_whitespace());
        (!k.is_empty()).then(|| k.to_owned())
    }
}

/// An unquoted value: the rest of the line, less a comment (python-dotenv:
/// `re.sub(r"\s+#.*", "", part).rstrip()`).
fn unquoted(cur: &mut Cursor) -> String {
    let line = cur.eat_while(|c| c != b'\n' && c != b'\r');
    let mut cut = line.len();
    let bytes = line.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b'#' && bytes[i - 1].is_ascii_whitespace() {
            let mut j = i - 1;
            while j > 0 && bytes[j - 1].is_ascii_whitespace() {
                j -= 1;
            }
            cut = j;
            break;
        }
    }
    line[..cut].trim_end().to_owned()
}

/// Parses the text of a `.env` file (no expansion yet).
pub fn parse(text: &str) -> Parsed {
    let mut cur = Cursor {
        s: text.as_bytes(),
        pos: 0,
    };
    let mut out = Parsed::default();
    loop {
        cur.eat_while(|c| c.is_ascii_whitespace());
        if cur.peek().is_none() {
            break;
        }
        let start = cur.pos;
        if cur.peek() == Some(b'#') {
            cur.skip_rest_of_line();
            continue;
        }
        let key = key(&mut cur);
        let Some(key) = key else {
            out.warnings.push(format!(
                ".env line {}: could not parse this statement; it is ignored",
                cur.line_at(start)
            ));
            cur.pos = start;
            cur.skip_rest_of_line();
            continue;
        };
        cur.eat_while(inline_space);
        if cur.peek() != Some(b'=') {
            // `KEY` alone: python-dotenv yields None, which load_dotenv skips.
            cur.skip_rest_of_line();
            continue;
        }
        cur.pos += 1;
        cur.eat_while(inline_space);
        let value = match cur.peek() {
            Some(q @ (b'\'' | b'"')) => {
                quoted(&mut cur, q).map(|raw| Value::Quoted(unescape(raw, q == b'"'), q == b'"'))
            }
            None | Some(b'\n') | Some(b'\r') => Some(Value::Plain(String::new())),
            Some(_) => Some(Value::Plain(unquoted(&mut cur))),
        };
        // After the value: optional whitespace and comment, then the end of the line.
        cur.eat_while(inline_space);
        let trailing_ok = match cur.peek() {
            None | Some(b'\n') | Some(b'\r') => true,
            Some(b'#') => {
                cur.skip_rest_of_line();
                true
            }
            Some(_) => false,
        };
        match value {
            Some(v) if trailing_ok => {
                out.bindings.push(Binding {
                    key,
                    value: v.encode(),
                    line: cur.line_at(start),
                });
                cur.skip_rest_of_line();
            }
            _ => {
                out.warnings.push(format!(
                    ".env line {}: could not parse the value of {key}; it is ignored",
                    cur.line_at(start)
                ));
                cur.pos = start;
                cur.skip_rest_of_line();
            }
        }
    }
    out
}

enum Value {
    Plain(String),
    /// The unescaped text, and whether it was double-quoted (expandable).
    Quoted(String, bool),
}

/// Single-quoted values are marked so that expansion leaves them alone.
const LITERAL_MARK: char = '\u{0}';

impl Value {
    fn encode(self) -> String {
        match self {
            Value::Plain(s) | Value::Quoted(s, true) => s,
            Value::Quoted(s, false) => format!("{LITERAL_MARK}{s}"),
        }
    }
}

/// Expands `${NAME}` and `${NAME:-default}` as python-dotenv does by default: from the
/// process environment first, then from the values above in the file; unknown names
/// become empty. `$NAME` without braces is left as it is.
fn expand(value: &str, earlier: &HashMap<String, String>, env: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(end) = rest[start + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 2..start + 2 + end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let found = env
            .get(name)
            .or_else(|| earlier.get(name))
            .filter(|v| !v.is_empty() || default.is_none());
        match (found, default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {}
        }
        rest = &rest[start + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The file's values after expansion, later keys overriding earlier ones.
pub fn values(parsed: &Parsed, env: &HashMap<String, String>) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for b in &parsed.bindings {
        let value = match b.value.strip_prefix(LITERAL_MARK) {
            Some(literal) => literal.to_owned(),
            None => expand(&b.value, &out, env),
        };
        out.insert(b.key.clone(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> HashMap<String, String> {
        let p = parse(text);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        values(&p, &HashMap::new())
    }

    #[test]
    fn werkzeug_hashes_and_unquoted_spaces_survive() {
        let hash = "scrypt:32768:8:1$K3Xq1aBcDeFg$0a1b2c3d4e5f";
        let v = load(&format!(
            "# old template\nADMIN_PASSWORD_HASH={hash}\nERP_DB_DRIVER=ODBC Driver 17 for SQL Server\nDB_PASSWORD=pa$$word\n"
        ));
        assert_eq!(v["ADMIN_PASSWORD_HASH"], hash);
        assert_eq!(v["ERP_DB_DRIVER"], "ODBC Driver 17 for SQL Server");
        assert_eq!(v["DB_PASSWORD"], "pa$$word");
    }

    #[test]
    fn quoting_comments_and_export_as_python_dotenv() {
        let v = load(concat!(
            "export SECRET_KEY = 'abc'\n",
            "A='single $HOME \\' \\n'\n",
            "B=\"double \\\"q\\\" \\n end\"\n",
            "C=value # a comment\n",
            "D=value#not-a-comment\n",
            "E=\n",
            "F=   padded   \n",
            "G=\"multi\nline\"\n",
            "LONE_KEY\n",
            "H='x' # comment after quotes\n",
        ));
        assert_eq!(v["A"], "single $HOME ' \\n");
        assert_eq!(v["B"], "double \"q\" \n end");
        assert_eq!(v["C"], "value");
        assert_eq!(v["D"], "value#not-a-comment");
        assert_eq!(v["E"], "");
        assert_eq!(v["F"], "padded");
        assert_eq!(v["G"], "multi\nline");
        assert_eq!(v["H"], "x");
        assert!(!v.contains_key("LONE_KEY"));
        assert_eq!(v["SECRET_KEY"], "abc");
        // A quoted value followed by more text does not parse: skipped with a warning.
        let p = parse("K='it''s'\nL=ok\n");
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("line 1"));
        let v = values(&p, &HashMap::new());
        assert!(!v.contains_key("K"));
        assert_eq!(v["L"], "ok");
    }

    #[test]
    fn only_braced_variables_expand_and_the_environment_wins() {
        let env: HashMap<String, String> = [("HOSTNAME".to_owned(), "from-env".to_owned())].into();
        let p = parse(
            "BASE=/srv\nDIR=${BASE}/data\nX=${HOSTNAME}\nY=$BASE\nZ=${MISSING:-fallback}\nQ='${BASE}'\n",
        );
        let v = values(&p, &env);
        assert_eq!(v["DIR"], "/srv/data");
        assert_eq!(v["X"], "from-env");
        assert_eq!(v["Y"], "$BASE");
        assert_eq!(v["Z"], "fallback");
        assert_eq!(v["Q"], "${BASE}");
    }

    #[test]
    fn a_broken_statement_is_skipped_with_its_line() {
        let p = parse("A=1\nB=\"unterminated\nC=3\n");
        // The unterminated quote swallows nothing: B is skipped, parsing resumes.
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("line 2"), "{:?}", p.warnings);
        let v = values(&p, &HashMap::new());
        assert_eq!(v["A"], "1");
        assert_eq!(v["C"], "3");
        assert!(!v.contains_key("B"));
    }
}
