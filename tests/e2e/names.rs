//! Account names under the PRECIS username profile, as the worker computes it from its
//! JavaScript runtime's Unicode data: look-alikes are one account, invisible and other
//! disallowed characters are refused, new names that imitate another across scripts are
//! refused, accounts made before keep logging in, and the migrations and schema.sql make
//! the same database.

use login_worker::domain::look_alikes::check_new_name;
use login_worker::domain::password::{NativePbkdf2, PasswordHash, PasswordPolicy};
use login_worker::domain::random::SecureRandom;
use login_worker::domain::username::native::NativeUnicode;
use login_worker::domain::username::username_key;
use pollster::block_on;
use serde_json::{json, Value};

use crate::client::Client;
use crate::support::*;
use crate::worker::{fresh_state_dir, wrangler, TestWorker};
use crate::{OwnTest, SharedTest};

pub const SHARED_TESTS: &[SharedTest] = tests![
    look_alike_names_are_one_account_and_invisible_ones_are_refused,
    the_worker_computes_the_same_keys_as_the_native_rules,
    look_alikes_across_scripts_are_refused_and_the_names_they_imitate_register,
    the_worker_tells_scripts_apart_as_the_native_rules_do,
];

pub const OWN_TESTS: &[OwnTest] =
    tests![accounts_made_before_keys_log_in_as_before, the_migrations_and_schema_sql_make_the_same_database,];

fn register(client: &Client, account: &str, phone: &str) -> crate::client::Reply {
    let code = send_code(client, phone);
    client.post("/login/register", &registration(account, PASSWORD, phone, &code))
}

fn look_alike_names_are_one_account_and_invisible_ones_are_refused(worker: &TestWorker) {
    let client = worker.client();
    let n = unique_number() % 1_000_000;
    let account = format!("Zoe_{n}");
    register(&client, &account, &unique_phone()).expect(200, 200);
    let fullwidth: String = account
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect::<String>()
        .to_uppercase();
    for look_alike in [fullwidth.clone(), account.to_uppercase(), format!("ｚoe_{n}")] {
        let taken = register(&client, &look_alike, &unique_phone());
        taken.expect(50007, 409);
        // Each is the one account, whose password logs in.
        log_in(&client, &look_alike, PASSWORD);
    }
    for invisible in ["\u{200B}", "\u{200D}", "\u{FEFF}", "\u{AD}", "\u{E0041}", "\u{3164}", "\u{202E}"] {
        let phone = unique_phone();
        let code = send_code(&client, &phone);
        let name = format!("Zoe{invisible}_{n}");
        let refused = client.post("/login/register", &registration(&name, PASSWORD, &phone, &code));
        refused.expect(9906, 422);
        assert!(refused.msg().ends_with("account 账号含有用户名不允许的字符"), "{name:?}: {}", refused.msg());
        // Refused before the code was tried: it still registers a proper name.
        let fine = format!("zoe_{n}_{}", unique_number() % 1_000_000);
        client.post("/login/register", &registration(&fine, PASSWORD, &phone, &code)).expect(200, 200);
    }
    for other in ["\u{FB01}x", "\u{212A}elvin", "zoe zoe", "zoe☃"] {
        register(&client, &format!("{other}_{n}"), &unique_phone()).expect(9906, 422);
    }
}

