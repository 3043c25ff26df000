//! systemd's unit syntax (systemd.syntax(7), systemd.unit(5)) read into a
//! typed unit: sections, continuation lines, comments, quoting, the
//! specifiers, the `-@+!:` prefixes of Exec lines, drop-ins merged in
//! systemd's order and template instances (`name@inst.service`).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where systemd looks for units, highest priority first (relative to
/// the root the program works on).
pub const SEARCH_PATH: &[&str] = &[
    "etc/systemd/system",
    "run/systemd/system",
    "usr/local/lib/systemd/system",
    "lib/systemd/system",
    "usr/lib/systemd/system",
];

/// Unit files are small; anything larger is not a unit.
const MAX_UNIT: usize = 256 * 1024;

/// One `Key=Value` line, with the section it stands in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub section: String,
    pub key: String,
    pub value: String,
}

/// Reads the lines of a unit file (systemd.syntax(7)): `[Section]`
/// headers, `Key=Value`, comments (`#`, `;` at the start of a line, also
/// inside a continuation), and lines continued by a trailing backslash
/// (the backslash becomes a space).
pub fn parse_entries(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_some() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        let mut joined = match pending.take() {
            Some(mut p) => {
                p.push_str(line);
                p
            }
            None => line.to_string(),
        };
        if let Some(stripped) = joined.strip_suffix('\\') {
            if !stripped.ends_with('\\') {
                let mut s = stripped.to_string();
                s.push(' ');
                pending = Some(s);
                continue;
            }
        }
        joined = joined.trim().to_string();
        if joined.is_empty() || joined.starts_with('#') || joined.starts_with(';') {
            continue;
        }
        if joined.starts_with('[') {
            match joined.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(name) => section = name.to_string(),
                None => return Err(format!("line {}: bad section header", n + 1)),
            }
            continue;
        }
        match joined.split_once('=') {
            Some((k, v)) => out.push(Entry {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            }),
            None => return Err(format!("line {}: not an assignment", n + 1)),
        }
    }
    if let Some(p) = pending {
        let p = p.trim();
        if let Some((k, v)) = p.split_once('=') {
            out.push(Entry {
                section,
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            });
        }
    }
    Ok(out)
}

/// A unit's name split up: `foo@bar.service` is prefix `foo`, instance
/// `bar`, suffix `service`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitName {
    pub full: String,
    pub prefix: String,
    pub instance: Option<String>,
    pub suffix: String,
}

impl UnitName {
    pub fn parse(name: &str) -> Option<UnitName> {
        let name = if name.contains('.') {
            name.to_string()
        } else {
            format!("{name}.service")
        };
        let (stem, suffix) = name.rsplit_once('.')?;
        if stem.is_empty() || stem.contains('/') || stem.starts_with('.') {
            return None;
        }
        let (prefix, instance) = match stem.split_once('@') {
            Some((p, i)) => (p.to_string(), Some(i.to_string())),
            None => (stem.to_string(), None),
        };
        Some(UnitName {
            full: name.clone(),
            prefix,
            instance,
            suffix: suffix.to_string(),
        })
    }

    /// `foo@.service` for an instance, else the name itself.
    pub fn template(&self) -> String {
        match &self.instance {
            Some(_) => format!("{}@.{}", self.prefix, self.suffix),
            None => self.full.clone(),
        }
    }

    /// The name without its suffix (`%N`).
    pub fn stem(&self) -> String {
        match &self.instance {
            Some(i) => format!("{}@{}", self.prefix, i),
            None => self.prefix.clone(),
        }
    }
}

