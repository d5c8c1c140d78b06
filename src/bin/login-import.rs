//! `make import FROM=<files>`: the original PHP service's users and roles into D1. See the
//! README's "Moving from the PHP service", and `login_worker::import` for how.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use login_worker::domain::password::PasswordPolicy;
use login_worker::domain::settings::Settings;
use login_worker::domain::username::native::NativeUnicode;
use login_worker::import::d1::{Target, Wrangler};
use login_worker::import::legacy::Legacy;
use login_worker::import::plan::{plan, Plan, UserWrite};
use login_worker::import::{dump, hashing, sql};

const USAGE: &str = "usage: login-import [--env production] [--default-role ID] [--config wrangler.toml] \
[--persist-to DIR] [--report FILE] [--dry-run] FILE...

FILE: the original service's MySQL dump of users (and roles), as mysqldump or Navicat
writes it, or a CSV file with a header row of its column names. Several files may be given
(users.sql roles.sql).";

struct Options {
    files: Vec<PathBuf>,
    environment: Option<String>,
    default_role: Option<u64>,
    config: PathBuf,
    persist_to: Option<PathBuf>,
    report: PathBuf,
    dry_run: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        files: Vec::new(),
        environment: None,
        default_role: None,
        config: PathBuf::from("wrangler.toml"),
        persist_to: None,
        report: PathBuf::from("import-report.csv"),
        dry_run: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value =
            |name: &str| args.next().filter(|v| !v.is_empty()).ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--env" => options.environment = Some(value("--env")?).filter(|env| env != "local"),
            "--default-role" => {
                let text = value("--default-role")?;
                let id = text.parse().ok().filter(|&id: &u64| id > 0);
                options.default_role =
                    Some(id.ok_or(format!("DEFAULT_ROLE must be a role id, not {text:?}"))?);
            }
            "--config" => options.config = value("--config")?.into(),
            "--persist-to" => options.persist_to = Some(value("--persist-to")?.into()),
            "--report" => options.report = value("--report")?.into(),
            "--dry-run" => options.dry_run = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => options.files.extend(file.split_whitespace().map(PathBuf::from)),
        }
    }
    if options.files.is_empty() {
        return Err("name the file(s) to import: make import FROM=<dump.sql>".into());
    }
    Ok(options)
}

/// The worker's password policy, as the environment's vars in `config` and its
/// `PASSWORD_PEPPER` set it: `PASSWORD_PEPPER` from this process's environment, else
/// (locally) from the `.dev.vars` beside the configuration, as `wrangler dev` reads it.
fn password_policy(config: &Path, environment: Option<&str>) -> Result<PasswordPolicy, String> {
    let text = std::fs::read_to_string(config).map_err(|error| format!("{}: {error}", config.display()))?;
    let toml: toml::Table = text.parse().map_err(|error| format!("{}: {error}", config.display()))?;
    let vars = match environment {
        None => toml.get("vars"),
        Some(env) => toml.get("env").and_then(|envs| envs.get(env)).and_then(|env| env.get("vars")),
    };
    let var = |name: &str| vars.and_then(|vars| vars.get(name)).and_then(|v| v.as_str()).map(str::to_string);
    let dev_vars = match environment {
        None => std::fs::read_to_string(config.with_file_name(".dev.vars")).unwrap_or_default(),
        Some(_) => String::new(),
    };
    let pepper = std::env::var("PASSWORD_PEPPER").ok().or_else(|| {
        dev_vars.lines().find_map(|line| {
            let value = line.trim().strip_prefix("PASSWORD_PEPPER=")?;
            Some(value.trim().trim_matches('"').to_string())
        })
    });
    let settings = Settings::from_lookup(|name| match name {
        "PASSWORD_PEPPER" => pepper.clone(),
        _ => var(name),
    })
    .map_err(|error| format!("the worker's settings: {}", error.reason))?;
    Ok(settings.passwords)
}

