//! What the original service's tables hold, read from the files an operator has: a MySQL
//! dump (as `mysqldump` writes it, one extended `INSERT ... VALUES (...),(...)` per
//! table, or as Navicat does, one `INSERT` per row) or a CSV file whose header row names
//! the columns.
//!
//! The rows are handed on one at a time ([`Rows`]) as the file is read, so that reading
//! holds a row, not the file: a dump may be one line of a hundred megabytes. `sqlparser`
//! tokenizes a whole text at once, and its tokens and syntax tree take tens of times the
//! text (docs/performance.md, "Reading a dump"), so it is given pieces: a statement's
//! head (`INSERT INTO users (...) VALUES`), each row (`(1, 'Jerry', ...)`), a `CREATE
//! TABLE`. What cuts the file into those pieces is [`Scanner`], which knows only where
//! MySQL's quotes and comments begin and end, so that a quote, a comma or a semicolon in
//! a name is just a character; the values themselves are what `sqlparser` reads them as
//! (its MySQL dialect: backslash escapes, doubled quotes). CSV is read by `csv`, a record
//! at a time. Only the `CREATE TABLE` (for the column order) and `INSERT` statements of
//! `users` and `roles` are looked into; everything else in a dump is passed over.
//!
//! A text that is no UTF-8 is kept as [`Cell::NotUtf8`], for the importer to report
//! rather than to import something else than the dump says.

use std::io::Read;
use std::sync::Arc;

use sqlparser::ast::{CreateTable, Statement};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// One value as the dump has it. Numbers are kept as their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
    /// A text whose bytes are no UTF-8 (a file saved as GBK, say), with U+FFFD for each
    /// run of bytes that is not: what it says is unknown, so it is only ever shown.
    NotUtf8(String),
}

/// One row, with where it is in the file (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line it starts on.
    pub line: u64,
    /// Its place among the rows of its INSERT (1 for the first), which tells apart the
    /// rows of one extended INSERT, all on one line.
    pub nth: usize,
    pub cells: Vec<Cell>,
}

/// Where a row is in the files: `users.sql:12`, or `dump.sql:40, row 7` in an extended
/// INSERT. The file's name is shared, so that a place costs no text of its own for each
/// of a dump's users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub source: Arc<str>,
    pub line: u64,
    pub nth: usize,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.nth {
            0 | 1 => write!(f, "{}:{}", self.source, self.line),
            nth => write!(f, "{}:{}, row {nth}", self.source, self.line),
        }
    }
}

/// A table as one INSERT (or a CSV file's header) describes it: its rows follow, each
/// with a value for every one of `columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The file it was read from.
    pub source: Arc<str>,
    /// As the dump names it, in lower case.
    pub name: String,
    pub columns: Vec<String>,
}

impl Table {
    /// The value of `column` in `row`, if the table has that column.
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> Option<&'a Cell> {
        let index = self.columns.iter().position(|name| name == column)?;
        row.cells.get(index)
    }

    /// Where `row` is.
    pub fn place(&self, row: &Row) -> Place {
        Place { source: self.source.clone(), line: row.line, nth: row.nth }
    }
}

/// Where the rows go as they are read.
pub trait Rows {
    /// A table's columns, before its rows (for each INSERT of it again).
    fn table(&mut self, table: &Table) -> Result<(), DumpError>;
    /// One row of `table`.
    fn row(&mut self, table: &Table, row: Row);
}

/// Why a file could not be read at all (a row that is only wrong is the importer's to
/// report, not this). Never quotes the file's values: one may be a password's md5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpError(pub String);

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tables the import reads.
const IMPORTED_TABLES: [&str; 2] = ["users", "roles"];

/// The columns of the original service's tables, in the order of its `CREATE TABLE`s:
/// what an `INSERT` without a column list means when the dump has no `CREATE TABLE`
/// (`mysqldump --no-create-info`).
pub fn original_columns(table: &str) -> Option<&'static [&'static str]> {
    match table {
        "users" => Some(&[
            "id",
            "account",
            "password",
            "phone",
            "age",
            "sex",
            "status",
            "refresh_jwt_token",
            "jwt_token",
            "role_id",
            "create_time",
            "update_time",
        ]),
        "roles" => Some(&[
            "id",
            "role_name",
            "super_admin",
            "auth_id",
            "node_id",
            "status",
            "create_time",
            "update_time",
        ]),
        _ => None,
    }
}

/// A column named twice would leave it to chance which of the two is read.
fn refuse_a_column_named_twice(at: &str, columns: &[String]) -> Result<(), DumpError> {
    for (index, column) in columns.iter().enumerate() {
        if !column.is_empty() && columns[..index].contains(column) {
            return Err(DumpError(format!(
                "{at}: the column {column} is named twice, and which of the two holds the {column} cannot be told"
            )));
        }
    }
    Ok(())
}