/// systemd's unescaping of a name (`%I`, `%P`): `-` is `/`, `\xHH` a byte.
pub fn unescape_name(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' {
            out.push(b'/');
        } else if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Ok(v) = u8::from_str_radix(&s[i + 2..i + 4], 16) {
                out.push(v);
                i += 4;
                continue;
            }
            out.push(b[i]);
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Expands the specifiers systemd.unit(5) lists that are known when the
/// unit is converted; an unknown one is kept as it stands and reported.
pub fn expand_specifiers(value: &str, name: &UnitName, unknown: &mut Vec<char>) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(s) = chars.next() else {
            out.push('%');
            break;
        };
        let inst = name.instance.clone().unwrap_or_default();
        match s {
            '%' => out.push('%'),
            'n' => out.push_str(&name.full),
            'N' => out.push_str(&name.stem()),
            'p' => out.push_str(&name.prefix),
            'P' => out.push_str(&unescape_name(&name.prefix)),
            'i' => out.push_str(&inst),
            'I' => out.push_str(&unescape_name(&inst)),
            'j' => out.push_str(name.prefix.rsplit('-').next().unwrap_or("")),
            'f' => {
                let base = if inst.is_empty() { &name.prefix } else { &inst };
                let u = unescape_name(base);
                if !u.starts_with('/') {
                    out.push('/');
                }
                out.push_str(&u);
            }
            't' => out.push_str("/run"),
            'S' => out.push_str("/var/lib"),
            'C' => out.push_str("/var/cache"),
            'L' => out.push_str("/var/log"),
            'E' => out.push_str("/etc"),
            'T' => out.push_str("/tmp"),
            'V' => out.push_str("/var/tmp"),
            other => {
                unknown.push(other);
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

/// A piece of a word of an Exec line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    /// `$NAME` (braced false: as a word of its own it splits at spaces)
    /// or `${NAME}` (one word).
    Var {
        name: String,
        braced: bool,
    },
}

pub type Word = Vec<Seg>;

/// One `ExecStart=`-style command with its prefixes (systemd.service(5),
/// "Command lines").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exec {
    /// `-`: a failure is not an error.
    pub ignore_failure: bool,
    /// `@`: the second word is argv[0].
    pub argv0: Option<Word>,
    /// `+`: run with full privileges (no User=, no sandbox).
    pub full_privileges: bool,
    /// `!` or `!!`: no User= change, the sandbox still applies.
    pub keep_user: bool,
    /// `:`: no `$VAR` substitution.
    pub no_env: bool,
    pub words: Vec<Word>,
}

/// Splits an Exec value: prefixes, then words separated by spaces, with
/// double and single quotes and C escapes; `$$` is a `$`.
pub fn parse_exec(value: &str) -> Result<Exec, String> {
    let mut e = Exec::default();
    let mut rest = value.trim_start();
    let mut at = false;
    while let Some(c) = rest.chars().next() {
        match c {
            '-' => e.ignore_failure = true,
            '@' => at = true,
            '+' => e.full_privileges = true,
            '!' => e.keep_user = true,
            ':' => e.no_env = true,
            '|' => return Err("the | prefix (a login shell) is not supported".into()),
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut words = split_words(rest, e.no_env)?;
    if at {
        if words.len() < 2 {
            return Err("@ needs a program and an argv[0]".into());
        }
        let argv0 = words.remove(1);
        e.argv0 = Some(argv0);
    }
    // A lone ";" separated commands in old systemd; nobody relies on it.
    if words
        .iter()
        .any(|w| matches!(w.as_slice(), [Seg::Lit(s)] if s == ";"))
    {
        return Err("several commands on one line (;) are not supported".into());
    }
    if words.is_empty() {
        return Err("empty command".into());
    }
    e.words = words;
    Ok(e)
}

fn split_words(s: &str, no_env: bool) -> Result<Vec<Word>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut word: Word = Vec::new();
        let mut lit = String::new();
        let mut quote: Option<char> = None;
        while i < chars.len() {
            let c = chars[i];
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            if Some(c) == quote {
                quote = None;
                i += 1;
                continue;
            }
            if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
                i += 1;
                continue;
            }
            if c == '\\' && i + 1 < chars.len() {
                let (v, used) = unescape_c(&chars[i + 1..])?;
                lit.push_str(&v);
                i += 1 + used;
                continue;
            }
            if c == '$' && !no_env {
                if chars.get(i + 1) == Some(&'$') {
                    lit.push('$');
                    i += 2;
                    continue;
                }
                if chars.get(i + 1) == Some(&'{') {
                    if let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') {
                        let name: String = chars[i + 2..i + 2 + end].iter().collect();
                        if is_var_name(&name) {
                            flush(&mut word, &mut lit);
                            word.push(Seg::Var { name, braced: true });
                            i += 3 + end;
                            continue;
                        }
                    }
                } else {
                    let name: String = chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .collect();
                    if is_var_name(&name) {
                        flush(&mut word, &mut lit);
                        word.push(Seg::Var {
                            name: name.clone(),
                            braced: false,
                        });
                        i += 1 + name.chars().count();
                        continue;
                    }
                }
            }
            lit.push(c);
            i += 1;
        }
        if quote.is_some() {
            return Err("unterminated quote".into());
        }
        flush(&mut word, &mut lit);
        if word.is_empty() {
            word.push(Seg::Lit(String::new()));
        }
        words.push(literal_unbraced(word));
    }
    Ok(words)
}

