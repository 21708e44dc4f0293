//! Reading a configuration file so that the admin learns every problem at once: each with
//! its line, its key, and in plain words what is expected (`email` 是列表：
//! `email = ["a@x.cn"]`), never serde's "invalid type: string, expected a sequence".
//!
//! The file is parsed once for its syntax (with spans, for the lines), then deserialized as
//! a value tree; each error's key path comes from `serde_path_to_error`. The key at fault is
//! taken out (or a missing one filled in) and the rest deserialized again, until it goes
//! through: one problem per key, all of them; then what does not fit together in the rest
//! ([`Config::problems`]).
//!
//! A value read as text and refused by its own reader (`"25:00"` for a time of day, see
//! `values`) is said in the words `config check` has always used, after its line:
//! `第 5 行 [mail] digest_time = "25:00": use HH:MM, e.g. "08:00"`.

use serde_path_to_error::Segment;
use toml::de::{DeTable, DeValue};

use super::Config;
use super::values::VALUE_MESSAGE;

/// Problems found one after the other, at most (a file that bad needs reading, not more
/// messages).
const MAX_PROBLEMS: usize = 50;

/// The configuration in `text`, or every problem found, each one line for people.
pub fn parse(text: &str) -> Result<Config, Vec<String>> {
    // Over 80 lines on purpose: one loop: each round reads the table, says one problem and repairs
    // the table for the next round; the state (table, problems seen) is the loop's.
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        return Err(syntax
            .iter()
            .map(|e| {
                let at = e.span().map(|s| line_of(text, s.start));
                let what = e.message().lines().next().unwrap_or("").trim().to_string();
                format!(
                    "{}TOML 写法有误：{what}",
                    at.map(|l| format!("第 {l} 行：")).unwrap_or_default()
                )
            })
            .collect());
    }
    let mut value: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => return Err(vec![e.message().to_string()]),
    };
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut filled = false;
    loop {
        let attempt =
            serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(value.clone()));
        let err = match attempt {
            Ok(config) if problems.is_empty() => return Ok(config),
            // The rest, the keys at fault taken out: what does not fit together there too
            // (unless a placeholder was filled in, which would only add noise).
            Ok(config) if !filled => {
                problems.extend(config.problems());
                return Err(problems);
            }
            Ok(_) => return Err(problems),
            Err(e) => e,
        };
        let mut path: Vec<Segment> = err.path().iter().cloned().collect();
        let message = err.inner().message().to_string();
        // An unknown or missing key is reported at its table: the key is in the message.
        let named = backticked(&message);
        let unknown = message.starts_with("unknown field");
        let missing = message.starts_with("missing field");
        if let (true, Some(key)) = (unknown || missing, &named)
            && !matches!(path.last(), Some(Segment::Map { key: last }) if last == key)
        {
            path.push(Segment::Map { key: key.clone() });
        }
        let line = span_of(&doc, &path).map(|at| line_of(text, at));
        let shown = show_path(&path);
        let actual = get(&value, &path).cloned();
        let key = match path.last() {
            Some(Segment::Map { key }) => key.clone(),
            _ => shown.clone(),
        };
        let problem = match (message.strip_prefix(VALUE_MESSAGE), line) {
            (Some(why), Some(l)) => format!("第 {l} 行 {} = {why}", named_as_before(&value, &path)),
            (Some(why), None) => format!("{} = {why}", named_as_before(&value, &path)),
            (None, Some(l)) => {
                format!(
                    "第 {l} 行 {shown}：{}",
                    plain_words(&message, &key, actual.as_ref())
                )
            }
            (None, None) => format!("{shown}：{}", plain_words(&message, &key, actual.as_ref())),
        };
        if !seen.insert(problem.clone()) || problems.len() >= MAX_PROBLEMS {
            return Err(problems);
        }
        problems.push(problem);
        // Go on with the rest: the key at fault out, a missing one filled in.
        filled |= missing;
        let fixed = if missing {
            fill(&mut value, &path)
        } else {
            remove(&mut value, &path)
        };
        if !fixed {
            return Err(problems);
        }
    }
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1
}