/// Bytes read through a buffer of their own, with the line they are on: the next byte
/// or two are looked at before they are taken.
struct Source<R> {
    reader: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    line: u64,
    failure: Option<std::io::Error>,
}

impl<R: Read> Source<R> {
    fn new(reader: R) -> Self {
        Source {
            reader,
            buffer: vec![0; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
            line: 1,
            failure: None,
        }
    }

    /// The byte `ahead` bytes on (0: the next one), `None` at the end (or on a failure to
    /// read, kept for [`Source::finish`]).
    fn peek(&mut self, ahead: usize) -> Option<u8> {
        while self.start + ahead >= self.end {
            if self.failure.is_some() || !self.fill() {
                return None;
            }
        }
        Some(self.buffer[self.start + ahead])
    }

    fn fill(&mut self) -> bool {
        self.buffer.copy_within(self.start..self.end, 0);
        (self.end, self.start) = (self.end - self.start, 0);
        loop {
            match self.reader.read(&mut self.buffer[self.end..]) {
                Ok(0) => return false,
                Ok(read) => {
                    self.end += read;
                    return true;
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.failure = Some(error);
                    return false;
                }
            }
        }
    }

    fn take(&mut self) -> Option<u8> {
        let byte = self.peek(0)?;
        self.start += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    fn finish(self, source: &str) -> Result<(), DumpError> {
        match self.failure {
            Some(error) => Err(DumpError(format!("{source}: {error}"))),
            None => Ok(()),
        }
    }
}

/// Cuts a MySQL dump into the pieces that `sqlparser` reads, by MySQL's lexical rules
/// (as `sqlparser`'s MySQL dialect has them): strings in `'` or `"` with backslash
/// escapes and doubled quotes, names in backquotes, comments after `#` or `-- ` to the
/// end of the line, and in `/* */`, MySQL's versioned `/*!...*/` too (in a dump they set
/// the session, `SET NAMES` and the like, and hold no rows). Copies what it passes over
/// into `kept` while `keeping`.
struct Scanner<R> {
    /// The file's name, shared by the places of its rows.
    name: Arc<str>,
    source: Source<R>,
    kept: Vec<u8>,
    keeping: bool,
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

impl<R: Read> Scanner<R> {
    /// That the statement from line `start` on never ends.
    fn never_ends(&self, start: u64) -> DumpError {
        DumpError(format!(
            "{}:{start}: a statement that never ends (a quote or a comment left open?)",
            self.name
        ))
    }

    fn peek(&mut self, ahead: usize) -> Option<u8> {
        self.source.peek(ahead)
    }

    fn take(&mut self) -> Option<u8> {
        let byte = self.source.take()?;
        if self.keeping {
            self.kept.push(byte);
        }
        Some(byte)
    }

    fn keep(&mut self, keeping: bool) {
        self.keeping = keeping;
        self.kept.clear();
    }

    /// Whether a comment starts here.
    fn at_comment(&mut self) -> bool {
        match (self.peek(0), self.peek(1)) {
            (Some(b'#'), _) | (Some(b'/'), Some(b'*')) => true,
            (Some(b'-'), Some(b'-')) => {
                self.peek(2).is_some_and(|byte| byte.is_ascii_whitespace() || byte == 0x0b)
            }
            _ => false,
        }
    }

    /// Passes white space and comments; a comment that never ends is an error of the
    /// statement that began on line `start`.
    fn pass_space(&mut self, start: u64) -> Result<(), DumpError> {
        loop {
            match self.peek(0) {
                Some(byte) if byte.is_ascii_whitespace() || byte == 0x0b => {
                    self.take();
                }
                Some(b'/') if self.at_comment() => {
                    self.take();
                    self.take();
                    loop {
                        match self.take() {
                            Some(b'*') if self.peek(0) == Some(b'/') => {
                                self.take();
                                break;
                            }
                            Some(_) => {}
                            None => return Err(self.never_ends(start)),
                        }
                    }
                }
                Some(_) if self.at_comment() => while self.take().is_some_and(|byte| byte != b'\n') {},
                _ => return Ok(()),
            }
        }
    }

    /// Passes a string or a quoted name, whose opening quote is next.
    fn pass_quoted(&mut self, start: u64) -> Result<(), DumpError> {
        let quote = self.take();
        loop {
            match self.take() {
                None => return Err(self.never_ends(start)),
                Some(b'\\') if quote != Some(b'`') => {
                    self.take().ok_or_else(|| self.never_ends(start))?;
                }
                byte if byte == quote => {
                    if self.peek(0) != quote {
                        return Ok(());
                    }
                    self.take();
                }
                Some(_) => {}
            }
        }
    }

    /// The word that starts here, in lower case ("" if none does).
    fn word(&mut self) -> String {
        let mut word = String::new();
        while let Some(byte) = self.peek(0).filter(|&byte| is_word_byte(byte)) {
            self.take();
            if word.len() < 16 {
                word.push(byte.to_ascii_lowercase() as char);
            }
        }
        word
    }

    /// Passes the rest of a statement and its `;`.
    fn pass_statement(&mut self, start: u64) -> Result<(), DumpError> {
        loop {
            self.pass_space(start)?;
            match self.peek(0) {
                None => return Ok(()),
                Some(b';') => {
                    self.take();
                    return Ok(());
                }
                Some(b'\'' | b'"' | b'`') => self.pass_quoted(start)?,
                Some(_) => {
                    self.take();
                }
            }
        }
    }

    /// Passes an INSERT's head up to its `VALUES` (true), or to the statement's end
    /// (false: an INSERT of another form).
    fn pass_insert_head(&mut self, start: u64) -> Result<bool, DumpError> {
        let mut depth = 0usize;
        loop {
            self.pass_space(start)?;
            match self.peek(0) {
                None | Some(b';') => return Ok(false),
                Some(b'\'' | b'"' | b'`') => self.pass_quoted(start)?,
                Some(byte) if is_word_byte(byte) => {
                    let word = self.word();
                    if depth == 0 && (word == "values" || word == "value") {
                        return Ok(true);
                    }
                }
                Some(byte) => {
                    self.take();
                    match byte {
                        b'(' => depth += 1,
                        b')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
        }
    }

    /// One row of VALUES, its `(` next: its text, and which of its values hold bytes
    /// that are no UTF-8.
    fn row(&mut self, start: u64) -> Result<(String, Vec<usize>), DumpError> {
        self.keep(true);
        let (mut depth, mut value, mut not_utf8) = (0usize, 0usize, Vec::new());
        loop {
            self.pass_space(start)?;
            match self.peek(0) {
                None => return Err(self.never_ends(start)),
                Some(b'\'' | b'"' | b'`') => {
                    let quoted = self.kept.len();
                    self.pass_quoted(start)?;
                    if std::str::from_utf8(&self.kept[quoted..]).is_err() {
                        not_utf8.push(value);
                    }
                }
                Some(byte) => {
                    self.take();
                    match byte {
                        b'(' => depth += 1,
                        b',' if depth == 1 => value += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        self.keeping = false;
        let text = String::from_utf8_lossy(&self.kept).into_owned();
        Ok((text, not_utf8))
    }
}

/// The tokens of `text`, white space, comments and `;` left out; `None` if it cannot be
/// tokenized.
fn tokens(text: &str) -> Option<Vec<TokenWithSpan>> {
    let mut tokens =
        Tokenizer::new(&MySqlDialect {}, text).with_unescape(true).tokenize_with_location().ok()?;
    tokens.retain(|token| !matches!(token.token, Token::Whitespace(_) | Token::EOF | Token::SemiColon));
    Some(tokens)
}

/// Not the parser's message: it quotes the token it stopped at, which may be an md5.
fn unreadable(at: &str) -> DumpError {
    DumpError(format!("{at}: a statement of users or roles that cannot be read"))
}

/// Reads the `users` and `roles` tables of a MySQL dump, from `reader`, which is the file
/// `source`, handing their rows to `rows` one at a time.
pub fn read_sql(source: &str, reader: impl Read, rows: &mut impl Rows) -> Result<(), DumpError> {
    let mut scanner =
        Scanner { name: source.into(), source: Source::new(reader), kept: Vec::new(), keeping: false };
    if (scanner.peek(0), scanner.peek(1), scanner.peek(2)) == (Some(0xef), Some(0xbb), Some(0xbf)) {
        for _ in 0..3 {
            scanner.take();
        }
    }
    // The columns of each table, from its `CREATE TABLE`.
    let mut created: Vec<(String, Vec<String>)> = Vec::new();
    loop {
        let start = scanner.source.line;
        scanner.pass_space(start)?;
        if scanner.peek(0).is_none() {
            break;
        }
        let start = scanner.source.line;
        scanner.keep(true);
        match scanner.word().as_str() {
            "insert" | "replace" => read_insert(&mut scanner, start, &created, rows)?,
            "create" => {
                scanner.pass_statement(start)?;
                scanner.keeping = false;
                if let Some((name, columns)) = created_table(&scanner.kept, &format!("{source}:{start}"))? {
                    created.retain(|(table, _)| *table != name);
                    created.push((name, columns));
                }
            }
            _ => {
                scanner.keeping = false;
                scanner.pass_statement(start)?;
            }
        }
    }
    scanner.source.finish(source)
}

/// The table and its columns, if `statement` is the `CREATE TABLE` of `users` or `roles`.
fn created_table(statement: &[u8], at: &str) -> Result<Option<(String, Vec<String>)>, DumpError> {
    let statement = tokens(&String::from_utf8_lossy(statement)).ok_or_else(|| unreadable(at))?;
    let Some(name) = table_named(&statement).filter(|name| IMPORTED_TABLES.contains(&name.as_str())) else {
        return Ok(None);
    };
    let parsed = Parser::new(&MySqlDialect {})
        .with_tokens_with_locations(statement)
        .parse_statement()
        .map_err(|_| unreadable(at))?;
    let Statement::CreateTable(CreateTable { columns, .. }) = parsed else { return Ok(None) };
    let columns: Vec<String> = columns.iter().map(|column| column.name.value.to_ascii_lowercase()).collect();
    refuse_a_column_named_twice(at, &columns)?;
    Ok(Some((name, columns)))
}

/// An `INSERT` (or `REPLACE`) whose first word has been read: its rows, if it is of
/// `users` or `roles`, one at a time.
fn read_insert<R: Read>(
    scanner: &mut Scanner<R>,
    start: u64,
    created: &[(String, Vec<String>)],
    rows: &mut impl Rows,
) -> Result<(), DumpError> {
    let source = scanner.name.clone();
    let at = format!("{source}:{start}");
    let has_values = scanner.pass_insert_head(start)?;
    scanner.keeping = false;
    let head = tokens(&String::from_utf8_lossy(&scanner.kept)).ok_or_else(|| unreadable(&at))?;
    let Some(name) = table_named(&head).filter(|name| IMPORTED_TABLES.contains(&name.as_str())) else {
        return scanner.pass_statement(start);
    };
    if !has_values {
        return Err(DumpError(format!("{at}: an INSERT without VALUES")));
    }
    let columns = match column_list(&head).ok_or_else(|| unreadable(&at))? {
        Some(columns) => columns,
        None => created
            .iter()
            .find(|(table, _)| *table == name)
            .map(|(_, columns)| columns.clone())
            .or_else(|| original_columns(&name).map(|names| names.iter().map(|n| n.to_string()).collect()))
            .ok_or_else(|| DumpError(format!("{at}: INSERT INTO {name} names no columns")))?,
    };
    refuse_a_column_named_twice(&at, &columns)?;
    let table = Table { source, name, columns };
    rows.table(&table)?;
    for nth in 1.. {
        scanner.pass_space(start)?;
        if scanner.peek(0) != Some(b'(') {
            return Err(unreadable(&at));
        }
        let line = scanner.source.line;
        let (text, not_utf8) = scanner.row(start)?;
        let cells =
            cells(&text, &not_utf8).map_err(|problem| DumpError(format!("{at}, row {nth}: {problem}")))?;
        if cells.len() != table.columns.len() {
            return Err(DumpError(format!(
                "{}:{line}: a row of {} values for the {} columns of {}",
                table.source,
                cells.len(),
                table.columns.len(),
                table.name
            )));
        }
        rows.row(&table, Row { line, nth, cells });
        scanner.pass_space(start)?;
        match scanner.take() {
            Some(b',') => continue,
            None | Some(b';') => break,
            Some(_) => return Err(unreadable(&at)),
        }
    }
    Ok(())
}

/// The column list of an INSERT's head (the tokens up to its `VALUES`): `Some(None)`
/// when it has none, `None` when it cannot be read.
fn column_list(head: &[TokenWithSpan]) -> Option<Option<Vec<String>>> {
    let tokens: Vec<&Token> = head.iter().map(|token| &token.token).collect();
    let [before @ .., Token::RParen, Token::Word(_)] = &tokens[..] else { return Some(None) };
    let open = before.iter().rposition(|token| **token == Token::LParen)?;
    match before[..open].last() {
        Some(Token::Word(word))
            if word.quote_style.is_none() && word.value.eq_ignore_ascii_case("partition") =>
        {
            return Some(None)
        }
        _ => {}
    }
    let mut columns: Vec<String> = Vec::new();
    // `users.account` is the column `account`.
    let mut dotted = false;
    for token in &before[open + 1..] {
        match token {
            Token::Word(word) => {
                let name = word.value.to_ascii_lowercase();
                match dotted {
                    true => *columns.last_mut()? = name,
                    false => columns.push(name),
                }
                dotted = false;
            }
            Token::Period if !columns.is_empty() => dotted = true,
            Token::Comma => {}
            _ => return None,
        }
    }
    Some(Some(columns))
}

/// The values of a row of VALUES, `(1, 'Jerry', NULL, ...)`; `not_utf8` says which
/// of them hold bytes that are no UTF-8. `Err` says which value is no literal.
fn cells(row: &str, not_utf8: &[usize]) -> Result<Vec<Cell>, String> {
    let tokens = tokens(row).ok_or("a row that cannot be read")?;
    let mut tokens = tokens.into_iter().map(|token| token.token).peekable();
    if tokens.next() != Some(Token::LParen) {
        return Err("a row that cannot be read".into());
    }
    let mut cells = Vec::new();
    if tokens.next_if_eq(&Token::RParen).is_some() {
        return Ok(cells);
    }
    loop {
        let not_a_literal = || format!("value {} is not a literal", cells.len() + 1);
        let cell = match tokens.next() {
            Some(Token::SingleQuotedString(text) | Token::DoubleQuotedString(text)) => {
                match not_utf8.contains(&cells.len()) {
                    true => Cell::NotUtf8(text),
                    false => Cell::Text(text),
                }
            }
            Some(Token::Number(number, _)) => Cell::Text(number),
            Some(Token::Minus) => match tokens.next() {
                Some(Token::Number(number, _)) => Cell::Text(format!("-{number}")),
                _ => return Err(not_a_literal()),
            },
            Some(Token::Word(word)) if word.quote_style.is_none() => {
                match word.value.to_ascii_lowercase().as_str() {
                    "null" => Cell::Null,
                    "true" => Cell::Text("1".into()),
                    "false" => Cell::Text("0".into()),
                    _ => return Err(not_a_literal()),
                }
            }
            _ => return Err(not_a_literal()),
        };
        cells.push(cell);
        match tokens.next() {
            Some(Token::Comma) => continue,
            Some(Token::RParen) if tokens.peek().is_none() => return Ok(cells),
            _ => return Err(format!("value {} is not a literal", cells.len())),
        }
    }
}

/// The table an `INSERT`, `REPLACE` or `CREATE TABLE` statement is about, in lower case;
/// `None` for any other statement. The name is the last word before the column list or
/// `VALUES` (`INSERT IGNORE INTO hyperf.users (...)` is about `users`).
fn table_named(statement: &[TokenWithSpan]) -> Option<String> {
    let words = |token: &TokenWithSpan| match &token.token {
        Token::Word(word) => Some((word.value.to_ascii_lowercase(), word.quote_style.is_some())),
        _ => None,
    };
    let (first, _) = statement.first().and_then(words)?;
    let skip: &[&str] = match first.as_str() {
        "insert" | "replace" => {
            &["insert", "replace", "ignore", "into", "low_priority", "delayed", "high_priority"]
        }
        "create" => &["create", "table", "temporary", "if", "not", "exists"],
        _ => return None,
    };
    if first == "create"
        && statement.get(1).and_then(words).is_none_or(|(word, _)| word != "table" && word != "temporary")
    {
        return None;
    }
    let mut name = None;
    for token in statement {
        match words(token) {
            Some((word, false)) if skip.contains(&word.as_str()) => continue,
            Some((word, false))
                if ["values", "value", "set", "select", "partition"].contains(&word.as_str()) =>
            {
                break
            }
            Some((word, _)) => name = Some(word),
            None if token.token == Token::Period => continue,
            None => break,
        }
    }
    name
}

/// A CSV file with a header row of column names, as one table: `roles` when it has a
/// `role_name` column, `users` otherwise. An empty field, or MySQL's `\N` (what `SELECT
/// ... INTO OUTFILE` writes for NULL), is NULL. Its rows go to `rows` one at a time.
pub fn read_csv(source: &str, reader: impl Read, rows: &mut impl Rows) -> Result<(), DumpError> {
    let not_csv = |error: csv::Error| {
        let line = error.position().map_or(0, |position| position.line());
        DumpError(format!("{source}:{line}: not CSV with a header row"))
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let columns: Vec<String> = reader
        .byte_headers()
        .map_err(not_csv)?
        .iter()
        .map(|name| String::from_utf8_lossy(name).trim().to_ascii_lowercase())
        .collect();
    refuse_a_column_named_twice(&format!("{source}:1"), &columns)?;
    let name = if columns.iter().any(|c| c == "role_name") { "roles" } else { "users" };
    let table = Table { source: source.into(), name: name.to_string(), columns };
    rows.table(&table)?;
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(not_csv)? {
        let line = record.position().map_or(0, |position| position.line());
        let cells = record
            .iter()
            .map(|field| match field {
                b"" | b"\\N" => Cell::Null,
                bytes => match std::str::from_utf8(bytes) {
                    Ok(text) => Cell::Text(text.to_string()),
                    Err(_) => Cell::NotUtf8(String::from_utf8_lossy(bytes).into_owned()),
                },
            })
            .collect();
        rows.row(&table, Row { line, nth: 1, cells });
    }
    Ok(())
}

/// The tables of the file at `path`, their rows to `rows`: CSV when its name ends in
/// `.csv`, SQL otherwise.
pub fn read_file(path: &std::path::Path, rows: &mut impl Rows) -> Result<(), DumpError> {
    let source = path.to_string_lossy();
    let file = std::fs::File::open(path).map_err(|error| DumpError(format!("{source}: {error}")))?;
    match source.to_ascii_lowercase().ends_with(".csv") {
        true => read_csv(&source, file, rows),
        false => read_sql(&source, file, rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_string())
    }

    /// A table's rows, as read.
    #[derive(Debug)]
    struct Read {
        table: Table,
        rows: Vec<Row>,
    }

    impl std::ops::Deref for Read {
        type Target = Table;
        fn deref(&self) -> &Table {
            &self.table
        }
    }

    impl Rows for Vec<Read> {
        fn table(&mut self, table: &Table) -> Result<(), DumpError> {
            if !self.iter().any(|read| read.table == *table) {
                self.push(Read { table: table.clone(), rows: Vec::new() });
            }
            Ok(())
        }

        fn row(&mut self, table: &Table, row: Row) {
            self.iter_mut().find(|read| read.table == *table).unwrap().rows.push(row);
        }
    }

    fn read_sql(source: &str, dump: &str) -> Result<Vec<Read>, DumpError> {
        let mut tables = Vec::new();
        super::read_sql(source, dump.as_bytes(), &mut tables).map(|()| tables)
    }

    fn read_csv(source: &str, dump: &str) -> Result<Read, DumpError> {
        let mut tables = Vec::new();
        super::read_csv(source, dump.as_bytes(), &mut tables).map(|()| tables.remove(0))
    }

    /// Navicat's style, as in the original repository's sql/users.sql (shortened).
    const NAVICAT: &str = r#"/*
 Navicat MySQL Data Transfer
*/

SET NAMES utf8mb4;
SET FOREIGN_KEY_CHECKS = 0;

-- ----------------------------
-- Table structure for users
-- ----------------------------
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users`  (
  `id` int UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键',
  `account` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '账号',
  `password` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '密码',
  `phone` varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '手机号',
  `status` enum('ban','active') CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL DEFAULT 'active' COMMENT '用户状态',
  `role_id` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '角色ID(外键)',
  `create_time` datetime(0) NULL DEFAULT NULL COMMENT '创建时间',
  PRIMARY KEY (`id`) USING BTREE,
  UNIQUE INDEX `phone_idx`(`phone`) USING BTREE,
  INDEX `account_idx`(`account`) USING BTREE
) ENGINE = InnoDB AUTO_INCREMENT = 3 CHARACTER SET = utf8mb4 COLLATE = utf8mb4_general_ci COMMENT = '用户表' ROW_FORMAT = Dynamic;

-- ----------------------------
-- Records of users
-- ----------------------------
INSERT INTO `users` VALUES (1, 'Jerry', '0b2952b0d93576dd24b49dcb66a9c7d8', '15361158702', 'active', '1,3,4', '2023-12-04 01:40:33');
INSERT INTO `users` VALUES (2, 'O''Brien; DROP TABLE users', 'fcea920f7412b5da7be0cf42b8c93759', '13939265073', NULL, '3', NULL);
INSERT INTO `users` VALUES (3, '张三😀', 'fcea920f7412b5da7be0cf42b8c93759', '13939265074', 'ban', '', '2023-12-09 23:11:10');

SET FOREIGN_KEY_CHECKS = 1;
"#;

    #[test]
    fn a_navicat_dump_is_read_by_its_create_table() {
        let tables = read_sql("users.sql", NAVICAT).unwrap();
        assert_eq!(tables.len(), 1);
        let users = &tables[0];
        assert_eq!(users.name, "users");
        assert_eq!(users.columns, ["id", "account", "password", "phone", "status", "role_id", "create_time"]);
        assert_eq!(users.rows.len(), 3);
        assert_eq!(users.rows[0].cells[5], text("1,3,4"));
        assert_eq!(users.rows[1].cells[1], text("O'Brien; DROP TABLE users"));
        assert_eq!(users.rows[1].cells[4], Cell::Null);
        assert_eq!(users.rows[2].cells[1], text("张三😀"));
        assert_eq!(users.rows[2].line, 30);
        assert_eq!(users.place(&users.rows[2]).to_string(), "users.sql:30");
        assert_eq!(users.cell(&users.rows[2], "status"), Some(&text("ban")));
    }

    /// mysqldump's style: conditional comments, LOCK TABLES, one extended INSERT,
    /// backslash escapes.
    const MYSQLDUMP: &str = r#"-- MySQL dump 10.13  Distrib 8.0.32, for Linux (x86_64)
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!50503 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `roles`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
CREATE TABLE `roles` (
  `id` int unsigned NOT NULL AUTO_INCREMENT COMMENT '主键ID',
  `role_name` varchar(128) NOT NULL DEFAULT '' COMMENT '角色名称',
  `super_admin` enum('yes','no') NOT NULL DEFAULT 'no',
  `status` enum('active','delete','pause') NOT NULL DEFAULT 'active',
  PRIMARY KEY (`id`),
  KEY `role_idx` (`role_name`)
) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='角色表';
/*!40101 SET character_set_client = @saved_cs_client */;
LOCK TABLES `roles` WRITE;
/*!40000 ALTER TABLE `roles` DISABLE KEYS */;
INSERT INTO `roles` VALUES (1,'超级管理员','yes','active'),(2,'默认角色','no','active'),(3,'it\'s a \"role\"\nwith a line\\','no','pause'),(4,'tab\there',NULL,'delete');
/*!40000 ALTER TABLE `roles` ENABLE KEYS */;
UNLOCK TABLES;
-- Dump completed on 2023-12-14 23:05:07
"#;

    #[test]
    fn a_mysqldump_is_read_with_its_escapes() {
        let tables = read_sql("dump.sql", MYSQLDUMP).unwrap();
        assert_eq!(tables.len(), 1);
        let roles = &tables[0];
        assert_eq!((roles.name.as_str(), roles.columns.len(), roles.rows.len()), ("roles", 4, 4));
        assert_eq!(roles.rows[1].cells[1], text("默认角色"));
        assert_eq!(roles.rows[2].cells[1], text("it's a \"role\"\nwith a line\\"));
        assert_eq!(roles.rows[3].cells[1], text("tab\there"));
        assert_eq!(roles.rows[3].cells[2], Cell::Null);
        assert_eq!(roles.place(&roles.rows[3]).to_string(), "dump.sql:17, row 4");
    }

    #[test]
    fn inserts_without_create_table_take_the_original_columns_or_their_own() {
        let data_only = "INSERT INTO `roles` VALUES (2,'默认角色','no','','','active',NULL,NULL);";
        let roles = &read_sql("a.sql", data_only).unwrap()[0];
        assert_eq!(roles.columns.len(), 8);
        assert_eq!(roles.cell(&roles.rows[0], "role_name"), Some(&text("默认角色")));
        let complete = "INSERT INTO hyperf.users (`id`, `phone`, account) VALUES (7, '13911119999', 'a'), (-8, '1', 'b');";
        let users = &read_sql("a.sql", complete).unwrap()[0];
        assert_eq!(users.columns, ["id", "phone", "account"]);
        assert_eq!(users.rows[1].cells[0], text("-8"));
        // Other tables are passed over unparsed, whatever they hold.
        let others = "CREATE TABLE `goods` (`id` int) PARTITION BY HASH(id) PARTITIONS 4 WEIRD;\n\
                      INSERT INTO `goods` VALUES (1, _binary 'x', NOW());\n\
                      INSERT IGNORE INTO hyperf.`users` (id, account) VALUES (3, 'c');";
        let tables = read_sql("all.sql", others).unwrap();
        assert_eq!(tables.len(), 1);
        assert_eq!((tables[0].name.as_str(), tables[0].rows.len()), ("users", 1));
    }

    #[test]
    fn a_semicolon_at_the_end_of_a_line_in_a_string_or_comment_ends_no_statement() {
        let text = "/* a comment;\nthat goes on; */\nINSERT INTO roles (id, role_name) VALUES (1, 'a name;\n');\n\
                    -- done;\nINSERT INTO roles (id, role_name) VALUES (2, 'b'); INSERT INTO roles (id, role_name) VALUES (3, 'c');\n";
        let roles = &read_sql("r.sql", text).unwrap()[0];
        let names: Vec<&Cell> = roles.rows.iter().map(|row| &row.cells[1]).collect();
        assert_eq!(names, [&text_cell("a name;\n"), &text_cell("b"), &text_cell("c")]);
        let lines: Vec<u64> = roles.rows.iter().map(|row| row.line).collect();
        assert_eq!(lines, [3, 6, 6]);
    }

    fn text_cell(value: &str) -> Cell {
        Cell::Text(value.to_string())
    }

    #[test]
    fn broken_dumps_say_where() {
        let short_row = "INSERT INTO `roles` (id, role_name) VALUES (1, 'a'), (2);";
        assert_eq!(
            read_sql("r.sql", short_row).unwrap_err().0,
            "r.sql:1: a row of 1 values for the 2 columns of roles"
        );
        let unclosed = "INSERT INTO `roles` (id, role_name) VALUES (1, 'a);";
        assert!(read_sql("r.sql", unclosed).is_err());
        let not_a_value = "INSERT INTO `roles` (id, role_name) VALUES (1, 'a'), (2, MD5('secret'));";
        let error = read_sql("r.sql", not_a_value).unwrap_err().0;
        assert_eq!(error, "r.sql:1, row 2: value 2 is not a literal");
        let broken =
            "INSERT INTO `users` (id, password) VALUES (1, 'fcea920f7412b5da7be0cf42b8c93759' 'x' +);";
        let error = read_sql("u.sql", broken).unwrap_err().0;
        assert!(!error.contains("fcea920f"), "no value of the dump in a message: {error}");
    }

    #[test]
    fn a_long_extended_insert_is_read_row_by_row_with_comments_and_semicolons_between() {
        let rows: Vec<String> = (1..=2000).map(|id| format!("({id}, 'a;b),(\\'c'' {id}')")).collect();
        let dump = format!(
            "INSERT INTO roles (id, role_name) VALUES {} /* a ; comment */ , -- another;\n(2001, \"d\") # and;\n;",
            rows.join(",")
        );
        let roles = &read_sql("r.sql", &dump).unwrap()[0];
        assert_eq!(roles.rows.len(), 2001);
        assert_eq!(roles.rows[6].cells, [text("7"), text("a;b),('c' 7")]);
        assert_eq!((roles.rows[2000].line, roles.rows[2000].nth), (2, 2001));
        assert_eq!(roles.rows[2000].cells[1], text("d"));
    }

    #[test]
    fn a_value_that_is_no_utf8_is_kept_apart_from_its_row_in_sql_and_csv() {
        // 张三 as GBK, and a stray byte after a name in UTF-8.
        let mut dump = b"INSERT INTO users (id, account, phone) VALUES (1, '".to_vec();
        dump.extend(b"\xd5\xc5\xc8\xfd");
        dump.extend("', '13900000001'), (2, '李四".as_bytes());
        dump.extend(b"\xff', '13900000002'), (3, '");
        dump.extend("王五', '13900000003');".as_bytes());
        let mut tables = Vec::new();
        super::read_sql("u.sql", &dump[..], &mut tables).unwrap();
        let cells: Vec<&Cell> = tables[0].rows.iter().map(|row| &row.cells[1]).collect();
        assert_eq!(
            cells,
            [&Cell::NotUtf8("\u{fffd}".repeat(4)), &Cell::NotUtf8("李四\u{fffd}".into()), &text("王五")]
        );
        assert_eq!(tables[0].rows[0].cells[2], text("13900000001"));

        let mut csv = b"id,account,phone\n1,".to_vec();
        csv.extend(b"\xd5\xc5\xc8\xfd,13900000001\n2,\xe6\x9d\x8e,13900000002\n");
        let mut tables = Vec::new();
        super::read_csv("u.csv", &csv[..], &mut tables).unwrap();
        assert_eq!(tables[0].rows[0].cells[1], Cell::NotUtf8("\u{fffd}".repeat(4)));
        assert_eq!(tables[0].rows[1].cells[1], text("李"));
    }

    #[test]
    fn a_column_named_twice_is_refused_by_its_name() {
        let csv = "id,account,password,phone,Account\n1,a,fcea920f7412b5da7be0cf42b8c93759,13900000001,b\n";
        let error = read_csv("users.csv", csv).unwrap_err().0;
        assert_eq!(
            error,
            "users.csv:1: the column account is named twice, and which of the two holds the account cannot be told"
        );
        let sql = "INSERT INTO users (id, account, `account`) VALUES (1, 'a', 'b');";
        assert!(read_sql("u.sql", sql)
            .unwrap_err()
            .0
            .starts_with("u.sql:1: the column account is named twice"));
        // Columns a spreadsheet leaves without a name are no column the import reads.
        assert!(read_csv("users.csv", "id,account,,\n1,a,,\n").is_ok());
    }

    #[test]
    fn csv_has_its_header_quotes_nulls_and_lines() {
        let csv = "id,account,password,phone,status,role_id,create_time\n\
                   1,\"Jerry, \"\"the\"\" mouse\",0b2952b0d93576dd24b49dcb66a9c7d8,15361158702,active,\"1,3\",2023-12-04 01:40:33\n\
                   2,\"two\nlines\",fcea920f7412b5da7be0cf42b8c93759,13939265073,\\N,,\n\
                   3,李四🎉,fcea920f7412b5da7be0cf42b8c93759,13939265075,ban,3,\n";
        let users = read_csv("users.csv", csv).unwrap();
        assert_eq!(users.name, "users");
        assert_eq!(users.rows.len(), 3);
        assert_eq!(users.rows[0].cells[1], text("Jerry, \"the\" mouse"));
        assert_eq!(users.rows[0].cells[5], text("1,3"));
        assert_eq!(users.rows[1].cells[1], text("two\nlines"));
        assert_eq!(users.rows[1].cells[4], Cell::Null);
        assert_eq!(users.rows[1].cells[5], Cell::Null);
        assert_eq!(users.rows[2].cells[1], text("李四🎉"));
        assert_eq!(users.rows[2].line, 5);
        let roles = read_csv("roles.csv", "id,role_name,super_admin\n2,默认角色,no\n").unwrap();
        assert_eq!(roles.name, "roles");
    }
}
