//! What the original service's tables hold, read from the files an operator has: a MySQL
//! dump (as `mysqldump` writes it, one extended `INSERT ... VALUES (...),(...)` per
//! table, or as Navicat does, one `INSERT` per row) or a CSV file whose header row names
//! the columns.
//!
//! SQL is read by `sqlparser` (its MySQL dialect: backquoted names, backslash escapes,
//! `/*!...*/` comments) and CSV by `csv`, so a quote or a semicolon in a name is just a
//! character. Only the `CREATE TABLE` (for the column order) and `INSERT` statements of
//! `users` and `roles` are parsed; everything else in a dump is passed over. The rows
//! read are kept in memory and the statements tokenized one at a time, so that only one
//! statement's tokens are held at once, and mysqldump keeps an INSERT under 1 MB by
//! default (docs/performance.md, "Reading a dump").

use sqlparser::ast::{CreateTable, Expr, Insert, SetExpr, Statement, TableObject, UnaryOperator, Value};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// One value as the dump has it. Numbers are kept as their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
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

/// A table's rows, each with a value for every one of `columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The file it was read from.
    pub source: String,
    /// As the dump names it, in lower case.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The value of `column` in `row`, if the table has that column.
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> Option<&'a Cell> {
        let index = self.columns.iter().position(|name| name == column)?;
        row.cells.get(index)
    }

    /// Where `row` is: `users.sql:12`, or `dump.sql:40, row 7` in an extended INSERT.
    pub fn place(&self, row: &Row) -> String {
        match row.nth {
            0 | 1 => format!("{}:{}", self.source, row.line),
            nth => format!("{}:{}, row {nth}", self.source, row.line),
        }
    }
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

/// The `users` and `roles` tables of a MySQL dump read from `source`; rows of one table
/// in several `INSERT`s are gathered into one.
///
/// The file is tokenized a statement at a time, so that memory follows the longest
/// statement rather than the file: a statement ends at a line ending in `;` where the
/// tokenizer, given everything since the last one, ends on a `;` of its own (not one in
/// a string or a comment that goes on).
pub fn read_sql(source: &str, text: &str) -> Result<Vec<Table>, DumpError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = SqlReader { source, created: Vec::new(), tables: Vec::new() };
    let (mut start, mut end, mut line, mut start_line) = (0, 0, 0, 1);
    // After a try that found the statement going on (a `;` in a string), the next one
    // waits until the text since its start has doubled: a file that never closes its
    // string costs a few tokenizations of its rest, not one per line.
    let mut next_try = 0;
    for piece in text.split_inclusive('\n') {
        end += piece.len();
        line += 1;
        let last = end == text.len();
        if !last && (!piece.trim_end().ends_with(';') || end < next_try) {
            continue;
        }
        match tokenize(&text[start..end]) {
            Ok(tokens) if last || ends_a_statement(&tokens) => {
                for statement in statements(tokens) {
                    reader.read(statement, start_line - 1)?;
                }
                (start, start_line, next_try) = (end, line + 1, 0);
            }
            Err(_) if last => {
                return Err(DumpError(format!(
                    "{source}:{start_line}: a statement that never ends (a quote or a comment left open?)"
                )))
            }
            _ => next_try = end + (end - start),
        }
    }
    Ok(reader.tables)
}

fn tokenize(text: &str) -> Result<Vec<TokenWithSpan>, sqlparser::tokenizer::TokenizerError> {
    Tokenizer::new(&MySqlDialect {}, text).with_unescape(true).tokenize_with_location()
}

/// Whether tokens end on a `;` (or hold nothing but comments and white space).
fn ends_a_statement(tokens: &[TokenWithSpan]) -> bool {
    let last = tokens.iter().rev().find(|token| !matches!(token.token, Token::Whitespace(_) | Token::EOF));
    last.is_none_or(|token| token.token == Token::SemiColon)
}

/// What reading a dump has gathered so far.
struct SqlReader<'a> {
    source: &'a str,
    /// The columns of each table, from its `CREATE TABLE`.
    created: Vec<(String, Vec<String>)>,
    tables: Vec<Table>,
}