/// The first `name` in backticks of a serde message (the unknown or missing field, the
/// unknown variant).
fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// All the names in backticks after the first (the expected ones).
fn expected_names(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// `[mail.smtp] port`, `[[agency]] 第 2 个 email`, `settle_ms`.
fn show_path(path: &[Segment]) -> String {
    let mut tables: Vec<String> = Vec::new();
    let mut nth: Option<usize> = None;
    let Some((last, parents)) = path.split_last() else {
        return "（整个文件）".into();
    };
    for seg in parents {
        match seg {
            Segment::Map { key } => tables.push(key.clone()),
            Segment::Seq { index } => nth = Some(index + 1),
            _ => {}
        }
    }
    let key = match last {
        Segment::Map { key } => key.clone(),
        Segment::Seq { index } => format!("第 {} 项", index + 1),
        _ => String::new(),
    };
    match (tables.is_empty(), nth) {
        (true, _) => key,
        (false, Some(n)) => format!("[[{}]] 第 {n} 个 {key}", tables.join(".")),
        (false, None) => format!("[{}] {key}", tables.join(".")),
    }
}

/// A key as the checks of [`Config::problems`] name it: `[mail] digest_time`, `settle_ms`,
/// `[[agency]] "xss": deadline` (an agency by its folder).
fn named_as_before(table: &toml::Table, path: &[Segment]) -> String {
    let Some((Segment::Map { key }, parents)) = path.split_last() else {
        return show_path(path);
    };
    let tables: Vec<&str> = parents
        .iter()
        .filter_map(|seg| match seg {
            Segment::Map { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    if tables.is_empty() {
        return key.clone();
    }
    if !matches!(parents.last(), Some(Segment::Seq { .. })) {
        return format!("[{}] {key}", tables.join("."));
    }
    let mut item = parents.to_vec();
    item.push(Segment::Map {
        key: "folder".into(),
    });
    match get(table, &item) {
        Some(toml::Value::String(folder)) => {
            format!("[[{}]] {folder:?}: {key}", tables.join("."))
        }
        _ => show_path(path),
    }
}

/// The span's start of the key (or value) at `path` in the parsed document.
fn span_of(doc: &toml::Spanned<DeTable<'_>>, path: &[Segment]) -> Option<usize> {
    let mut table: &DeTable<'_> = doc.get_ref();
    let mut here = doc.span().start;
    let mut value: Option<&toml::Spanned<DeValue<'_>>> = None;
    for seg in path {
        match seg {
            Segment::Map { key } => {
                if let Some(v) = value {
                    table = match v.get_ref() {
                        DeValue::Table(t) => t,
                        _ => return Some(here),
                    };
                }
                let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == key) else {
                    return Some(here);
                };
                here = k.span().start;
                value = Some(v);
            }
            Segment::Seq { index } => {
                let Some(DeValue::Array(items)) = value.map(|v| v.get_ref()) else {
                    return Some(here);
                };
                let item = items.get(*index)?;
                here = item.span().start;
                value = Some(item);
            }
            _ => {}
        }
    }
    Some(here)
}

fn get<'a>(table: &'a toml::Table, path: &[Segment]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let Segment::Map { key } = first else {
        return None;
    };
    let mut v = table.get(key)?;
    for seg in rest {
        v = match (seg, v) {
            (Segment::Map { key }, toml::Value::Table(t)) => t.get(key)?,
            (Segment::Seq { index }, toml::Value::Array(a)) => a.get(*index)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The table holding the last key of `path`.
fn parent_mut<'a>(table: &'a mut toml::Table, path: &[Segment]) -> Option<&'a mut toml::Table> {
    let mut t = table;
    let (_, parents) = path.split_last()?;
    let mut i = 0;
    while i < parents.len() {
        let Segment::Map { key } = &parents[i] else {
            return None;
        };
        let mut v = t.get_mut(key)?;
        while let Some(Segment::Seq { index }) = parents.get(i + 1) {
            v = match v {
                toml::Value::Array(a) => a.get_mut(*index)?,
                _ => return None,
            };
            i += 1;
        }
        t = match v {
            toml::Value::Table(inner) => inner,
            _ => return None,
        };
        i += 1;
    }
    Some(t)
}

/// Takes the key at `path` out; an array element's fault removes the array's key.
fn remove(table: &mut toml::Table, path: &[Segment]) -> bool {
    let path: Vec<Segment> = match path.last() {
        Some(Segment::Seq { .. }) => path[..path.len() - 1].to_vec(),
        _ => path.to_vec(),
    };
    let Some(Segment::Map { key }) = path.last() else {
        return false;
    };
    parent_mut(table, &path).is_some_and(|t| t.remove(key).is_some())
}

/// Fills in a missing key with a placeholder, so that the rest can be read.
fn fill(table: &mut toml::Table, path: &[Segment]) -> bool {
    let Some(Segment::Map { key }) = path.last() else {
        return false;
    };
    parent_mut(table, path).is_some_and(|t| {
        t.insert(key.clone(), toml::Value::String("x".into()));
        true
    })
}

/// What serde said, in plain Chinese, with an example built from what was written.
fn plain_words(message: &str, key: &str, actual: Option<&toml::Value>) -> String {
    let written = actual.map(|v| v.to_string());
    let as_text = || match actual {
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    if message.starts_with("unknown field") {
        let known = expected_names(message);
        return format!(
            "不认识这个键（拼写错误？）{}",
            if known.is_empty() {
                String::new()
            } else {
                format!("；这里可用的键：{}", known.join("、"))
            }
        );
    }
    if message.starts_with("missing field") {
        return format!("缺少必填的键 {key}，例如 {key} = \"…\"");
    }
    if message.starts_with("unknown variant") {
        return format!(
            "不认识的取值 {}；可选：{}",
            written.unwrap_or_default(),
            expected_names(message).join("、")
        );
    }
    if message.contains("expected a sequence") {
        let example = match actual {
            Some(toml::Value::String(s)) => format!("{key} = [{:?}]", s),
            _ => format!("{key} = [\"a@x.cn\"]"),
        };
        return format!("{key} 是列表，要写在方括号里：{example}");
    }
    let integer = [
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "i8",
        "i16",
        "i32",
        "i64",
        "an integer",
    ];
    if integer
        .iter()
        .any(|t| message.contains(&format!("expected {t}")))
    {
        let digits = as_text();
        let example = if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            digits
        } else {
            "10".into()
        };
        return format!("应为不带引号的整数，例如 {key} = {example}");
    }
    if message.contains("expected a boolean") {
        return format!("应为 true 或 false（不带引号），例如 {key} = true");
    }
    if message.contains("expected a string") || message.contains("expected a borrowed string") {
        return format!("应为带引号的文字，例如 {key} = \"{}\"", as_text());
    }
    if message.contains("expected struct") || message.contains("expected a map") {
        return format!("应为一节 [{key}]，下面逐行写它的键");
    }
    format!("写法不合要求（{}）", message.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_at_once_with_its_line_key_and_plain_words() {
        let text = "settle_ms = \"2000\"\n\
                    watch = \"kernel\"\n\
                    [mail]\n\
                    receipt_files = \"yes\"\n\
                    [[agency]]\n\
                    folder = \"a\"\n\
                    name = \"甲\"\n\
                    email = \"a@x.cn\"\n\
                    [[agency]]\n\
                    folder = \"b\"\n\
                    nmae = \"乙\"\n";
        let problems = parse(text).expect_err("five problems");
        let all = problems.join("\n");
        for needle in [
            "第 1 行 settle_ms：应为不带引号的整数，例如 settle_ms = 2000",
            "第 2 行 watch：不认识的取值 \"kernel\"；可选：auto、poll",
            "第 4 行 [mail] receipt_files：应为 true 或 false",
            "第 8 行 [[agency]] 第 1 个 email：email 是列表，要写在方括号里：email = [\"a@x.cn\"]",
            "第 11 行 [[agency]] 第 2 个 nmae：不认识这个键",
            "[[agency]] 第 2 个 name：缺少必填的键 name",
        ] {
            assert!(all.contains(needle), "no {needle:?} in\n{all}");
        }
        assert!(!all.contains("invalid type"), "{all}");
        assert_eq!(problems.len(), 6, "{all}");
    }

    #[test]
    fn values_refused_by_their_reader_keep_their_words_and_gain_a_line() {
        let text = "settle_ms = 0\n\
                    [mail]\n\
                    digest_time = \"25:00\"\n\
                    [http]\n\
                    listen = \"localhost\"\n\
                    [[agency]]\n\
                    folder = \"xss\"\n\
                    name = \"甲\"\n\
                    deadline = \"2-15\"\n";
        let all = parse(text).expect_err("four problems").join("\n");
        for needle in [
            "第 3 行 [mail] digest_time = \"25:00\": use HH:MM, e.g. \"08:00\"",
            "第 5 行 [http] listen = \"localhost\": give an address and port, e.g. \"127.0.0.1:9464\"",
            "第 9 行 [[agency]] \"xss\": deadline = \"2-15\": use \"MM-DD\", e.g. \"02-15\"",
            "settle_ms must be at least 1",
        ] {
            assert!(all.contains(needle), "no {needle:?} in\n{all}");
        }
    }

    #[test]
    fn a_good_file_reads_as_before() {
        let text =
            "settle_ms = 500\n[[agency]]\nfolder = \"a\"\nname = \"甲\"\nemail = [\"a@x.cn\"]\n";
        let config = parse(text).expect("good");
        assert_eq!(config.settle_ms, 500);
        assert_eq!(config.agencies[0].email, ["a@x.cn"]);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let problems = parse("settle_ms = 5\ninbox = \"/srv\n").expect_err("syntax");
        assert!(problems[0].starts_with("第 2 行"), "{problems:?}");
    }
}
