//! `POST /login/jwt/get`, and the password check that a password change shares with it.

use std::future::Future;
use std::pin::Pin;

use secrecy::{ExposeSecret, SecretString};

use super::limits::{account_and_ip_limit_key, account_limit_key, ip_limit_key, LoginTarget};
use super::platform::{App, Call, Platform};
use super::ports::{RateLimiter, StoredUser, UserStore};
use super::session;
use crate::domain::account::{Account, AccountLookup};
use crate::domain::client_address::Caller;
use crate::domain::error::ApiError;
use crate::domain::password::PasswordHash;
use crate::domain::requests::LoginRequest;
use crate::domain::token::TokenPair;

/// How an attempt's hold in a limit window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldEnd {
    /// A failed guess: it counts.
    Settle,
    /// Not a guess (refused by the other limit, or a backend broke): it does not count.
    GiveBack,
    /// A success: the account's earlier failures are forgotten.
    ClearThrough,
}

#[derive(Debug)]
struct Hold {
    key: String,
    stamp: u64,
    end: HoldEnd,
}

/// What is left to do once the answer is out: end the attempt's holds in the three limit
/// windows, and store a stronger hash of a password that was just checked against a
/// weaker one. Until a hold ends it still counts, so a late aftermath never lets a guess
/// through. [`LoginAftermath::defer`] hands it to the request's [`Call::after_answer`].
#[derive(Debug, Default)]
#[must_use = "an attempt's holds stay taken until its aftermath is settled"]
struct LoginAftermath {
    holds: Vec<Hold>,
    upgrade: Option<HashUpgrade>,
}

/// A stronger hash to store for a password that was just checked against a weaker one.
#[derive(Debug)]
struct HashUpgrade {
    uid: u64,
    /// The stored hash the password was checked against: the upgrade replaces only it.
    verified: String,
    password: SecretString,
}

/// The larger of two waits, when both limits refuse.
fn longer(a: ApiError, b: ApiError) -> ApiError {
    match (&a, &b) {
        (
            ApiError::RateLimited { retry_after_seconds: x },
            ApiError::RateLimited { retry_after_seconds: y },
        ) if y > x => b,
        _ => a,
    }
}

/// Logs in, within the limits on failures (see
/// [`LoginLimits`](crate::domain::settings::LoginLimits)): per account and address, per
/// account, and per address, in 15 minutes; past any of them 9905 with `Retry-After`,
/// whatever the password.
///
/// An attempt holds a place in all three windows *before* the password is checked
/// (atomically, in each window's Durable Object), so a burst of concurrent guesses cannot
/// slip past the limit; the address's window is held while the user is read from D1, the
/// account's two once it is known whose they are ([`LoginTarget`]), and the password is
/// hashed only once every hold is given, so a locked account costs no hash. A failure
/// then counts in all three; a success gives the address's place back and clears the
/// account's counts. Unknown accounts are counted the same way, by the name, so the limit
/// reveals nothing about which accounts exist. That bookkeeping runs after the answer.
pub async fn log_in<P: Platform>(
    app: &'static App<P>,
    request: LoginRequest,
    call: &Call<'_>,
) -> Result<TokenPair, ApiError> {
    // A name no account can have (empty, over 64 characters) is not worth the profile's
    // work: it finds nobody, and its limits count it as it came.
    let (lookup, can_exist) = match Account::parse(&request.account) {
        Ok(name) => (AccountLookup::of(name.as_str(), &app.names), true),
        Err(_) => (AccountLookup::without_key(&request.account), false),
    };
    let find_user = async {
        match can_exist {
            true => app.users.find_by_account(&lookup).await.map_err(ApiError::from),
            false => Ok(None),
        }
    };
    let find_user = std::pin::pin!(find_user);
    let limit_name = lookup.limit_name();
    let (checked, mut aftermath) =
        attempt(app, &request.account, &limit_name, &request.pwd, &call.caller, find_user).await;
    let outcome = match checked {
        Ok((user, upgrade)) => {
            aftermath.upgrade = upgrade;
            session::sign_in(app, &user, "password", call)
        }
        Err(error) => Err(error),
    };
    aftermath.defer(app, call);
    outcome
}