impl SqlReader<'_> {
    /// One statement, whose lines are counted from `line_offset` on.
    fn read(&mut self, statement: Vec<TokenWithSpan>, line_offset: u64) -> Result<(), DumpError> {
        let source = self.source;
        let line = statement.first().map_or(0, |token| token.span.start.line) + line_offset;
        match table_named(&statement) {
            Some(name) if IMPORTED_TABLES.contains(&name.as_str()) => {}
            _ => return Ok(()),
        }
        let at = format!("{source}:{line}");
        // Not the parser's message: it quotes the token it stopped at, which may be an md5.
        let parsed = Parser::new(&MySqlDialect {})
            .with_tokens_with_locations(statement)
            .parse_statement()
            .map_err(|_| DumpError(format!("{at}: a statement of users or roles that cannot be read")))?;
        match parsed {
            Statement::CreateTable(CreateTable { name, columns, .. }) => {
                let name = last_part(&name.to_string());
                let columns = columns.iter().map(|column| column.name.value.to_ascii_lowercase()).collect();
                self.created.retain(|(table, _)| *table != name);
                self.created.push((name, columns));
            }
            Statement::Insert(insert) => {
                let (name, columns, rows) = insert_rows(&insert, &at, line_offset)?;
                let columns = match columns {
                    Some(columns) => columns,
                    None => self
                        .created
                        .iter()
                        .find(|(table, _)| *table == name)
                        .map(|(_, columns)| columns.clone())
                        .or_else(|| {
                            original_columns(&name).map(|names| names.iter().map(|n| n.to_string()).collect())
                        })
                        .ok_or_else(|| DumpError(format!("{at}: INSERT INTO {name} names no columns")))?,
                };
                for row in &rows {
                    if row.cells.len() != columns.len() {
                        return Err(DumpError(format!(
                            "{source}:{}: a row of {} values for the {} columns of {name}",
                            row.line,
                            row.cells.len(),
                            columns.len()
                        )));
                    }
                }
                match self.tables.iter_mut().find(|table| table.name == name) {
                    Some(table) if table.columns == columns => table.rows.extend(rows),
                    Some(_) => {
                        return Err(DumpError(format!(
                            "{at}: INSERT INTO {name} with other columns than before"
                        )))
                    }
                    None => self.tables.push(Table { source: source.to_string(), name, columns, rows }),
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The tokens of each statement, comments and white space left out.
fn statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon | Token::EOF => {
                if !current.is_empty() {
                    statements.push(std::mem::take(&mut current));
                }
            }
            Token::Whitespace(_) => {}
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        statements.push(current);
    }
    statements
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

/// `hyperf`.`users` is the table `users`.
fn last_part(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).trim_matches(|c| c == '`' || c == '"').to_ascii_lowercase()
}

type InsertRows = (String, Option<Vec<String>>, Vec<Row>);

fn insert_rows(insert: &Insert, at: &str, line_offset: u64) -> Result<InsertRows, DumpError> {
    let name = match &insert.table {
        TableObject::TableName(name) => last_part(&name.to_string()),
        _ => return Err(DumpError(format!("{at}: an INSERT into something other than a table"))),
    };
    let columns = (!insert.columns.is_empty())
        .then(|| insert.columns.iter().map(|column| last_part(&column.to_string())).collect());
    let values = match insert.source.as_deref().map(|query| query.body.as_ref()) {
        Some(SetExpr::Values(values)) => values,
        _ => return Err(DumpError(format!("{at}: an INSERT without VALUES"))),
    };
    let mut rows = Vec::with_capacity(values.rows.len());
    for (index, row) in values.rows.iter().enumerate() {
        let row_line = row.opening_token.0.span.start.line + line_offset;
        let cells = row
            .content
            .iter()
            .enumerate()
            .map(|(column, expr)| {
                cell(expr).ok_or_else(|| {
                    DumpError(format!("{at}, row {}: value {} is not a literal", index + 1, column + 1))
                })
            })
            .collect::<Result<Vec<Cell>, DumpError>>()?;
        rows.push(Row { line: row_line, nth: index + 1, cells });
    }
    Ok((name, columns, rows))
}

fn cell(expr: &Expr) -> Option<Cell> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Null => Some(Cell::Null),
            Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) => {
                Some(Cell::Text(text.clone()))
            }
            Value::Number(number, _) => Some(Cell::Text(number.to_string())),
            Value::Boolean(true) => Some(Cell::Text("1".into())),
            Value::Boolean(false) => Some(Cell::Text("0".into())),
            _ => None,
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => match cell(expr)? {
            Cell::Text(number) => Some(Cell::Text(format!("-{number}"))),
            Cell::Null => None,
        },
        _ => None,
    }
}

/// A CSV file with a header row of column names, as one table: `roles` when it has a
/// `role_name` column, `users` otherwise. An empty field, or MySQL's `\N` (what `SELECT
/// ... INTO OUTFILE` writes for NULL), is NULL.
pub fn read_csv(source: &str, text: &str) -> Result<Table, DumpError> {
    let not_csv = |error: csv::Error| {
        let line = error.position().map_or(0, |position| position.line());
        DumpError(format!("{source}:{line}: not CSV with a header row"))
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let columns: Vec<String> =
        reader.headers().map_err(not_csv)?.iter().map(|name| name.trim().to_ascii_lowercase()).collect();
    let name = if columns.iter().any(|c| c == "role_name") { "roles" } else { "users" };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(not_csv)?;
        let line = record.position().map_or(0, |position| position.line());
        let cells = record
            .iter()
            .map(|field| match field {
                "" | "\\N" => Cell::Null,
                text => Cell::Text(text.to_string()),
            })
            .collect();
        rows.push(Row { line, nth: 1, cells });
    }
    Ok(Table { source: source.to_string(), name: name.to_string(), columns, rows })
}

/// The tables of one file: CSV when its name ends in `.csv`, SQL otherwise.
pub fn read_file(source: &str, text: &str) -> Result<Vec<Table>, DumpError> {
    match source.to_ascii_lowercase().ends_with(".csv") {
        true => Ok(vec![read_csv(source, text)?]),
        false => read_sql(source, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Cell {
        Cell::Text(value.to_string())
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
        assert_eq!(users.place(&users.rows[2]), "users.sql:30");
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
        assert_eq!(roles.place(&roles.rows[3]), "dump.sql:17, row 4");
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
