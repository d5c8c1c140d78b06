//! What the original service's tables hold, read from the files an operator has: a MySQL
//! dump (as `mysqldump` writes it, one extended `INSERT ... VALUES (...),(...)` per
//! table, or as Navicat does, one `INSERT` per row) or a CSV file whose header row names
//! the columns.
//!
//! SQL is read by `sqlparser` (its MySQL dialect: backquoted names, backslash escapes,
//! `/*!...*/` comments) and CSV by `csv`, so a quote or a semicolon in a name is just a
//! character. Only `CREATE TABLE` (for the column order) and `INSERT` are looked at;
//! `SET`, `LOCK TABLES`, `DROP TABLE` and the rest of a dump are passed over.

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

/// One row, with the line of the file it starts on (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<Cell>,
}

/// A table's rows, each with a value for every one of `columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
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
}

/// Why a file could not be read at all (a row that is only wrong is the importer's to
/// report, not this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpError(pub String);

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// The tables of a MySQL dump, in the order their rows first appear; rows of one table in
/// several `INSERT`s are gathered into one.
pub fn read_sql(text: &str) -> Result<Vec<Table>, DumpError> {
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|error| DumpError(format!("not SQL that MySQL writes: {error}")))?;
    let mut created: Vec<(String, Vec<String>)> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    for statement in statements(tokens) {
        let first_word = statement.iter().find_map(|token| match &token.token {
            Token::Word(word) => Some(word.value.to_ascii_uppercase()),
            _ => None,
        });
        let line = statement.first().map_or(0, |token| token.span.start.line);
        match first_word.as_deref() {
            Some("INSERT") | Some("REPLACE") | Some("CREATE") => {}
            _ => continue,
        }
        let parsed = Parser::new(&dialect)
            .with_tokens_with_locations(statement)
            .parse_statement()
            .map_err(|error| DumpError(format!("line {line}: {error}")))?;
        match parsed {
            Statement::CreateTable(CreateTable { name, columns, .. }) => {
                let name = last_part(&name.to_string());
                let columns = columns.iter().map(|column| column.name.value.to_ascii_lowercase()).collect();
                created.retain(|(table, _)| *table != name);
                created.push((name, columns));
            }
            Statement::Insert(insert) => {
                let (name, columns, rows) = insert_rows(&insert, line)?;
                let columns = match columns {
                    Some(columns) => columns,
                    None => created
                        .iter()
                        .find(|(table, _)| *table == name)
                        .map(|(_, columns)| columns.clone())
                        .or_else(|| {
                            original_columns(&name).map(|names| names.iter().map(|n| n.to_string()).collect())
                        })
                        .ok_or_else(|| {
                            DumpError(format!(
                                "line {line}: INSERT INTO {name} names no columns, and no CREATE TABLE does"
                            ))
                        })?,
                };
                for row in &rows {
                    if row.cells.len() != columns.len() {
                        return Err(DumpError(format!(
                            "line {}: a row of {} values for the {} columns of {name}",
                            row.line,
                            row.cells.len(),
                            columns.len()
                        )));
                    }
                }
                match tables.iter_mut().find(|table| table.name == name) {
                    Some(table) if table.columns == columns => table.rows.extend(rows),
                    Some(_) => {
                        return Err(DumpError(format!(
                            "line {line}: INSERT INTO {name} with other columns than before"
                        )))
                    }
                    None => tables.push(Table { name, columns, rows }),
                }
            }
            _ => {}
        }
    }
    Ok(tables)
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

/// `hyperf`.`users` is the table `users`.
fn last_part(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).trim_matches(|c| c == '`' || c == '"').to_ascii_lowercase()
}

type InsertRows = (String, Option<Vec<String>>, Vec<Row>);

fn insert_rows(insert: &Insert, line: u64) -> Result<InsertRows, DumpError> {
    let name = match &insert.table {
        TableObject::TableName(name) => last_part(&name.to_string()),
        _ => return Err(DumpError(format!("line {line}: an INSERT into something other than a table"))),
    };
    let columns = (!insert.columns.is_empty())
        .then(|| insert.columns.iter().map(|column| last_part(&column.to_string())).collect());
    let values = match insert.source.as_deref().map(|query| query.body.as_ref()) {
        Some(SetExpr::Values(values)) => values,
        _ => return Err(DumpError(format!("line {line}: an INSERT without VALUES"))),
    };
    let mut rows = Vec::with_capacity(values.rows.len());
    for row in &values.rows {
        let row_line = row.opening_token.0.span.start.line;
        let cells = row
            .content
            .iter()
            .map(|expr| {
                cell(expr).ok_or_else(|| DumpError(format!("line {row_line}: {expr} is not a value")))
            })
            .collect::<Result<Vec<Cell>, DumpError>>()?;
        rows.push(Row { line: row_line, cells });
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
pub fn read_csv(text: &str) -> Result<Table, DumpError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|error| DumpError(format!("not CSV: {error}")))?
        .iter()
        .map(|name| name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let name = if columns.iter().any(|c| c == "role_name") { "roles" } else { "users" };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| DumpError(format!("not CSV: {error}")))?;
        let line = record.position().map_or(0, |position| position.line());
        let cells = record
            .iter()
            .map(|field| match field {
                "" | "\\N" => Cell::Null,
                text => Cell::Text(text.to_string()),
            })
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(Table { name: name.to_string(), columns, rows })
}