/// Checks the password of a user already known (a password change, whose access token
/// named the user) as a login of that account: a wrong one is a 50006 that counts toward
/// the same limits, and past them even the right one is a 9905.
pub async fn check_password_of<P: Platform>(
    app: &'static App<P>,
    user: StoredUser,
    pwd: &str,
    call: &Call<'_>,
) -> Result<StoredUser, ApiError> {
    let account = user.account.clone();
    let known = std::pin::pin!(async { Ok(Some(user)) });
    // The name is counted by only when no user is found, which cannot happen here.
    let (checked, aftermath) = attempt(app, &account, &account, pwd, &call.caller, known).await;
    aftermath.defer(app, call);
    // No hash upgrade: a change replaces the hash anyway.
    checked.map(|(user, _)| user)
}

/// One attempt at `account_name`'s password within the limits: a hold in the address's
/// window while the user is found (`find_user`), then in the account's two (the user's,
/// or the name's by `limit_name` when there is no user), then the hash, and the holds'
/// ends decided by the outcome. `find_user` is a trait object so that the attempt is
/// compiled once for both its callers: each copy of an async function's state machine
/// costs wasm.
async fn attempt<P: Platform>(
    app: &App<P>,
    account_name: &str,
    limit_name: &str,
    pwd: &str,
    caller: &Caller,
    find_user: Pin<&mut dyn Future<Output = Result<Option<StoredUser>, ApiError>>>,
) -> (Result<(StoredUser, Option<HashUpgrade>), ApiError>, LoginAftermath) {
    let limits = &app.settings.login_limits;
    let ip_window = ip_limit_key(caller);
    let (ip_hold, user) =
        futures_util::future::join(app.limiter.hold(&ip_window, limits.per_ip), find_user).await;
    let target = match &user {
        Ok(Some(user)) => LoginTarget::User(user.id),
        _ => LoginTarget::Name(limit_name),
    };
    // Each window, and how a success ends its hold: the account's two forget their
    // failures, the address's gives its place back.
    let windows = [
        (account_and_ip_limit_key(target, caller), limits.per_account_and_ip, HoldEnd::ClearThrough),
        (account_limit_key(target), limits.per_account, HoldEnd::ClearThrough),
        (ip_window, limits.per_ip, HoldEnd::GiveBack),
    ];
    let [a, b, _] = &windows;
    let (first, second) =
        futures_util::future::join(app.limiter.hold(&a.0, a.1), app.limiter.hold(&b.0, b.1)).await;
    let third = ip_hold;
    let holds = [first, second, third];
    let mut given = Vec::new();
    let mut refused: Option<ApiError> = None;
    for ((key, _, on_success), hold) in windows.into_iter().zip(holds) {
        match hold {
            Ok(stamp) => given.push((Hold { key, stamp, end: HoldEnd::GiveBack }, on_success)),
            Err(error) => refused = Some(refused.map_or(error.clone(), |other| longer(other, error))),
        }
    }
    if let Some(refused) = refused {
        // Not a guess: the places given are given back.
        let holds = given.into_iter().map(|(hold, _)| hold).collect();
        return (Err(refused), LoginAftermath { holds, upgrade: None });
    }
    let checked = match user {
        Ok(user) => check_password(app, account_name, pwd, user).await,
        Err(error) => Err(error),
    };
    let holds = given
        .into_iter()
        .map(|(hold, on_success)| {
            let end = match &checked {
                Ok(_) => on_success,
                Err(ApiError::LoginFailed { .. }) => HoldEnd::Settle,
                // Not a failed guess (D1 or the key broke): it does not count.
                Err(_) => HoldEnd::GiveBack,
            };
            Hold { end, ..hold }
        })
        .collect();
    (checked, LoginAftermath { holds, upgrade: None })
}

/// Checks the password. An unknown account, a wrong password, a disabled user and one
/// waiting to be deleted give the same 50006, after the same work: an unknown account is checked against a dummy
/// hash, so timing does not reveal which accounts exist.
///
/// A hash weaker than the policy (fewer iterations, or no pepper where one is set) is to
/// be replaced after a successful login (the second value), so that raising
/// `PBKDF2_ITERATIONS` or adding `PASSWORD_PEPPER` reaches every active user, and the
/// dummy hash, made by the policy, keeps costing what real ones cost.
async fn check_password<P: Platform>(
    app: &App<P>,
    account_name: &str,
    pwd: &str,
    user: Option<StoredUser>,
) -> Result<(StoredUser, Option<HashUpgrade>), ApiError> {
    let policy = &app.settings.passwords;
    let stored_hash = user.as_ref().and_then(|user| PasswordHash::decode(&user.password_hash));
    let hash = stored_hash.clone().unwrap_or_else(|| PasswordHash::dummy(policy));
    let password_matches = hash.verify(&app.kdf, pwd, policy).await?;
    // No password holds U+0000 (registrations refuse it), yet HMAC pads a short key with
    // zeros, so without a pepper `secret\0` would derive what `secret` does: it fails,
    // after the same work.
    let user = match user {
        Some(user)
            if password_matches
                && !pwd.contains('\0')
                && stored_hash.is_some()
                && !user.disabled
                && !user.is_leaving() =>
        {
            user
        }
        _ => return Err(ApiError::LoginFailed { account: account_name.to_string() }),
    };
    let upgrade = hash.is_weaker_than(policy).then(|| HashUpgrade {
        uid: user.id,
        verified: user.password_hash.clone(),
        password: SecretString::from(pwd.to_string()),
    });
    Ok((user, upgrade))
}