/// Each name gets, from the worker, what the native rules (held to `precis-profiles` by
/// the unit tests) give it: refused by both, or registered with the same key, which then
/// logs in as itself.
fn the_worker_computes_the_same_keys_as_the_native_rules(worker: &TestWorker) {
    let client = worker.client();
    let names = [
        "Müller",
        "MÜLLER",
        "Mu\u{308}ller2",
        "ΣΑΣ",
        "Ǆemal",
        "ǅemal2",
        "Straße",
        "İstanbul",
        "张三",
        "ﾊﾝｶｸ",
        "ｶﾞｷ",
        "Ⅻ",
        "①",
        "㍿",
        "ıvan",
        "שלום",
        "1שלום",
        "abcשלום",
        "محمد",
        "محمد١٢",
        "محمد١2",
        "می\u{200C}خواهم",
        "a\u{200C}b",
        "क\u{94D}\u{200D}ष",
        "col\u{B7}lecció",
        "a\u{B7}b",
        "ア\u{30FB}イ",
        "a\u{30FB}b",
        "\u{375}α",
        "\u{375}a",
        "א\u{5F3}",
        "\u{660}\u{6F0}",
        "x\u{301}",
        "\u{301}x",
        "Ελληνικά",
        "Кириллица",
        "日本語テスト",
        "한국어",
        "\u{1F600}",
        "\u{E000}",
        "\u{10FFFD}",
    ];
    let n = unique_number() % 100_000;
    for (i, name) in names.iter().enumerate() {
        // A suffix of ASCII digits keeps each run's names apart and changes no rule.
        let name = format!("{name}{n}{i}");
        let expected = username_key(&name, &NativeUnicode);
        let reply = register(&client, &name, &unique_phone());
        match &expected {
            Err(_) => {
                reply.expect(9906, 422);
            }
            Ok(key) => {
                assert_eq!(reply.code(), 200, "{name:?} (key {key:?}): {}", reply.text);
                log_in(&client, key, PASSWORD);
            }
        }
    }
}

/// Each name registers; its look-alike (another script's letter, kana for a Han
/// ideograph, a dotless i under a dot, an invisible tone mark) is refused as a name with
/// a character a name may not have, before the code is tried; and the name still logs in.
fn look_alikes_across_scripts_are_refused_and_the_names_they_imitate_register(worker: &TestWorker) {
    let client = worker.client();
    let n = unique_number() % 1_000_000;
    let pairs = [
        (format!("paypal{n}"), format!("p\u{430}ypal{n}")),
        (format!("omega{n}"), format!("\u{3bf}mega{n}")),
        (format!("工藤{n}"), format!("エ藤{n}")),
        (format!("张三力{n}"), format!("张三カ{n}")),
        (format!("口红{n}"), format!("ロ红{n}")),
        (format!("张一{n}"), format!("张ー{n}")),
        (format!("ivan{n}"), format!("\u{131}\u{307}van{n}")),
        (format!("{n}张三"), format!("{n}张三\u{302A}")),
    ];
    for (name, look_alike) in pairs {
        register(&client, &name, &unique_phone()).expect(200, 200);
        let phone = unique_phone();
        let code = send_code(&client, &phone);
        let refused = client.post("/login/register", &registration(&look_alike, PASSWORD, &phone, &code));
        refused.expect(9906, 422);
        assert!(
            refused.msg().ends_with("account 账号含有用户名不允许的字符"),
            "{look_alike:?}: {}",
            refused.msg()
        );
        // Refused before the code was tried: it still registers another name.
        let fine = format!("zoe_{n}_{}", unique_number() % 1_000_000);
        client.post("/login/register", &registration(&fine, PASSWORD, &phone, &code)).expect(200, 200);
        log_in(&client, &name, PASSWORD);
    }
}