/// The tables of one file: CSV when its name ends in `.csv`, SQL otherwise.
pub fn read_file(name: &str, text: &str) -> Result<Vec<Table>, DumpError> {
    match name.to_ascii_lowercase().ends_with(".csv") {
        true => Ok(vec![read_csv(text)?]),
        false => read_sql(text),
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
        let tables = read_sql(NAVICAT).unwrap();
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
        let tables = read_sql(MYSQLDUMP).unwrap();
        assert_eq!(tables.len(), 1);
        let roles = &tables[0];
        assert_eq!((roles.name.as_str(), roles.columns.len(), roles.rows.len()), ("roles", 4, 4));
        assert_eq!(roles.rows[1].cells[1], text("默认角色"));
        assert_eq!(roles.rows[2].cells[1], text("it's a \"role\"\nwith a line\\"));
        assert_eq!(roles.rows[3].cells[1], text("tab\there"));
        assert_eq!(roles.rows[3].cells[2], Cell::Null);
    }

    #[test]
    fn inserts_without_create_table_take_the_original_columns_or_their_own() {
        let data_only = "INSERT INTO `roles` VALUES (2,'默认角色','no','','','active',NULL,NULL);";
        let roles = &read_sql(data_only).unwrap()[0];
        assert_eq!(roles.columns.len(), 8);
        assert_eq!(roles.cell(&roles.rows[0], "role_name"), Some(&text("默认角色")));
        let complete = "INSERT INTO hyperf.users (`id`, `phone`, account) VALUES (7, '13911119999', 'a'), (-8, '1', 'b');";
        let users = &read_sql(complete).unwrap()[0];
        assert_eq!(users.columns, ["id", "phone", "account"]);
        assert_eq!(users.rows[1].cells[0], text("-8"));
        let unknown = "INSERT INTO `goods` VALUES (1, 'x');";
        assert!(read_sql(unknown).unwrap_err().0.contains("names no columns"));
    }

    #[test]
    fn broken_dumps_say_where() {
        let short_row = "INSERT INTO `roles` (id, role_name) VALUES (1, 'a'), (2);";
        assert!(read_sql(short_row).unwrap_err().0.contains("a row of 1 values"), "{short_row}");
        let unclosed = "INSERT INTO `roles` (id, role_name) VALUES (1, 'a);";
        assert!(read_sql(unclosed).is_err());
        let not_a_value = "INSERT INTO `roles` (id, role_name) VALUES (1, NOW());";
        assert!(read_sql(not_a_value).unwrap_err().0.contains("is not a value"));
    }

    #[test]
    fn csv_has_its_header_quotes_nulls_and_lines() {
        let csv = "id,account,password,phone,status,role_id,create_time\n\
                   1,\"Jerry, \"\"the\"\" mouse\",0b2952b0d93576dd24b49dcb66a9c7d8,15361158702,active,\"1,3\",2023-12-04 01:40:33\n\
                   2,\"two\nlines\",fcea920f7412b5da7be0cf42b8c93759,13939265073,\\N,,\n\
                   3,李四🎉,fcea920f7412b5da7be0cf42b8c93759,13939265075,ban,3,\n";
        let users = read_csv(csv).unwrap();
        assert_eq!(users.name, "users");
        assert_eq!(users.rows.len(), 3);
        assert_eq!(users.rows[0].cells[1], text("Jerry, \"the\" mouse"));
        assert_eq!(users.rows[0].cells[5], text("1,3"));
        assert_eq!(users.rows[1].cells[1], text("two\nlines"));
        assert_eq!(users.rows[1].cells[4], Cell::Null);
        assert_eq!(users.rows[1].cells[5], Cell::Null);
        assert_eq!(users.rows[2].cells[1], text("李四🎉"));
        assert_eq!(users.rows[2].line, 5);
        let roles = read_csv("id,role_name,super_admin\n2,默认角色,no\n").unwrap();
        assert_eq!(roles.name, "roles");
    }
}