impl LoginAftermath {
    /// Hands the bookkeeping, if there is any, to the work after the answer.
    fn defer<P: Platform>(self, app: &'static App<P>, call: &Call<'_>) {
        if self.holds.is_empty() && self.upgrade.is_none() {
            return;
        }
        call.after_answer.defer("settle a login's limits", Box::pin(self.settle(app)));
    }

    /// Ends the holds of the attempt and stores its upgraded hash. Every step is tried;
    /// the first failure is returned (to be logged: the answer is already out).
    async fn settle<P: Platform>(self, app: &App<P>) -> Result<(), ApiError> {
        // At most the three windows' holds, ended at once.
        let end = |index: usize| {
            let hold = self.holds.get(index);
            async move {
                match hold {
                    Some(hold) => hold.end(&app.limiter).await,
                    None => Ok(()),
                }
            }
        };
        let (first, second, third) = futures_util::future::join3(end(0), end(1), end(2)).await;
        let ended = [first, second, third];
        let upgraded = match &self.upgrade {
            Some(upgrade) => upgrade.store(app).await,
            None => Ok(()),
        };
        ended.into_iter().collect::<Result<(), ApiError>>().and(upgraded)
    }
}

impl Hold {
    async fn end(&self, limiter: &impl RateLimiter) -> Result<(), ApiError> {
        match self.end {
            HoldEnd::Settle => limiter.settle(&self.key, self.stamp).await,
            HoldEnd::GiveBack => limiter.give_back(&self.key, self.stamp).await,
            HoldEnd::ClearThrough => limiter.clear_through(&self.key, self.stamp).await,
        }
    }
}