/// systemd replaces `$NAME` only when it is a word of its own; inside a
/// longer word it stays as written (`${NAME}` is replaced anywhere).
fn literal_unbraced(word: Word) -> Word {
    if word.len() == 1 {
        return word;
    }
    let mut out: Word = Vec::new();
    let mut lit = String::new();
    for seg in word {
        match seg {
            Seg::Lit(l) => lit.push_str(&l),
            Seg::Var {
                name,
                braced: false,
            } => {
                lit.push('$');
                lit.push_str(&name);
            }
            v => {
                flush(&mut out, &mut lit);
                out.push(v);
            }
        }
    }
    flush(&mut out, &mut lit);
    out
}

fn flush(word: &mut Word, lit: &mut String) {
    if !lit.is_empty() {
        word.push(Seg::Lit(std::mem::take(lit)));
    }
}

fn is_var_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The C escapes systemd accepts in quoted and unquoted words.
fn unescape_c(rest: &[char]) -> Result<(String, usize), String> {
    let c = rest[0];
    let simple = match c {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        's' => Some(' '),
        '\\' | '"' | '\'' | ';' | ' ' | '$' => Some(c),
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((v.to_string(), 1));
    }
    if c == 'x' && rest.len() >= 3 {
        let hex: String = rest[1..3].iter().collect();
        if let Ok(v) = u8::from_str_radix(&hex, 16) {
            return Ok(((v as char).to_string(), 3));
        }
    }
    Err(format!("unknown escape \\{c}"))
}

/// Splits a list value (systemd's "space-separated, quotes allowed"), for
/// Environment=, and the lists of names.
pub fn split_list(value: &str) -> Result<Vec<String>, String> {
    Ok(split_words(value, true)?
        .into_iter()
        .map(|w| {
            w.into_iter()
                .map(|s| match s {
                    Seg::Lit(l) => l,
                    Seg::Var { name, .. } => format!("${name}"),
                })
                .collect()
        })
        .collect())
}

/// systemd's booleans.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// A time span (systemd.time(7)) in milliseconds; `infinity` is None.
pub fn parse_timespan_ms(v: &str) -> Option<Option<u64>> {
    let v = v.trim();
    if v == "infinity" {
        return Some(None);
    }
    let mut total: f64 = 0.0;
    let mut rest = v;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        rest = rest.trim_start();
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "" | "s" | "sec" | "second" | "seconds" => 1000.0,
            "ms" | "msec" => 1.0,
            "us" | "usec" => 0.001,
            "m" | "min" | "minute" | "minutes" => 60_000.0,
            "h" | "hr" | "hour" | "hours" => 3_600_000.0,
            "d" | "day" | "days" => 86_400_000.0,
            _ => return None,
        };
        total += n * scale;
    }
    Some(Some(total.round() as u64))
}

/// Finds a unit file and its drop-ins under `root`. For an instance,
/// `foo@bar.service` is used if it exists, else the template
/// `foo@.service`. A unit linked to /dev/null is masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    File {
        path: PathBuf,
        dropins: Vec<PathBuf>,
    },
    Masked(PathBuf),
    Missing,
}

pub fn find(root: &Path, name: &UnitName) -> Found {
    let mut main = None;
    'outer: for cand in [name.full.clone(), name.template()] {
        for dir in SEARCH_PATH {
            let p = root.join(dir).join(&cand);
            if let Ok(meta) = fs::symlink_metadata(&p) {
                if meta.file_type().is_symlink() {
                    if let Ok(t) = fs::read_link(&p) {
                        if t == Path::new("/dev/null") {
                            return Found::Masked(p);
                        }
                    }
                }
                main = Some(p);
                break 'outer;
            }
        }
    }
    let Some(path) = main else {
        return Found::Missing;
    };
    Found::File {
        path,
        dropins: dropins(root, name),
    }
}

