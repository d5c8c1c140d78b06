//! The D1 side of an import: `wrangler d1 execute`, on the local database that `make dev`
//! serves or on the production one (`--remote`). Wrangler, not a client of our own: it
//! knows where the local database lives and how to reach the remote one with the
//! operator's login.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use super::plan::{Origin, Present, PresentRole, PresentUser};

/// Which database.
#[derive(Debug, Clone)]
pub enum Target {
    /// The local one, in `.wrangler/state` or in `persist_to`.
    Local { persist_to: Option<PathBuf> },
    /// The one of a `wrangler.toml` environment on Cloudflare.
    Remote { environment: String },
}

/// How to run wrangler, and on which database.
#[derive(Debug, Clone)]
pub struct Wrangler {
    /// The program and the arguments before wrangler's own: `node <wrangler.js>` as
    /// scripts/toolchain.sh sets it up, or `npx wrangler`.
    pub command: Vec<String>,
    pub config: PathBuf,
    pub target: Target,
}

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

#[derive(Deserialize)]
struct UserRow {
    id: u64,
    account: String,
    account_key: Option<String>,
    phone: String,
}

#[derive(Deserialize)]
struct RoleRow {
    id: u64,
    name: String,
    is_default: i64,
    super_admin: i64,
    origin: String,
    holders: u64,
}

/// The users (but a reservation row an interrupted import left, see
/// `sql::first_statements`) and the roles.
const PRESENT_QUERY: &str = "SELECT id, account, account_key, phone FROM users WHERE phone <> '+0'; \
     SELECT r.id AS id, r.name AS name, r.is_default AS is_default, r.super_admin AS super_admin, r.origin AS origin, \
     (SELECT count(*) FROM user_roles WHERE role_id = r.id) AS holders FROM roles r;";

impl Wrangler {
    /// `LOGIN_NODE` and `LOGIN_WRANGLER` (what `make` sets up), else `npx wrangler`.
    pub fn command_from_env() -> Vec<String> {
        match (std::env::var("LOGIN_NODE"), std::env::var("LOGIN_WRANGLER")) {
            (Ok(node), Ok(wrangler)) => vec![node, wrangler],
            _ => vec!["npx".into(), "wrangler".into()],
        }
    }

    fn target_args(&self) -> Vec<String> {
        match &self.target {
            Target::Local { persist_to } => {
                let mut args = vec!["--local".to_string()];
                if let Some(dir) = persist_to {
                    args.extend(["--persist-to".to_string(), dir.to_string_lossy().into_owned()]);
                }
                args
            }
            Target::Remote { environment } => {
                vec!["--remote".into(), "--env".into(), environment.clone(), "--yes".into()]
            }
        }
    }

    /// Runs `wrangler d1 execute DB` with `args`, returning what it printed. A local
    /// database can be held by the running worker for a moment, and a remote call can
    /// fail on the way; every batch is safe to run again, so a failure is retried.
    fn execute(&self, args: &[&str]) -> Result<String, String> {
        let mut failure = String::new();
        for attempt in 0..4u64 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(500 * attempt));
            }
            let output = Command::new(&self.command[0])
                .args(&self.command[1..])
                .args(["d1", "execute", "DB"])
                .args(self.target_args())
                .args(args)
                .arg("--config")
                .arg(&self.config)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|error| format!("could not run {}: {error}", self.command.join(" ")))?;
            if output.status.success() {
                return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
            }
            failure = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            // An SQL error comes back the same each time: only other failures are retried.
            if failure.contains("SQLITE_CONSTRAINT")
                || failure.contains("constraint failed")
                || failure.contains("SQLITE_ERROR")
            {
                break;
            }
        }
        Err(format!("wrangler d1 execute failed:\n{}", failure.trim()))
    }

    /// The users and roles the database holds.
    pub fn present(&self) -> Result<Present, String> {
        let output = self.execute(&["--json", "--command", PRESENT_QUERY]).map_err(|error| {
            format!("{error}\n(a database without the tables or columns of migrations/ needs `wrangler d1 migrations apply DB` first)")
        })?;
        let start = output.find('[').ok_or_else(|| format!("wrangler printed no JSON:\n{output}"))?;
        let (users, roles): (Results<UserRow>, Results<RoleRow>) = serde_json::from_str(&output[start..])
            .map_err(|error| format!("wrangler's answer was not the users and roles ({error}):\n{output}"))?;
        Ok(Present {
            users: users
                .results
                .into_iter()
                .map(|row| PresentUser {
                    id: row.id,
                    account: row.account,
                    account_key: row.account_key,
                    phone: row.phone,
                })
                .collect(),
            roles: roles
                .results
                .into_iter()
                .map(|row| PresentRole {
                    id: row.id,
                    name: row.name,
                    is_default: row.is_default != 0,
                    super_admin: row.super_admin != 0,
                    origin: Origin::parse(&row.origin),
                    holders: row.holders,
                })
                .collect(),
        })
    }

    /// Runs one batch file as one transaction.
    pub fn run_file(&self, file: &Path) -> Result<(), String> {
        self.execute(&["--file", &file.to_string_lossy()]).map(|_| ())
    }
}
