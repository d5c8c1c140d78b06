//! What a phone's code gate does ([`CodeGateCore`]), run inside that phone's Durable
//! Object. The names: [`CodeGate`](super::ports::CodeGate) is the port the use cases call,
//! [`CodeGateCore`] the logic behind it, with its
//! [`CodeGatePolicy`](crate::domain::code_gate_state::CodeGatePolicy) (the `SMS_*`
//! limits) and its [`CodeGateState`] in a [`CodeGateStorage`]; `DurableCodeGate` is the
//! Worker's client for the object and `MemoryCodeGate` the tests' stand-in.
//!
//! Inside the object, a storage call keeps the object's input gate closed, so a load
//! followed by a save is atomic; any other await (KV, the SMS provider) lets other
//! requests for the phone run in between. Every step below is written to that rule: a
//! reservation or a take is saved before the next await that lets others in, and a guess
//! is judged on the state loaded again after its KV read. Why that keeps one live code per
//! phone, the daily limit, the guesses per code, one purpose per code, one use per code,
//! and a code sent anywhere verifying everywhere: `docs/architecture.md`, "Why the SMS
//! invariants hold".
//!
//! Each code gets its own entry in the [`CodeStore`], named by the code's id: KV takes at
//! most one write per second per key, and a retry right after a failed send must not hit
//! that limit.

use super::platform::{log_if_failed, App, Platform};
use super::ports::{Claim, Clock, CodeGateStorage, CodeStore, SmsSender};
use crate::domain::code_gate_state::CodeGateState;
use crate::domain::error::ApiError;
use crate::domain::phone::{masked, Phone};
use crate::domain::random::random_id;
use crate::domain::sms_code::{CodePurpose, SmsCode};
use crate::domain::sms_provider::Sms;

/// The gate's logic, over one phone's storage.
pub struct CodeGateCore<'a, P: Platform> {
    pub app: &'a App<P>,
    /// The phone's own storage (on Cloudflare, its object's).
    pub storage: &'a P::GateStorage,
}

