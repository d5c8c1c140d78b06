//! `make import FROM=<files>`: the original PHP service's users and roles into D1. See the
//! README's "Moving from the PHP service", and `login_worker::import` for how.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use login_worker::domain::password::PasswordPolicy;
use login_worker::domain::random::{Randomness, SecureRandom};
use login_worker::domain::settings::Settings;
use login_worker::domain::username::native::NativeUnicode;
use login_worker::import::d1::{Target, Wrangler};
use login_worker::import::legacy::Legacy;
use login_worker::import::plan::{plan, DefaultRole, DefaultRoleChoice, Origin, Plan, UserWrite};
use login_worker::import::{dump, hashing, report, sql};

const USAGE: &str =
    "usage: login-import [--env production] [--default-role ID|none] [--config wrangler.toml] \
[--persist-to DIR] [--report FILE] [--dry-run] FILE...

FILE: the original service's MySQL dump of users (and roles), as mysqldump or Navicat
writes it, or a CSV file with a header row of its column names. Several files may be given
(users.sql roles.sql).";

struct Options {
    files: Vec<PathBuf>,
    environment: Option<String>,
    default_role: Option<DefaultRoleChoice>,
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
                options.default_role = Some(match (text.as_str(), id) {
                    ("none", _) => DefaultRoleChoice::Nothing,
                    (_, Some(id)) => DefaultRoleChoice::Role(id),
                    _ => return Err(format!("DEFAULT_ROLE must be a role id or none, not {text:?}")),
                });
            }
            "--config" => options.config = value("--config")?.into(),
            "--persist-to" => options.persist_to = Some(value("--persist-to")?.into()),
            "--report" => options.report = value("--report")?.into(),
            "--dry-run" => options.dry_run = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => options.files.push(PathBuf::from(file)),
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
        Some(env) => {
            let section = toml.get("env").and_then(|envs| envs.get(env));
            section
                .ok_or_else(|| format!("{} has no environment {env:?} ([env.{env}])", config.display()))?
                .get("vars")
        }
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

