//! `POST /login/register`

use super::ports::{Clock, CodeGate, Created, NewUser, Pbkdf2, Randomness, RateLimiter, UserStore};
use super::{count_code_attempt, Caller};
use crate::domain::error::{ApiError, Field, Rule};
use crate::domain::password::{PasswordHash, PasswordPolicy};
use crate::domain::rate_limit::Limit;
use crate::domain::requests::RegisterRequest;
use crate::domain::sms_code::CodePurpose;
use crate::domain::username::{username_key, UnicodeFacts};

/// What registering needs.
pub struct Registration<'a, U, G, L, P, K, R> {
    pub users: &'a U,
    pub gate: &'a G,
    pub limiter: &'a L,
    /// Code attempts per address (see [`count_code_attempt`]).
    pub attempts_per_ip: Limit,
    pub kdf: &'a P,
    pub clock: &'a K,
    pub rng: &'a R,
    pub passwords: &'a PasswordPolicy,
    /// What account names are compared with (see `domain::username`).
    pub names: &'a dyn UnicodeFacts,
}

impl<U: UserStore, G: CodeGate, L: RateLimiter, P: Pbkdf2, K: Clock, R: Randomness>
    Registration<'_, U, G, L, P, K, R>
{
    /// Checks the code (50001), creates the user with the default role (50007 if the
    /// account or phone is taken), then consumes the code. The code is held while the
    /// user is created, so two registrations cannot both use it; if creation fails, it
    /// is released and the user may try again with another account name.
    /// A name the username profile refuses is a 9906 before anything else.
    pub async fn register(&self, request: &RegisterRequest, caller: &Caller) -> Result<(), ApiError> {
        let account_key = username_key(request.account.as_str(), self.names)
            .map_err(|_| ApiError::field(Field::Account, Rule::Malformed))?;
        count_code_attempt(self.limiter, caller, self.attempts_per_ip).await?;
        let claim = self.gate.claim(&request.phone, &request.code, CodePurpose::Register, caller).await?;
        let created = self.create_user(request, account_key).await;
        match created {
            Ok(Created::User(_)) => {
                // The user exists now; should consuming fail, the phone's uniqueness still
                // stops a second registration with this code, so success stands.
                let _ = self.gate.consume(&request.phone, &claim).await;
                Ok(())
            }
            Ok(Created::Taken) => {
                let _ = self.gate.release(&request.phone, &claim).await;
                Err(ApiError::AlreadyRegistered { account: request.account.as_str().to_string() })
            }
            Err(error) => {
                let _ = self.gate.release(&request.phone, &claim).await;
                Err(error)
            }
        }
    }

    async fn create_user(&self, request: &RegisterRequest, account_key: String) -> Result<Created, ApiError> {
        let password_hash =
            PasswordHash::create(self.kdf, self.rng, request.password.as_str(), self.passwords).await?;
        let user = NewUser {
            account: request.account.clone(),
            account_key,
            phone: request.phone.clone(),
            password_hash,
        };
        Ok(self.users.create(&user, self.clock.now_seconds()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::in_memory::{MemoryCodeGate, MemoryLimiter, MemoryUsers};
    use crate::domain::clock::SystemClock;
    use crate::domain::password::NativePbkdf2;
    use crate::domain::random::SecureRandom;
    use crate::domain::requests::RegisterRequest;
    use crate::domain::username::native::NativeUnicode;
    use pollster::block_on;
    use serde_json::json;

    static POLICY: std::sync::LazyLock<PasswordPolicy> =
        std::sync::LazyLock::new(|| PasswordPolicy::new(1000));

    fn request(account: &str, phone: &str, code: &str) -> RegisterRequest {
        let body = json!({"account": account, "password": "secret1", "password_confirmation": "secret1",
                          "phone": phone, "code": code});
        RegisterRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    type TestRegistration<'a> =
        Registration<'a, MemoryUsers, MemoryCodeGate, MemoryLimiter, NativePbkdf2, SystemClock, SecureRandom>;

    fn registration<'a>(users: &'a MemoryUsers, gate: &'a MemoryCodeGate) -> TestRegistration<'a> {
        Registration {
            users,
            gate,
            limiter: Box::leak(Box::default()),
            attempts_per_ip: Limit { max: 30, window_seconds: 3_600 },
            kdf: &NativePbkdf2,
            clock: &SystemClock,
            rng: &SecureRandom,
            passwords: &POLICY,
            names: &NativeUnicode,
        }
    }

    impl TestRegistration<'_> {
        async fn register_from_anywhere(&self, request: &RegisterRequest) -> Result<(), ApiError> {
            self.register(request, &Caller::at(Some("1.2.3.4"))).await
        }
    }

    #[test]
    fn an_address_gets_thirty_code_attempts_an_hour_right_or_wrong() {
        let (users, gate) = (MemoryUsers::default(), MemoryCodeGate::with_code("13911119999", "123456"));
        let registration = Registration {
            attempts_per_ip: Limit { max: 3, window_seconds: 3_600 },
            ..registration(&users, &gate)
        };
        for _ in 0..3 {
            let wrong =
                block_on(registration.register_from_anywhere(&request("Foo", "13911119999", "000000")));
            assert_eq!(wrong, Err(ApiError::WrongSmsCode));
        }
        let limited = block_on(registration.register_from_anywhere(&request("Foo", "13911119999", "123456")));
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 3_600 }));
        let elsewhere = Caller::at(Some("5.6.7.8"));
        assert!(block_on(registration.register(&request("Foo", "13911119999", "123456"), &elsewhere)).is_ok());
    }

    #[test]
    fn a_name_the_profile_refuses_costs_no_code_attempt_and_look_alikes_are_taken() {
        let (users, gate) = (MemoryUsers::default(), MemoryCodeGate::with_code("13911119999", "123456"));
        let limited = Registration {
            attempts_per_ip: Limit { max: 1, window_seconds: 3_600 },
            ..registration(&users, &gate)
        };
        for name in ["Fo\u{200B}o", "Foo\u{202E}", "\u{FB01}ne"] {
            let refused = block_on(limited.register_from_anywhere(&request(name, "13911119999", "123456")));
            assert_eq!(refused, Err(ApiError::field(Field::Account, Rule::Malformed)), "{name:?}");
        }
        // The one attempt the address has left still registers, and the look-alike is the
        // same account.
        block_on(limited.register_from_anywhere(&request("Ｆｏｏ", "13911119999", "123456"))).unwrap();
        assert_eq!(users.count(), 1);
        let second = MemoryCodeGate::with_code("13922229999", "222222");
        let taken = block_on(registration(&users, &second).register_from_anywhere(&request(
            "FOO",
            "13922229999",
            "222222",
        )));
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "FOO".into() }));
    }

    #[test]
    fn a_good_code_registers_and_is_consumed() {
        let (users, gate) = (MemoryUsers::default(), MemoryCodeGate::with_code("13911119999", "123456"));
        block_on(registration(&users, &gate).register_from_anywhere(&request(
            "Foo",
            "13911119999",
            "123456",
        )))
        .unwrap();
        assert_eq!(users.count(), 1);
        assert!(gate.consumed());
        let again = block_on(registration(&users, &gate).register_from_anywhere(&request(
            "Bar",
            "13911119999",
            "123456",
        )));
        assert_eq!(again, Err(ApiError::WrongSmsCode));
    }

    #[test]
    fn a_wrong_code_creates_nobody() {
        let (users, gate) = (MemoryUsers::default(), MemoryCodeGate::with_code("13911119999", "123456"));
        let result = block_on(registration(&users, &gate).register_from_anywhere(&request(
            "Foo",
            "13911119999",
            "654321",
        )));
        assert_eq!(result, Err(ApiError::WrongSmsCode));
        assert_eq!(users.count(), 0);
    }

    #[test]
    fn a_reset_code_does_not_register() {
        let users = MemoryUsers::default();
        let gate = MemoryCodeGate::with_code_for("13911119999", "123456", CodePurpose::Reset);
        let result = block_on(registration(&users, &gate).register_from_anywhere(&request(
            "Foo",
            "13911119999",
            "123456",
        )));
        assert_eq!(result, Err(ApiError::WrongSmsCode));
        assert_eq!(users.count(), 0);
    }

    #[test]
    fn a_taken_account_releases_the_code() {
        let users = MemoryUsers::default();
        let first = MemoryCodeGate::with_code("13911119999", "123456");
        block_on(registration(&users, &first).register_from_anywhere(&request(
            "Foo",
            "13911119999",
            "123456",
        )))
        .unwrap();
        let second = MemoryCodeGate::with_code("13922229999", "222222");
        let taken = block_on(registration(&users, &second).register_from_anywhere(&request(
            "foo",
            "13922229999",
            "222222",
        )));
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "foo".into() }));
        assert!(!second.consumed());
        block_on(registration(&users, &second).register_from_anywhere(&request(
            "Baz",
            "13922229999",
            "222222",
        )))
        .unwrap();
    }
}