impl<P: Platform> CodeGateCore<'_, P> {
    /// Reserves the phone (50017 while a code is live, 9905 past the daily limits: the
    /// phone's, and the phone's for the address `from`), in one load-and-save: the saved
    /// reservation is what a concurrent send finds. A `pending` one is a lease until the
    /// provider accepts; any other is the code's whole life, counted at once.
    async fn reserve(
        &self,
        code_id: &str,
        purpose: CodePurpose,
        pending: bool,
        from: &str,
    ) -> Result<(), ApiError> {
        let now = self.app.clock.now_millis();
        let policy = &self.app.gate_policy;
        let mut state = self.storage.load().await?;
        if state.is_live(now, policy) {
            return Err(ApiError::SmsStillLive);
        }
        if let Some(retry_after_seconds) = state.send_wait_seconds(now, policy, from) {
            return Err(ApiError::RateLimited { retry_after_seconds });
        }
        let live_until = if pending {
            now + policy.lease_millis
        } else {
            state.record_send(now, from);
            now + policy.code_ttl_seconds * 1000
        };
        let reservation = CodeGateState {
            code_id: code_id.to_string(),
            purpose,
            live_until,
            pending,
            sends: state.sends,
            sends_from: state.sends_from,
            ..CodeGateState::default()
        };
        Ok(self.storage.save(&reservation).await?)
    }

    /// The provider accepted the send of `code_id`, asked for from `from`: the code lives
    /// from now, and counts. `false` if its lease ended first and another send took the
    /// phone (the code is dead then).
    async fn confirm(&self, code_id: &str, from: &str) -> Result<bool, ApiError> {
        let now = self.app.clock.now_millis();
        let mut state = self.storage.load().await?;
        // A message the provider accepted went out, whether or not its code still lives:
        // the phone's daily counts have it.
        state.record_send(now, from);
        if state.code_id != code_id || !state.pending {
            self.storage.save(&state).await?;
            return Ok(false);
        }
        state.live_until = now + self.app.gate_policy.code_ttl_seconds * 1000;
        state.pending = false;
        self.storage.save(&state).await?;
        Ok(true)
    }

    /// See [`CodeGate::issue_decoy`](super::ports::CodeGate::issue_decoy). The
    /// reservation has a code id of its own, as a real code does, but no code is stored
    /// under it: a guess at it costs what a wrong guess at a real code costs (the KV read,
    /// the count), so the time of a reset's answer does not tell a phone with a user
    /// either, and its guesses kill it as they kill a code. Nothing is sent, so it is the
    /// code's whole life at once.
    pub async fn issue_decoy(&self, from: &str) -> Result<(), ApiError> {
        let code_id = random_id(&self.app.rng);
        self.reserve(&code_id, CodePurpose::Reset, false, from).await?;
        self.storage.remember(&code_id, None);
        Ok(())
    }

    /// See [`CodeGate::issue`](super::ports::CodeGate::issue).
    pub async fn issue(&self, phone: &Phone, purpose: CodePurpose, from: &str) -> Result<SmsCode, ApiError> {
        let code_id = random_id(&self.app.rng);
        self.reserve(&code_id, purpose, true, from).await?;

        // A test number's code is fixed and goes to no provider.
        let test_code = self.app.settings.sms.test_numbers.code_for(phone);
        let code = test_code.cloned().unwrap_or_else(|| SmsCode::generate(&self.app.rng));
        let sealed = self.app.seal.seal(phone.e164(), &code_id, &code);
        // Kept a lease longer than the code lives, since the code's life starts only
        // once the provider accepts: the gate, not KV's expiry, decides when it dies.
        let kept_seconds =
            self.app.gate_policy.code_ttl_seconds + self.app.gate_policy.lease_millis.div_ceil(1000);
        let kept = self.app.codes.put(phone, &code_id, &sealed, kept_seconds).await;
        if kept.is_ok() {
            self.storage.remember(&code_id, Some(&sealed));
        }
        let sent = match kept {
            Ok(()) if test_code.is_some() => Ok(()),
            Ok(()) => {
                let ttl_seconds = self.app.gate_policy.code_ttl_seconds;
                let sms = Sms { phone, code: &code, purpose: &purpose, ttl_seconds };
                self.app.sender.send(&sms).await.map_err(|reason| ApiError::SmsSendFailed {
                    reason: format!("provider failed for {}: {reason}", masked(phone.e164())),
                })
            }
            Err(fault) => Err(fault.into()),
        };
        let sent = match sent {
            Ok(()) if self.confirm(&code_id, from).await? => Ok(()),
            Ok(()) => Err(ApiError::SmsSendFailed {
                reason: format!("the provider accepted {} only after the send's lease", masked(phone.e164())),
            }),
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            // Keep no code, so that the user can ask again at once (nothing was counted).
            // Clearing the state is what kills the code; deleting it from KV is tidiness.
            let current = self.storage.load().await?;
            if current.code_id == code_id {
                let cleared = CodeGateState {
                    sends: current.sends,
                    sends_from: current.sends_from,
                    ..CodeGateState::default()
                };
                self.storage.save(&cleared).await?;
            }
            log_if_failed::<P>(
                "delete a code that was not sent",
                self.app.codes.delete(phone, &code_id).await.map_err(ApiError::from),
            );
            return Err(error);
        }
        Ok(code)
    }

    /// See [`CodeGate::take`](super::ports::CodeGate::take). The sealed code comes from
    /// the object's memory when the object issued it and is still loaded, and from KV
    /// otherwise: a decoy is remembered as having none, so a guess at either costs the
    /// same work whichever way it goes.
    pub async fn take(
        &self,
        phone: &Phone,
        guess: &SmsCode,
        purpose: CodePurpose,
        from: &str,
    ) -> Result<Claim, ApiError> {
        let state = self.storage.load().await?;
        if !state.takes_guesses(self.app.clock.now_millis(), &self.app.gate_policy, from) {
            return Err(ApiError::WrongSmsCode);
        }
        let sealed = match self.storage.recall(&state.code_id) {
            Some(sealed) => sealed,
            None => self.app.codes.get(phone, &state.code_id).await?,
        };
        // Other requests may have run during a KV read: judge on the state as it is now.
        let mut current = self.storage.load().await?;
        let now = self.app.clock.now_millis();
        if current.code_id != state.code_id || !current.takes_guesses(now, &self.app.gate_policy, from) {
            return Err(ApiError::WrongSmsCode);
        }
        // A code sent for another purpose is a wrong guess here, and counts as one.
        let right = current.purpose == purpose
            && sealed.is_some_and(|sealed| self.app.seal.opens(&sealed, phone.e164(), &state.code_id, guess));
        if !right {
            current.count_wrong_guess(from);
            self.storage.save(&current).await?;
            return Err(ApiError::WrongSmsCode);
        }
        // Its KV entry lapses with its time to live: the state is what refuses it now,
        // and a delete would cost every use a KV write.
        let claim = Claim(random_id(&self.app.rng));
        current.used = true;
        current.taken_by = claim.0.clone();
        self.storage.save(&current).await?;
        Ok(claim)
    }

    /// See [`CodeGate::give_back`](super::ports::CodeGate::give_back).
    pub async fn give_back(&self, claim: &Claim) -> Result<(), ApiError> {
        let mut state = self.storage.load().await?;
        if !state.used || state.taken_by != claim.0 {
            return Ok(());
        }
        state.used = false;
        state.taken_by.clear();
        Ok(self.storage.save(&state).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::in_memory::{app, app_with, MemoryCodeGateStorage, Native};
    use crate::domain::clock::FixedClock;
    use pollster::block_on;

    /// A gate's app and its one phone's storage.
    struct Fixture {
        app: App<Native>,
        state: MemoryCodeGateStorage,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture { app: app(), state: MemoryCodeGateStorage::default() }
        }

        /// Every KV read gives way once, so that takes interleave as they can in the object.
        /// A take reads KV only once the object was unloaded since the code's send: the
        /// tests that use this unload it first.
        fn yielding() -> Self {
            let fixture = Fixture::new();
            fixture.app.codes.yielding.set(true);
            fixture
        }

        /// The gate, its clock at `clock`.
        fn gate(&self, clock: &FixedClock) -> CodeGateCore<'_, Native> {
            self.app.clock.set(clock.0);
            CodeGateCore { app: &self.app, storage: &self.state }
        }
    }

    const REGISTER: CodePurpose = CodePurpose::Register;
    /// Where the guesses come from, unless a test says otherwise.
    const HERE: &str = "203.0.113.1";
    const RESET: CodePurpose = CodePurpose::Reset;

    fn phone() -> Phone {
        Phone::parse("13911119999").unwrap()
    }

    fn other_than(code: &SmsCode) -> SmsCode {
        SmsCode::parse(if code.as_str() == "000000" { "000001" } else { "000000" }).unwrap()
    }

    #[test]
    fn a_second_send_within_the_codes_life_is_refused() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        assert_eq!(f.app.sender.sent(), vec![(phone(), code)]);
        assert_eq!(
            block_on(f.gate(&FixedClock(300_999)).issue(&phone(), REGISTER, HERE)),
            Err(ApiError::SmsStillLive)
        );
        assert!(block_on(f.gate(&FixedClock(301_000)).issue(&phone(), REGISTER, HERE)).is_ok());
    }

    #[test]
    fn a_test_number_gets_its_fixed_code_and_no_sms() {
        let f = Fixture { app: app_with(&[("SMS_TEST_NUMBERS", "+8613911119999:246810")]), ..Fixture::new() };
        let fixed = SmsCode::parse("246810").unwrap();
        assert_eq!(block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)), Ok(fixed.clone()));
        assert_eq!(f.app.sender.sent(), vec![]);
        // Every other rule holds: one live code, its purpose, and it is good once.
        assert_eq!(
            block_on(f.gate(&FixedClock(2_000)).issue(&phone(), REGISTER, HERE)),
            Err(ApiError::SmsStillLive)
        );
        assert!(block_on(f.gate(&FixedClock(2_000)).take(&phone(), &fixed, RESET, HERE)).is_err());
        block_on(f.gate(&FixedClock(2_001)).take(&phone(), &fixed, REGISTER, HERE)).unwrap();
        assert!(block_on(f.gate(&FixedClock(2_003)).take(&phone(), &fixed, REGISTER, HERE)).is_err());
        // Another phone's code is drawn and sent as ever.
        let other = Phone::parse("13922223333").unwrap();
        let drawn = block_on(f.gate(&FixedClock(3_000)).issue(&other, REGISTER, HERE)).unwrap();
        assert_eq!(f.app.sender.sent(), vec![(other, drawn)]);
    }

    #[test]
    fn a_failed_send_keeps_no_code() {
        let f = Fixture::new();
        f.app.sender.fail_next();
        let failed = block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE));
        assert!(matches!(failed, Err(ApiError::SmsSendFailed { .. })));
        assert!(f.app.codes.is_empty());
        let retried = block_on(f.gate(&FixedClock(1_001)).issue(&phone(), REGISTER, HERE)).unwrap();
        assert!(block_on(f.gate(&FixedClock(1_002)).take(&phone(), &retried, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn each_code_has_its_own_key() {
        let f = Fixture::new();
        block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        let first = f.state.0.borrow().code_id.clone();
        block_on(f.gate(&FixedClock(400_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        assert_ne!(f.state.0.borrow().code_id, first);
    }

    #[test]
    fn a_code_is_taken_once() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).unwrap();
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode),
            "used"
        );
        assert!(f.state.0.borrow().used);
    }

    #[test]
    fn a_code_given_back_can_be_taken_again_but_only_by_its_taker() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        let first = block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).unwrap();
        block_on(f.gate(&clock).give_back(&first)).unwrap();
        let second = block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).unwrap();
        // The first taker's give-back, repeated, does not free the second's.
        block_on(f.gate(&clock).give_back(&first)).unwrap();
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode),
            "still taken"
        );
        block_on(f.gate(&clock).give_back(&second)).unwrap();
        assert!(block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn a_late_give_back_does_not_revive_a_code_replaced_since() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        let stale = block_on(f.gate(&FixedClock(1_000)).take(&phone(), &code, REGISTER, HERE)).unwrap();
        // Its work still running, the phone is sent another code.
        let next = block_on(f.gate(&FixedClock(1_001)).issue(&phone(), REGISTER, HERE)).unwrap();
        block_on(f.gate(&FixedClock(1_002)).give_back(&stale)).unwrap();
        if next != code {
            assert_eq!(
                block_on(f.gate(&FixedClock(1_003)).take(&phone(), &code, REGISTER, HERE)),
                Err(ApiError::WrongSmsCode)
            );
        }
        assert!(block_on(f.gate(&FixedClock(1_004)).take(&phone(), &next, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn a_wrong_guess_during_a_right_take_blocks_nothing() {
        // Every KV read yields once, so the two takes interleave as they can in the object.
        let f = Fixture::yielding();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        f.state.unload();
        let gate = f.gate(&clock);
        let wrong = other_than(&code);
        let (guess, right) = block_on(futures_util::future::join(
            gate.take(&phone(), &wrong, REGISTER, HERE),
            gate.take(&phone(), &code, REGISTER, HERE),
        ));
        assert_eq!(guess, Err(ApiError::WrongSmsCode));
        assert!(right.is_ok(), "{right:?}");
    }

    #[test]
    fn of_two_concurrent_right_takes_one_wins() {
        let f = Fixture::yielding();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        f.state.unload();
        let gate = f.gate(&clock);
        let (a, b) = block_on(futures_util::future::join(
            gate.take(&phone(), &code, REGISTER, HERE),
            gate.take(&phone(), &code, REGISTER, HERE),
        ));
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    }

    #[test]
    fn a_wrong_or_expired_code_is_refused() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        let wrong = other_than(&code);
        assert_eq!(
            block_on(f.gate(&FixedClock(2_000)).take(&phone(), &wrong, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode)
        );
        assert_eq!(
            block_on(f.gate(&FixedClock(301_000)).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode)
        );
    }

    #[test]
    fn the_code_is_kept_sealed() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        let stored = f.app.codes.values();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].contains(code.as_str()), "{stored:?}");
    }

    #[test]
    fn after_five_wrong_guesses_even_the_right_code_fails() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        for _ in 0..5 {
            assert_eq!(
                block_on(f.gate(&clock).take(&phone(), &other_than(&code), REGISTER, HERE)),
                Err(ApiError::WrongSmsCode)
            );
        }
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode)
        );
        // Asking again within the code's life does not give a fresh count.
        assert_eq!(block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)), Err(ApiError::SmsStillLive));
        let later = FixedClock(301_000);
        let next = block_on(f.gate(&later).issue(&phone(), REGISTER, HERE)).unwrap();
        assert!(
            block_on(f.gate(&later).take(&phone(), &next, REGISTER, HERE)).is_ok(),
            "a new code starts a new count"
        );
    }

    #[test]
    fn a_strangers_five_wrong_guesses_leave_the_code_to_the_owner_and_twenty_kill_it() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        let wrong = other_than(&code);
        for _ in 0..5 {
            let guess = block_on(f.gate(&clock).take(&phone(), &wrong, REGISTER, "198.51.100.1"));
            assert_eq!(guess, Err(ApiError::WrongSmsCode));
        }
        // The stranger's address is done with this code, even with the right one.
        let right_there = block_on(f.gate(&clock).take(&phone(), &code, REGISTER, "198.51.100.1"));
        assert_eq!(right_there, Err(ApiError::WrongSmsCode));
        assert_eq!(f.state.0.borrow().wrong_guesses, 5, "refused without being judged or counted");
        // Three more addresses, five each: twenty wrong over all, and the code is dead.
        for address in ["198.51.100.2", "198.51.100.3", "198.51.100.4"] {
            for _ in 0..5 {
                let _ = block_on(f.gate(&clock).take(&phone(), &wrong, REGISTER, address));
            }
        }
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode)
        );
        assert_eq!(f.state.0.borrow().wrong_guesses, 20);
    }

    #[test]
    fn the_owner_still_gets_in_after_a_strangers_guesses() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        for _ in 0..5 {
            let _ = block_on(f.gate(&clock).take(&phone(), &other_than(&code), REGISTER, "198.51.100.1"));
        }
        assert!(block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn four_wrong_guesses_leave_the_right_code_usable() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        for _ in 0..4 {
            let _ = block_on(f.gate(&clock).take(&phone(), &other_than(&code), REGISTER, HERE));
        }
        assert!(block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn concurrent_wrong_guesses_are_counted_one_at_a_time() {
        // Every KV read yields, so all eight guesses are in flight at once.
        let f = Fixture::yielding();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        f.state.unload();
        let gate = f.gate(&clock);
        let wrong = other_than(&code);
        let phone = phone();
        let guesses = (0..8).map(|_| gate.take(&phone, &wrong, REGISTER, HERE));
        let results = block_on(futures_util::future::join_all(guesses));
        assert!(results.iter().all(|r| *r == Err(ApiError::WrongSmsCode)));
        assert_eq!(f.state.0.borrow().wrong_guesses, 5, "the last three found the code dead");
        assert_eq!(block_on(gate.take(&phone, &code, REGISTER, HERE)), Err(ApiError::WrongSmsCode));
    }

    #[test]
    fn a_phone_gets_ten_codes_a_day_asked_from_one_address_and_thirty_from_all() {
        let f = Fixture::new();
        let minutes = |m: u64| FixedClock(1_000 + m * 300_000);
        for m in 0..10 {
            block_on(f.gate(&minutes(m)).issue(&phone(), REGISTER, HERE)).unwrap();
        }
        // The first send leaves the day's window at 1,000 + 86,400,000 ms.
        let refused = block_on(f.gate(&minutes(10)).issue(&phone(), REGISTER, HERE));
        assert_eq!(refused, Err(ApiError::RateLimited { retry_after_seconds: 86_400 - 3_000 }));
        // The owner, from another address, is still sent codes, up to the phone's cap.
        for m in 10..30 {
            let address = format!("198.51.100.{}", m / 10);
            block_on(f.gate(&minutes(m)).issue(&phone(), REGISTER, &address)).unwrap();
        }
        let refused = block_on(f.gate(&minutes(30)).issue(&phone(), REGISTER, "198.51.100.9"));
        assert_eq!(refused, Err(ApiError::RateLimited { retry_after_seconds: 86_400 - 9_000 }));
        assert!(block_on(f.gate(&FixedClock(1_000 + 86_400_000)).issue(&phone(), REGISTER, HERE)).is_ok());
        assert_eq!(f.app.sender.sent().len(), 31);
        let kept = f.state.0.borrow().sends_from.clone();
        assert_eq!(kept.len(), 30, "the first send left the day's window, and is forgotten");
        assert_eq!(kept.last(), Some(&(HERE.to_string(), 86_401)));
    }

    #[test]
    fn decoys_from_one_address_do_not_use_up_the_owners_day() {
        let f = Fixture::new();
        let minutes = |m: u64| FixedClock(1_000 + m * 300_000);
        for m in 0..10 {
            block_on(f.gate(&minutes(m)).issue_decoy("198.51.100.1")).unwrap();
        }
        assert!(matches!(
            block_on(f.gate(&minutes(10)).issue_decoy("198.51.100.1")),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(block_on(f.gate(&minutes(10)).issue(&phone(), REGISTER, HERE)).is_ok());
    }

    #[test]
    fn a_code_killed_by_guesses_lets_the_owner_ask_again_at_once() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        for address in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] {
            for _ in 0..5 {
                let _ = block_on(f.gate(&clock).take(&phone(), &other_than(&code), REGISTER, address));
            }
        }
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode),
            "dead"
        );
        let next = block_on(f.gate(&FixedClock(2_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        assert!(block_on(f.gate(&FixedClock(2_001)).take(&phone(), &next, REGISTER, HERE)).is_ok());
        assert_eq!(f.state.0.borrow().sends.events, vec![1_000, 2_000], "both sends count");
    }

    #[test]
    fn failed_sends_do_not_count_toward_the_daily_limit() {
        let f = Fixture::new();
        for m in 0..10 {
            f.app.sender.fail_next();
            assert!(block_on(f.gate(&FixedClock(1_000 + m)).issue(&phone(), REGISTER, HERE)).is_err());
        }
        assert!(block_on(f.gate(&FixedClock(2_000)).issue(&phone(), REGISTER, HERE)).is_ok());
        assert_eq!(f.state.0.borrow().sends.events, vec![2_000]);
    }

    #[test]
    fn a_used_code_lets_the_phone_ask_again_at_once() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).unwrap();
        let reset = block_on(f.gate(&FixedClock(1_001)).issue(&phone(), RESET, HERE)).unwrap();
        assert!(block_on(f.gate(&FixedClock(1_002)).take(&phone(), &reset, RESET, HERE)).is_ok());
        assert_eq!(f.state.0.borrow().sends.events, vec![1_000, 1_001], "both sends count");
    }

    #[test]
    fn a_code_is_good_only_for_its_purpose_and_a_wrong_purpose_is_a_wrong_guess() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), RESET, HERE)).unwrap();
        assert_eq!(
            block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)),
            Err(ApiError::WrongSmsCode)
        );
        assert_eq!(f.state.0.borrow().wrong_guesses, 1);
        assert_eq!(block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)), Err(ApiError::SmsStillLive));
        assert!(
            block_on(f.gate(&clock).take(&phone(), &code, RESET, HERE)).is_ok(),
            "still good for a reset"
        );
    }

    #[test]
    fn a_decoy_is_refused_and_counted_like_a_send_but_keeps_and_sends_nothing() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        block_on(f.gate(&clock).issue_decoy(HERE)).unwrap();
        assert!(f.app.codes.is_empty() && f.app.sender.sent().is_empty());
        assert_eq!(f.state.0.borrow().sends.events, vec![1_000]);
        assert_eq!(block_on(f.gate(&clock).issue_decoy(HERE)), Err(ApiError::SmsStillLive));
        assert_eq!(block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)), Err(ApiError::SmsStillLive));
        // No code to guess: every guess fails.
        let guess = SmsCode::parse("123456").unwrap();
        assert_eq!(block_on(f.gate(&clock).take(&phone(), &guess, RESET, HERE)), Err(ApiError::WrongSmsCode));
        let later = FixedClock(301_000);
        assert!(block_on(f.gate(&later).issue(&phone(), REGISTER, HERE)).is_ok(), "free after a code's life");
    }

    #[test]
    fn a_guess_at_a_decoy_does_the_work_of_a_wrong_guess_at_a_code() {
        // A reset's answer must take as long for a phone without a user (a decoy) as for
        // one with a code: the same reads of the code and of the state, the same count.
        // The object remembers both as it issues them; once unloaded, both read KV.
        let work = |decoy: bool, unloaded: bool| {
            let f = Fixture::new();
            let clock = FixedClock(1_000);
            let wrong = match decoy {
                true => {
                    block_on(f.gate(&clock).issue_decoy(HERE)).unwrap();
                    SmsCode::parse("123456").unwrap()
                }
                false => other_than(&block_on(f.gate(&clock).issue(&phone(), RESET, HERE)).unwrap()),
            };
            if unloaded {
                f.state.unload();
            }
            let answer = block_on(f.gate(&clock).take(&phone(), &wrong, RESET, HERE));
            assert_eq!(answer, Err(ApiError::WrongSmsCode));
            let wrong_guesses = f.state.0.borrow().wrong_guesses;
            (f.app.codes.reads.get(), wrong_guesses)
        };
        assert_eq!(work(true, false), (0, 1), "a decoy");
        assert_eq!(work(false, false), (0, 1), "a code");
        assert_eq!(work(true, true), (1, 1), "a decoy, unloaded");
        assert_eq!(work(false, true), (1, 1), "a code, unloaded");
    }

    #[test]
    fn a_code_is_judged_from_memory_and_once_unloaded_from_kv() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone(), REGISTER, HERE)).unwrap();
        let first = block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).unwrap();
        assert_eq!(f.app.codes.reads.get(), 0);
        block_on(f.gate(&clock).give_back(&first)).unwrap();
        f.state.unload();
        assert!(block_on(f.gate(&clock).take(&phone(), &code, REGISTER, HERE)).is_ok());
        assert_eq!(f.app.codes.reads.get(), 1);
    }

    #[test]
    fn a_send_that_never_finished_frees_the_phone_when_its_lease_ends_and_counts_nothing() {
        let f = Fixture::new();
        // The Worker died with the send at the provider: only the lease was saved.
        block_on(f.gate(&FixedClock(1_000)).reserve("lost", REGISTER, true, HERE)).unwrap();
        assert_eq!(
            block_on(f.gate(&FixedClock(8_999)).issue(&phone(), REGISTER, HERE)),
            Err(ApiError::SmsStillLive)
        );
        let code = block_on(f.gate(&FixedClock(9_000)).issue(&phone(), REGISTER, HERE)).unwrap();
        assert_eq!(f.state.0.borrow().sends.events, vec![9_000], "the lost send did not count");
        let state = f.state.0.borrow().clone();
        assert_eq!((state.pending, state.live_until), (false, 9_000 + 300_000), "live for its whole life");
        assert!(block_on(f.gate(&FixedClock(10_000)).take(&phone(), &code, REGISTER, HERE)).is_ok());
    }

    #[test]
    fn a_send_accepted_after_its_lease_counts_but_its_code_is_dead() {
        let f = Fixture::new();
        block_on(f.gate(&FixedClock(1_000)).reserve("late", REGISTER, true, HERE)).unwrap();
        // The lease ends (8 s); another send takes the phone; then the first is accepted.
        block_on(f.gate(&FixedClock(9_000)).reserve("next", REGISTER, true, HERE)).unwrap();
        assert!(!block_on(f.gate(&FixedClock(9_500)).confirm("late", HERE)).unwrap());
        assert!(block_on(f.gate(&FixedClock(9_600)).confirm("next", HERE)).unwrap());
        let state = f.state.0.borrow().clone();
        assert_eq!((state.code_id.as_str(), state.sends.events), ("next", vec![9_500, 9_600]));
    }

    #[test]
    fn a_confirmed_send_counts_toward_the_daily_limit() {
        let f = Fixture { app: app_with(&[("SMS_DAILY_LIMIT_PER_PHONE", "1")]), ..Fixture::new() };
        let gate = |ms: u64| f.gate(&FixedClock(ms));
        block_on(gate(1_000).issue(&phone(), REGISTER, HERE)).unwrap();
        assert!(matches!(
            block_on(gate(400_000).issue(&phone(), REGISTER, HERE)),
            Err(ApiError::RateLimited { .. })
        ));
        assert_eq!(f.app.sender.sent().len(), 1);
    }
}