impl HashUpgrade {
    async fn store<P: Platform>(&self, app: &App<P>) -> Result<(), ApiError> {
        let password = self.password.expose_secret();
        let stronger = PasswordHash::create(&app.kdf, &app.rng, password, &app.settings.passwords).await?;
        Ok(app.users.upgrade_password_hash(self.uid, &self.verified, &stronger).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::in_memory::{app_with, call_from, leak, Deferrals, MemoryUsers, Native};
    use crate::app::ports::NewUser;
    use crate::domain::password::{LegacyMd5, NativePbkdf2, PasswordPolicy};
    use crate::domain::phone::Phone;
    use crate::domain::random::SecureRandom;
    use crate::domain::token;
    use pollster::block_on;

    /// An app whose one user `account` has `password`, hashed at `iterations`; the policy
    /// hashes at 2,000, and the limits are small: 3 failures per account and address, 7
    /// per account, 5 per address.
    fn world(account: &str, password: &str, iterations: u32) -> &'static App<Native> {
        let limits = [
            ("LOGIN_FAILURES_PER_ACCOUNT_AND_IP", "3"),
            ("LOGIN_FAILURES_PER_ACCOUNT", "7"),
            ("LOGIN_FAILURES_PER_IP", "5"),
            ("PBKDF2_ITERATIONS", "2000"),
        ];
        let users = MemoryUsers::with_user(account, "13911119999", password, iterations);
        leak(App { users, ..app_with(&limits) })
    }

    fn attempt(app: &'static App<Native>, account: &str, pwd: &str) -> Result<TokenPair, ApiError> {
        attempt_from(app, account, pwd, "1.2.3.4")
    }

    /// A login from `ip`, its bookkeeping done once it has answered.
    fn attempt_from(
        app: &'static App<Native>,
        account: &str,
        pwd: &str,
        ip: &str,
    ) -> Result<TokenPair, ApiError> {
        let deferrals = Deferrals::default();
        let request = LoginRequest { account: account.into(), pwd: pwd.into() };
        let outcome = block_on(log_in(app, request, &call_from(ip, &deferrals)));
        deferrals.run();
        outcome
    }

    #[test]
    fn an_address_takes_three_failures_at_an_account_then_waits_but_the_owner_elsewhere_does_not() {
        let app = world("Foo", "secret1", 2_000);
        for _ in 0..3 {
            assert!(matches!(
                attempt_from(app, "Foo", "wrong", "1.1.1.1"),
                Err(ApiError::LoginFailed { .. })
            ));
        }
        let limited = attempt_from(app, "FOO", "secret1", "1.1.1.1");
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 900 }));
        assert_eq!(app.kdf.take().len(), 3, "no password is checked while limited");
        assert!(attempt_from(app, "Foo", "secret1", "2.2.2.2").is_ok(), "the owner");
        app.limiter.now_millis.set(900_000);
        assert!(attempt_from(app, "Foo", "secret1", "1.1.1.1").is_ok());
    }

    #[test]
    fn an_account_takes_seven_failures_over_all_addresses() {
        let app = world("Foo", "secret1", 2_000);
        for i in 0..7 {
            let failed = attempt_from(app, "Foo", "wrong", &format!("10.0.0.{i}"));
            assert!(matches!(failed, Err(ApiError::LoginFailed { .. })));
        }
        let limited = attempt_from(app, "Foo", "secret1", "10.0.1.1");
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 900 }));
        // The refusal gave back its places: the address can still try another account.
        assert!(matches!(attempt_from(app, "Bar", "wrong", "10.0.1.1"), Err(ApiError::LoginFailed { .. })));
    }

    #[test]
    fn until_its_aftermath_is_settled_an_attempt_keeps_its_place() {
        let app = world("Foo", "secret1", 2_000);
        let request = || LoginRequest { account: "Foo".into(), pwd: "secret1".into() };
        // Three attempts in flight fill the account's three places: a fourth is refused
        // before any hash (the Durable Object client waits a while first).
        let pending = Deferrals::default();
        for _ in 0..3 {
            assert!(block_on(log_in(app, request(), &call_from("1.1.1.1", &pending))).is_ok());
        }
        let refused = Deferrals::default();
        let outcome = block_on(log_in(app, request(), &call_from("1.1.1.1", &refused)));
        assert_eq!(outcome, Err(ApiError::RateLimited { retry_after_seconds: 1 }));
        assert_eq!(app.kdf.take().len(), 3);
        // Its place in the address's window is given back.
        refused.run();
        pending.run();
        assert!(attempt_from(app, "Foo", "secret1", "1.1.1.1").is_ok());
    }

    #[test]
    fn a_success_resets_the_accounts_count() {
        let app = world("Foo", "secret1", 2_000);
        for _ in 0..2 {
            assert!(attempt_from(app, "Foo", "wrong", "1.1.1.1").is_err());
        }
        attempt_from(app, "Foo", "secret1", "1.1.1.1").unwrap();
        for _ in 0..3 {
            assert!(matches!(
                attempt_from(app, "Foo", "wrong", "1.1.1.1"),
                Err(ApiError::LoginFailed { .. })
            ));
        }
    }

    #[test]
    fn an_address_takes_five_failures_across_accounts() {
        let app = world("Foo", "secret1", 2_000);
        for i in 0..5 {
            assert!(attempt_from(app, &format!("guess{i}"), "wrong", "6.6.6.6").is_err());
        }
        assert!(matches!(attempt_from(app, "Foo", "secret1", "6.6.6.6"), Err(ApiError::RateLimited { .. })));
        assert!(attempt_from(app, "Foo", "secret1", "7.7.7.7").is_ok());
    }

    #[test]
    fn a_look_alikes_success_clears_nothing_of_the_account_it_imitates() {
        // `Café` was made before keys (it has none); `Cafe` with a combining accent has
        // the key `Café`'s name maps to, and could still be registered beside it.
        let app = world("Cafe\u{301}", "attacker1", 2_000);
        let victim = app.users.insert_keyless("Café", "13911118888", "victim1", 2_000);
        for _ in 0..3 {
            assert!(matches!(attempt(app, "Café", "guess"), Err(ApiError::LoginFailed { .. })));
        }
        assert!(matches!(attempt(app, "Café", "guess"), Err(ApiError::RateLimited { .. })));
        // The look-alike's own success is its own: the guesses at `Café` still count.
        let own = attempt(app, "Cafe\u{301}", "attacker1").unwrap();
        let now = app.clock.0.get() / 1000;
        let access = token::verify(&app.keys, &app.session_policy.scope, &own.jwt, None, now).unwrap();
        assert_ne!(access.claims.data.uid, victim);
        assert!(matches!(attempt(app, "Café", "victim1"), Err(ApiError::RateLimited { .. })));
        // Elsewhere, the owner of `Café` logs in as before.
        let theirs = attempt_from(app, "Café", "victim1", "2.2.2.2").unwrap();
        let access = token::verify(&app.keys, &app.session_policy.scope, &theirs.jwt, None, now).unwrap();
        assert_eq!(access.claims.data.uid, victim);
    }

    #[test]
    fn a_password_with_a_nul_fails_after_the_same_work() {
        // Without a pepper, HMAC pads the password with zeros: `secret1\0` would derive
        // what `secret1` does.
        let app = world("Foo", "secret1", 2_000);
        for pwd in ["secret1\0", "secret1\0\0\0"] {
            assert_eq!(attempt(app, "Foo", pwd), Err(ApiError::LoginFailed { account: "Foo".into() }));
            assert_eq!(app.kdf.take(), vec![2_000]);
        }
        assert!(attempt(app, "Foo", "secret1").is_ok());
    }

    #[test]
    fn the_right_password_opens_a_session_of_the_user() {
        let app = world("Foo", "secret1", 2_000);
        let pair = attempt(app, "foo", "secret1").unwrap();
        let now = app.clock.0.get() / 1000;
        let scope = &app.session_policy.scope;
        let access = token::verify(&app.keys, scope, &pair.jwt, Some(token::TokenKind::Access), now).unwrap();
        let refresh =
            token::verify(&app.keys, scope, &pair.refresh_jwt, Some(token::TokenKind::Refresh), now).unwrap();
        assert_eq!((access.claims.data.uid, refresh.claims.data.uid), (1, 1));
        assert_eq!(access.claims.sid, refresh.claims.sid, "one session");
    }

    #[test]
    fn every_failure_costs_one_derivation_at_the_configured_count() {
        let app = world("Foo", "secret1", 2_000);
        app.users.insert_user(2, vec![]);
        app.users.disable(2);
        for (account, pwd) in
            [("Foo", "wrong"), ("nobody", "secret1"), ("user2", "x"), (&"a".repeat(100), "x")]
        {
            let failed = attempt(app, account, pwd);
            assert_eq!(failed, Err(ApiError::LoginFailed { account: account.into() }), "{account}");
            assert_eq!(app.kdf.take(), vec![2_000], "{account}");
        }
    }

    #[test]
    fn a_weaker_hash_is_upgraded_at_login() {
        let app = world("Foo", "secret1", 1_000);
        attempt(app, "Foo", "secret1").unwrap();
        assert_eq!(app.kdf.take(), vec![1_000, 2_000]);
        let stored = block_on(app.users.find_by_id(1)).unwrap().unwrap().password_hash;
        assert!(stored.starts_with("$pbkdf2-sha256$i=2000$"), "{stored}");
        assert!(attempt(app, "Foo", "secret1").is_ok());
    }

    #[test]
    fn an_imported_md5_logs_in_with_its_short_password_once_and_is_replaced() {
        let users = MemoryUsers::default();
        let md5 = LegacyMd5::of("abcd");
        let wrapped =
            block_on(PasswordHash::wrap_md5(&NativePbkdf2, &SecureRandom, &md5, &PasswordPolicy::new(2_000)))
                .unwrap();
        let user = NewUser {
            account: Account::parse("Jerry").unwrap(),
            account_key: "jerry".into(),
            phone: Phone::parse("15361158702").unwrap(),
            password_hash: Some(wrapped),
        };
        block_on(users.create(&user, 0)).unwrap();
        let app = leak(App { users, ..app_with(&[("PBKDF2_ITERATIONS", "2000")]) });
        assert!(attempt(app, "jerry", md5.as_str()).is_err(), "the md5 is no password");
        app.kdf.take();
        attempt(app, "Jerry", "abcd").unwrap();
        assert_eq!(app.kdf.take(), vec![2_000, 2_000], "checked, then hashed anew");
        let stored = block_on(app.users.find_by_id(1)).unwrap().unwrap().password_hash;
        assert!(stored.starts_with("$pbkdf2-sha256$i=2000$"), "{stored}");
        assert!(attempt(app, "Jerry", "abcd").is_ok());
        assert_eq!(app.kdf.take(), vec![2_000], "no second upgrade");
    }
}