fn bar(length: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(length as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} ({eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Every skipped row with its reason, and every notice, as CSV.
fn write_report(path: &Path, plan: &Plan) -> Result<(), String> {
    let mut report = csv::Writer::from_path(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let failed = |error: csv::Error| format!("{}: {error}", path.display());
    report.write_record(["what", "table", "line", "id", "name", "reason"]).map_err(failed)?;
    for row in &plan.skipped {
        let line = row.line.to_string();
        report
            .write_record(["skipped", &row.table, &line, &row.id, &row.name, &row.reason])
            .map_err(failed)?;
    }
    for notice in &plan.notices {
        let line = if notice.line == 0 { String::new() } else { notice.line.to_string() };
        report
            .write_record(["imported", &notice.table, &line, &notice.id, &notice.name, &notice.what])
            .map_err(failed)?;
    }
    report.flush().map_err(|error| format!("{}: {error}", path.display()))
}

fn run(options: Options) -> Result<(), String> {
    let started = Instant::now();
    let mut tables = Vec::new();
    for file in &options.files {
        let text = std::fs::read_to_string(file).map_err(|error| format!("{}: {error}", file.display()))?;
        let name = file.to_string_lossy();
        tables.extend(dump::read_file(&name, &text).map_err(|error| format!("{name}: {error}"))?);
    }
    let legacy = Legacy::read(&tables)?;
    println!(
        "Read {} users and {} roles ({} rows unreadable).",
        legacy.users.len(),
        legacy.roles.len(),
        legacy.skipped.len()
    );
    let policy = password_policy(&options.config, options.environment.as_deref())?;
    let target = match &options.environment {
        None => Target::Local { persist_to: options.persist_to.clone() },
        Some(environment) => Target::Remote { environment: environment.clone() },
    };
    let wrangler = Wrangler { command: Wrangler::command_from_env(), config: options.config.clone(), target };
    let present = wrangler.present()?;
    let plan = plan(legacy, &present, options.default_role, &NativeUnicode)
        .map_err(|why| format!("nothing was imported: {why}"))?;
    let placeholders = plan.roles.iter().filter(|role| role.name.ends_with("(not in the dump)")).count();
    println!(
        "To import: {} users and {} roles ({placeholders} of them placeholders); already here: {} users and {} roles; \
         skipped: {} rows.",
        plan.users.len(),
        plan.roles.len(),
        plan.users_present,
        plan.roles_present,
        plan.skipped.len()
    );
    match &plan.default_role_after {
        Some((id, name)) => println!(
            "New registrations get role {id} ({name}){}.",
            match plan.default_role {
                Some(_) => "",
                None => ", as before",
            }
        ),
        None => println!("New registrations get no role."),
    }
    write_report(&options.report, &plan)?;
    if !plan.skipped.is_empty() || !plan.notices.is_empty() {
        println!("Every skipped row, with its reason, and what else to know: {}", options.report.display());
    }
    if options.dry_run {
        println!("A dry run: nothing was written.");
        return Ok(());
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let derivation = hashing::one_derivation(&policy);
    let hashing_started = Instant::now();
    let progress = bar(plan.users.len(), "hashing");
    let md5s: Vec<_> = plan.users.iter().map(|write| &write.user.md5).collect();
    let hashes = hashing::wrap_all(&md5s, &policy, cores, &|| progress.inc(1));
    progress.finish_and_clear();
    let hashing_time = hashing_started.elapsed();

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let batches_dir = tempdir()?;
    // The roles go first, in the first batch: the users' grants refer to them.
    let mut batches: Vec<Vec<String>> = vec![sql::roles_statements(&plan)];
    let users: Vec<(&UserWrite, &str)> = plan.users.iter().zip(hashes.iter().map(String::as_str)).collect();
    for (index, chunk) in users.chunks(sql::USERS_PER_BATCH).enumerate() {
        let statements = sql::users_statements(chunk, now);
        match index {
            0 => batches[0].extend(statements),
            _ => batches.push(statements),
        }
    }
    batches.retain(|batch| !batch.is_empty());
    let progress = bar(batches.len(), "writing");
    for (index, batch) in batches.iter().enumerate() {
        let file = batches_dir.join(format!("batch-{index:05}.sql"));
        std::fs::write(&file, batch.join("\n")).map_err(|error| format!("{}: {error}", file.display()))?;
        let written = wrangler.run_file(&file);
        // A batch holds hashes: none is left on disk.
        let _ = std::fs::remove_file(&file);
        written.map_err(|error| {
            format!("batch {} of {} failed; the ones before it are written, and importing again finishes the job:\n{error}", index + 1, batches.len())
        })?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    let _ = std::fs::remove_dir(&batches_dir);

    // A registration that took an id, account or phone between the look and the write
    // wins; say which users that kept out.
    let after = wrangler.present()?;
    let missing: Vec<u64> = plan
        .users
        .iter()
        .filter(|write| {
            !after.users.iter().any(|u| u.id == write.user.id && u.account == write.user.account.as_str())
        })
        .map(|write| write.user.id)
        .collect();
    if !missing.is_empty() {
        println!("Taken while importing (registrations meanwhile), so not imported: users {missing:?}.");
    }
    let total = started.elapsed();
    let floor = derivation.as_secs_f64() * plan.users.len() as f64 / cores as f64;
    println!(
        "Imported {} users and {} roles in {:.1} s.",
        plan.users.len() - missing.len(),
        plan.roles.len(),
        total.as_secs_f64()
    );
    if !plan.users.is_empty() {
        println!(
            "Timing: {:.1} users/s; hashing {:.2} s, {:.2} × its floor ({} users × {:.1} ms for one derivation at \
             {} iterations ÷ {cores} cores = {floor:.2} s); the whole import {:.2} × the floor.",
            plan.users.len() as f64 / total.as_secs_f64(),
            hashing_time.as_secs_f64(),
            hashing_time.as_secs_f64() / floor,
            plan.users.len(),
            derivation.as_secs_f64() * 1000.0,
            policy.iterations,
            total.as_secs_f64() / floor,
        );
    }
    Ok(())
}

/// A private folder for the batch files.
fn tempdir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("login-import-{}", std::process::id()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.recursive(true).create(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    Ok(dir)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("{problem}");
            ExitCode::FAILURE
        }
    }
}