/// Each name gets from the worker, whose scripts come from its runtime's expressions,
/// what the native rules (on `unicode-script`) give it: registered, or refused. The
/// characters are the ones the rules turn on: letters that pass for Latin, kana beside
/// Han, characters of several scripts (the prolonged sound mark, the katakana middle dot,
/// Arabic-Indic and Devanagari digits, kana voicing marks, Vedic signs), marks of every
/// script, and scripts that stand alone.
fn the_worker_tells_scripts_apart_as_the_native_rules_do(worker: &TestWorker) {
    let client = worker.client();
    let names = [
        "p\u{430}ypal",
        "\u{440}\u{430}\u{443}",
        "\u{3bf}mega",
        "\u{3b1}\u{3b2}",
        "\u{3b1}\u{430}",
        "张三abc",
        "张三カ",
        "张三カタ",
        "张三さくら",
        "abcエ",
        "タカ",
        "张ー",
        "ラーメン二郎",
        "ア\u{30FB}イ",
        "张\u{30FB}三",
        "ａ\u{30FB}ｂ张",
        "々木",
        "ｶ力",
        "ガ\u{3099}",
        "が\u{309A}ん",
        "张ㄅ",
        "张한",
        "한ㄅ",
        "김kim",
        "ㄅa",
        "\u{661}\u{662}",
        "محمد\u{661}",
        "ܐܒ\u{661}",
        "\u{966}\u{967}",
        "नम\u{966}",
        "ক\u{966}",
        "क\u{1CD0}",
        "abcनमस्ते",
        "abc\u{5d0}",
        "ᠮᠣᠩᠭᠣᠯ",
        "ꆈꌠ",
        "Ꭰabc",
        "ꆈabc",
        "ไทย",
        "ไทยlao\u{e81}",
        "\u{131}\u{307}",
        "\u{237}\u{301}",
        "i\u{307}x",
        "e\u{301}\u{301}",
        "a\u{302A}",
        "张\u{302D}",
        "a\u{16FE4}",
        "Nguy\u{1ec5}n",
    ];
    let n = unique_number() % 100_000;
    for (i, name) in names.iter().enumerate() {
        let name = format!("{name}{n}{i}");
        let expected =
            username_key(&name, &NativeUnicode).is_ok() && check_new_name(&name, &NativeUnicode).is_ok();
        let reply = register(&client, &name, &unique_phone());
        let code = if expected { 200 } else { 9906 };
        assert_eq!(
            reply.code(),
            code,
            "{name:?} (natively {}): {}",
            if expected { "registers" } else { "refused" },
            reply.text
        );
    }
}

/// A database made before keys (migration 0001 alone, as the schema.sql of then made
/// it), with accounts in it; then the worker, whose start applies migration 0002.
fn accounts_made_before_keys_log_in_as_before() {
    let state = fresh_state_dir();
    let dir = state.to_str().unwrap();
    let policy = PasswordPolicy::new(1_000);
    let hash =
        block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, PASSWORD, &policy)).unwrap().encode();
    // `Ｗｉｄｅ` and `wide` were two accounts (COLLATE NOCASE folds ASCII only); the
    // migration gives `wide` the key both names now have.
    let old = ["OldFoo_1", "老用户", "Old\u{200B}Zw", "Ｗｉｄｅ", "wide", "Café", "张三abc"];
    let rows: Vec<String> =
        old.iter().map(|account| format!("('{account}', '+86{}', '{hash}', 0)", unique_phone())).collect();
    let insert =
        format!("INSERT INTO users (account, phone, password_hash, created_at) VALUES {}", rows.join(", "));
    // The migration and the accounts in one run of wrangler (each run takes seconds).
    let migration =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_initial.sql"))
            .expect("migration 0001");
    let then = state.join("then.sql");
    std::fs::write(&then, format!("{migration}\n{insert};\n")).expect("write the old database's SQL");
    wrangler(&["d1", "execute", "DB", "--local", "--persist-to", dir, "--file", then.to_str().unwrap()]);

    let worker = TestWorker::start_with(&state, &[]);
    let client = worker.client();
    // Each logs in as before, the ASCII one in any ASCII case.
    for account in ["oldfoo_1", "OLDFOO_1", "老用户", "Old\u{200B}Zw", "Ｗｉｄｅ", "WIDE"] {
        log_in(&client, account, PASSWORD);
    }
    // Each of the two logs in as itself.
    let uid_of = |account: &str| {
        let (jwt, _) = log_in(&client, account, PASSWORD);
        client.post("/login/jwt/status", &json!({ "jwt": jwt })).data()["uid"].clone()
    };
    assert_eq!((uid_of("Ｗｉｄｅ"), uid_of("wide")), (json!(4), json!(5)));
    // The ASCII account got its key from the migration, so its look-alikes are taken.
    let keys = worker.query("SELECT account, account_key FROM users ORDER BY id");
    assert_eq!(keys[0], json!({"account": "OldFoo_1", "account_key": "oldfoo_1"}));
    assert_eq!(keys[1]["account_key"], Value::Null, "no key is guessed for other names");
    register(&client, "ＯＬＤＦＯＯ_1", &unique_phone()).expect(50007, 409);
    // A registration first gives the others their keys, where no other account holds
    // one: so their look-alikes are taken too.
    for look_alike in ["Cafe\u{301}", "CAFÉ", "张三ａｂｃ"] {
        register(&client, look_alike, &unique_phone()).expect(50007, 409);
    }
    let keys = worker.query("SELECT account, account_key FROM users ORDER BY id");
    let key_of = |i: usize| keys[i]["account_key"].clone();
    assert_eq!((key_of(1), key_of(5), key_of(6)), (json!("老用户"), json!("café"), json!("张三abc")));
    assert_eq!(key_of(2), Value::Null, "a name the profile refuses has none");
    assert_eq!(key_of(3), Value::Null, "`wide` holds the key of `Ｗｉｄｅ`");
    assert_eq!((uid_of("Ｗｉｄｅ"), uid_of("wide"), uid_of("Cafe\u{301}")), (json!(4), json!(5), json!(6)));
    // New accounts are keyed.
    register(&client, "新用户", &unique_phone()).expect(200, 200);
    let new = worker.query("SELECT account_key FROM users WHERE account = '新用户'");
    assert_eq!(new[0]["account_key"], "新用户");
}