/// Drop-in `.conf` files in systemd's order: from `NAME.d` directories of
/// the instance, the template, each dash-prefix (`foo-.service.d`) and the
/// type (`service.d`), in every directory of the search path; of files
/// with the same name the one of highest priority is used, and all are
/// applied sorted by file name.
pub fn dropins(root: &Path, name: &UnitName) -> Vec<PathBuf> {
    let mut dnames = vec![format!("{}.d", name.full)];
    if name.instance.is_some() {
        dnames.push(format!("{}.d", name.template()));
    }
    let parts: Vec<&str> = name.prefix.split('-').collect();
    for n in (1..parts.len()).rev() {
        dnames.push(format!("{}-.{}.d", parts[..n].join("-"), name.suffix));
    }
    dnames.push(format!("{}.d", name.suffix));
    let mut chosen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in SEARCH_PATH {
        for d in &dnames {
            let Ok(rd) = fs::read_dir(root.join(dir).join(d)) else {
                continue;
            };
            let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
            names.sort();
            for f in names {
                let f = f.to_string_lossy().into_owned();
                if f.ends_with(".conf") && !chosen.contains_key(&f) {
                    chosen.insert(f.clone(), root.join(dir).join(d).join(&f));
                }
            }
        }
    }
    chosen.into_values().collect()
}

/// Reads a unit file: regular file (a link is followed: units in /etc are
/// often links to /lib), bounded.
pub fn read_unit_file(path: &Path) -> io::Result<String> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut f = fs::File::open(path)?;
    let mut buf = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(&mut f, MAX_UNIT as u64), &mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Loads a unit with its drop-ins: the entries of the main file, then of
/// each drop-in, in order.
pub fn load(root: &Path, name: &UnitName) -> Result<(Vec<Entry>, Vec<PathBuf>), String> {
    match find(root, name) {
        Found::Missing => Err(format!("{}: no such unit", name.full)),
        Found::Masked(p) => Err(format!("{}: masked ({})", name.full, p.display())),
        Found::File { path, dropins } => {
            let mut entries = Vec::new();
            let mut sources = Vec::new();
            for p in std::iter::once(&path).chain(dropins.iter()) {
                let text = read_unit_file(p).map_err(|e| format!("{}: {}", p.display(), e))?;
                entries
                    .extend(parse_entries(&text).map_err(|e| format!("{}: {}", p.display(), e))?);
                sources.push(p.clone());
            }
            Ok((entries, sources))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_comments() {
        let e = parse_entries(
            "[Service]\n# c\nExecStart=/bin/a \\\n  # inside\n  -x \\\n  -y\n; semi\nUser = u \n",
        )
        .unwrap();
        // the backslash becomes a space, beside the line's own
        assert_eq!(e[0].value, "/bin/a  -x  -y");
        assert_eq!(e[1].key, "User");
        assert_eq!(e[1].value, "u");
    }

    #[test]
    fn exec_prefixes_quotes_and_vars() {
        let e = parse_exec("-@/bin/sh sh -c 'echo \"$X\" ${Y}' $OPTS a\\ b $$").unwrap();
        assert!(e.ignore_failure);
        assert_eq!(e.argv0, Some(vec![Seg::Lit("sh".into())]));
        assert_eq!(e.words[1], vec![Seg::Lit("-c".into())]);
        assert_eq!(
            e.words[2],
            // $X inside a longer word stays as written, ${Y} is replaced
            vec![
                Seg::Lit("echo \"$X\" ".into()),
                Seg::Var {
                    name: "Y".into(),
                    braced: true
                }
            ]
        );
        assert_eq!(
            e.words[3],
            vec![Seg::Var {
                name: "OPTS".into(),
                braced: false
            }]
        );
        assert_eq!(e.words[4], vec![Seg::Lit("a b".into())]);
        assert_eq!(e.words[5], vec![Seg::Lit("$".into())]);
        let e = parse_exec("+:/bin/echo $X").unwrap();
        assert!(e.full_privileges && e.no_env);
        assert_eq!(e.words[1], vec![Seg::Lit("$X".into())]);
    }

    #[test]
    fn specifiers() {
        let n = UnitName::parse("postgresql@15-main.service").unwrap();
        let mut unk = Vec::new();
        assert_eq!(
            expand_specifiers("%n %N %p %i %I %t/%p 100%% %Z", &n, &mut unk),
            "postgresql@15-main.service postgresql@15-main postgresql 15-main 15/main /run/postgresql 100% %Z"
        );
        assert_eq!(unk, vec!['Z']);
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan_ms("90"), Some(Some(90_000)));
        assert_eq!(parse_timespan_ms("1min 30s"), Some(Some(90_000)));
        assert_eq!(parse_timespan_ms("500ms"), Some(Some(500)));
        assert_eq!(parse_timespan_ms("infinity"), Some(None));
        assert_eq!(parse_timespan_ms("x"), None);
    }
}