/// Runs one batch from a file that only this user can read, and removes it: a batch holds
/// password hashes.
fn run_batch(wrangler: &Wrangler, dir: &Path, index: usize, statements: &[String]) -> Result<(), String> {
    let file = dir.join(format!("batch-{index:05}.sql"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&file)
        .and_then(|mut out| std::io::Write::write_all(&mut out, statements.join("\n").as_bytes()))
        .map_err(|error| format!("{}: {error}", file.display()));
    let ran = written.and_then(|()| wrangler.run_file(&file));
    let _ = std::fs::remove_file(&file);
    ran
}

fn run(options: Options) -> Result<(), String> {
    let started = Instant::now();
    // Nothing is written before every file is read: a file that cannot be read stops the
    // import with nothing imported.
    let mut legacy = Legacy::default();
    for file in &options.files {
        dump::read_file(file, &mut legacy).map_err(|error| format!("Nothing was imported: {error}."))?;
    }
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
    let plan = plan(legacy, &present, options.default_role, &NativeUnicode).map_err(|why| {
        // Locally, what stands in the way is most often what a developer tried first (the
        // README's first session registers users with the default role).
        let way_out = match &options.environment {
            None => {
                "\nIf the users here are only tries, import into a fresh local database: stop `make dev`, \
                 run `make import FROM=... FRESH=1` (it moves .wrangler/state aside to \
                 .wrangler/state.before-import-<time>), then start `make dev` again."
            }
            Some(_) => "\nThis database's roles must be reconciled with the dump's by hand first (wrangler d1 execute).",
        };
        format!("Nothing was imported: {why}.{way_out}")
    })?;
    let placeholders = plan.roles.iter().filter(|role| role.origin == Origin::Placeholder).count();
    println!(
        "To import: {} users and {} roles ({placeholders} of them placeholders); already here: {} users and {} roles; \
         skipped: {} rows.",
        plan.users.len(),
        plan.roles.len(),
        plan.users_present,
        plan.roles_present,
        plan.skipped.len()
    );
    match &plan.default_role {
        DefaultRole::Set(id, name) => println!("New registrations get role {id} ({name})."),
        DefaultRole::Nothing => println!("New registrations get no role."),
        DefaultRole::Unchanged(roles) if roles.is_empty() => {
            println!("New registrations get no role, as before.")
        }
        DefaultRole::Unchanged(roles) => {
            let roles: Vec<String> = roles.iter().map(|(id, name)| format!("{id} ({name})")).collect();
            println!("New registrations get role {}, as before.", roles.join(", "))
        }
    }
    report::write(&options.report, &plan, &[])?;
    if !plan.skipped.is_empty() || !plan.notices.is_empty() {
        println!("Every skipped row, with its reason, and what else to know: {}", options.report.display());
    }
    if options.dry_run {
        println!("A dry run: no user or role was written.");
        return Ok(());
    }

    let batches_dir = private_dir()?;
    let outcome = write(&options, &wrangler, &plan, &policy, &batches_dir, started);
    let _ = std::fs::remove_dir_all(&batches_dir);
    outcome
}

fn write(
    options: &Options,
    wrangler: &Wrangler,
    plan: &Plan,
    policy: &PasswordPolicy,
    batches_dir: &Path,
    started: Instant,
) -> Result<(), String> {
    // The roles and the reserved ids first, before the hashing: from then on, no
    // registration can take a role whose meaning changes, or an imported id.
    let first = sql::first_statements(plan);
    if !first.is_empty() {
        run_batch(wrangler, batches_dir, 0, &first).map_err(|error| match error.contains(sql::ROLE_CHANGED_MEANWHILE) {
            true => "Nothing was imported: a role changed while the import ran (a registration took one the import \
                     renames, or another import ran). Run the import again to see why."
                .to_string(),
            false => error,
        })?;
        if let Some(id) = plan.reserve_ids_through() {
            println!("Roles written; new registrations get ids after {id}.");
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let derivation = hashing::one_derivation(policy);
    let hashing_started = Instant::now();
    let progress = bar(plan.users.len(), "hashing");
    let md5s: Vec<_> = plan.users.iter().map(|write| &write.user.md5).collect();
    let hashes = hashing::wrap_all(&md5s, policy, cores, &|| progress.inc(1));
    progress.finish_and_clear();
    let hashing_time = hashing_started.elapsed();
    println!("Hashed {} users in {:.1} s.", plan.users.len(), hashing_time.as_secs_f64());
    let _ = std::io::Write::flush(&mut std::io::stdout());

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let users: Vec<(&UserWrite, &str)> = plan.users.iter().zip(hashes.iter().map(String::as_str)).collect();
    let batches: Vec<&[(&UserWrite, &str)]> = users.chunks(sql::USERS_PER_BATCH).collect();
    let progress = bar(batches.len(), "writing");
    for (index, batch) in batches.iter().enumerate() {
        run_batch(wrangler, batches_dir, index + 1, &sql::users_statements(batch, now)).map_err(|error| {
            format!(
                "Batch {} of {} failed; the ones before it are written, and importing again finishes the job:\n{error}",
                index + 1,
                batches.len()
            )
        })?;
        progress.inc(1);
    }
    progress.finish_and_clear();

    // A registration that took an account or phone between the look and the write wins;
    // the report names the users it kept out.
    let after = wrangler.present()?;
    let accounts: HashMap<u64, &str> =
        after.users.iter().map(|user| (user.id, user.account.as_str())).collect();
    let kept_out: Vec<&UserWrite> = plan
        .users
        .iter()
        .filter(|write| accounts.get(&write.user.id) != Some(&write.user.account.as_str()))
        .collect();
    if !kept_out.is_empty() {
        report::write(&options.report, plan, &kept_out)?;
        println!(
            "{} users were kept out by registrations while the import ran: see {}.",
            kept_out.len(),
            options.report.display()
        );
    }
    let total = started.elapsed();
    println!(
        "Imported {} users and {} roles in {:.1} s.",
        plan.users.len() - kept_out.len(),
        plan.roles.len(),
        total.as_secs_f64()
    );
    if !plan.users.is_empty() {
        let floor = derivation.as_secs_f64() * plan.users.len() as f64 / cores as f64;
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

/// A folder of the batch files that only this user can enter, made anew (never one that
/// is already there).
fn private_dir() -> Result<PathBuf, String> {
    let suffix: String = SecureRandom.bytes::<8>().iter().map(|byte| format!("{byte:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("login-import-{suffix}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
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