/// The database the migrations make and the one schema.sql makes have the same tables,
/// columns, indexes and record of applied migrations; and `migrations apply` finds
/// nothing to do on the second, so an operator may start from either.
fn the_migrations_and_schema_sql_make_the_same_database() {
    let (migrated, from_schema) = (fresh_state_dir(), fresh_state_dir());
    let (migrated, from_schema) = (migrated.to_str().unwrap(), from_schema.to_str().unwrap());
    wrangler(&["d1", "migrations", "apply", "DB", "--local", "--persist-to", migrated]);
    wrangler(&["d1", "execute", "DB", "--local", "--persist-to", from_schema, "--file", "schema.sql"]);
    let shape = |state: &str| {
        let sql = "SELECT m.name AS tbl, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
                   FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                   WHERE m.type = 'table' AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                   ORDER BY 1, 2; \
                   SELECT m.name AS tbl, i.name, i.\"unique\", i.origin, i.partial, \
                   (SELECT group_concat(c.name) FROM pragma_index_info(i.name) c) AS columns \
                   FROM sqlite_master m JOIN pragma_index_list(m.name) i \
                   WHERE m.type = 'table' AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY 1, 2; \
                   SELECT name FROM d1_migrations ORDER BY name; \
                   SELECT id, name, is_default FROM roles ORDER BY id";
        let out =
            wrangler(&["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql]);
        let parsed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        parsed.as_array().unwrap().iter().map(|result| result["results"].clone()).collect::<Vec<_>>()
    };
    let (a, b) = (shape(migrated), shape(from_schema));
    assert!(a[0].as_array().unwrap().iter().any(|column| column["name"] == "account_key"), "{:#}", a[0]);
    assert!(a[0].as_array().unwrap().iter().any(|column| column["name"] == "super_admin"), "{:#}", a[0]);
    // Every migration in the folder, applied.
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let applied: Vec<Value> = files.iter().map(|name| json!({ "name": name })).collect();
    assert_eq!(a[2], json!(applied));
    for (part, (a, b)) in ["columns", "indexes", "applied migrations", "roles"].iter().zip(a.iter().zip(&b)) {
        assert_eq!(a, b, "{part} differ between the migrations and schema.sql");
    }
    let again = wrangler(&["d1", "migrations", "apply", "DB", "--local", "--persist-to", from_schema]);
    assert!(again.contains("No migrations to apply"), "{again}");
}
