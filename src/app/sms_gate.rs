//! What a phone's gate does, run inside that phone's Durable Object.
//!
//! Why the invariants hold (see also the README):
//! - *One live code per phone.* Every send for a phone runs in its one object. The
//!   object's state (`live_until`) is read and written with its own storage only, and
//!   the reservation is written *before* the first await that lets other requests in
//!   (the KV write, the provider call). A concurrent send therefore finds the
//!   reservation and gets 50017.
//! - *A code verifies at most once.* A claim reads KV (other requests may run meanwhile),
//!   then reads the state again and takes the hold only if the same code is still live,
//!   unused and unheld, writing the hold before its next await. A consumed code is
//!   marked `used` in the object's storage, so neither a concurrent claim nor a stale KV
//!   read can use it again. Holds carry an id, so a late release or consume can only
//!   undo its own hold. A wrong guess changes nothing, so it cannot block the right code.
//! - *A code sent anywhere verifies everywhere.* Only the object reads and writes the
//!   phone's code in KV, always from the object's one location, where KV reads its own
//!   writes at once; KV's cross-location delay never comes into play.
//!
//! Each code gets its own KV key (`<phone>:<code id>`): KV takes at most one write per
//! second per key, and a retry right after a failed send must not hit that limit.

use serde::{Deserialize, Serialize};

use super::ports::{Claim, CodeStore, SmsSender};
use crate::domain::clock::Clock;
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::random::{random_id, Randomness};
use crate::domain::sms_code::SmsCode;

/// How long a claimed code is held for the registration that claimed it. If the
/// registration never reports back (its Worker died), the hold lapses.
const HOLD_MILLIS: u64 = 30_000;

/// The gate's state for one phone, kept in the object's storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateState {
    /// The current code's id, part of its KV key; empty when there is none.
    pub code_id: String,
    /// Until when (ms) the current code lives; no new code before then.
    pub live_until: u64,
    /// The claim that holds the current code, if any, and until when (ms).
    pub held_by: String,
    pub held_until: u64,
    /// The current code registered a user.
    pub used: bool,
}

/// The object's own storage for [`GateState`].
pub trait GateStateStore {
    async fn load(&self) -> Result<GateState, ApiError>;
    async fn save(&self, state: &GateState) -> Result<(), ApiError>;
}

/// The KV key of a phone's code.
fn code_key(phone: &Phone, code_id: &str) -> String {
    format!("{}:{code_id}", phone.e164())
}

/// The parts a gate works with.
pub struct Gate<'a, S, C, M, K, R> {
    pub state: &'a S,
    pub codes: &'a C,
    pub sender: &'a M,
    pub clock: &'a K,
    pub rng: &'a R,
    pub code_ttl_seconds: u64,
}

impl<S, C, M, K, R> Gate<'_, S, C, M, K, R>
where
    S: GateStateStore,
    C: CodeStore,
    M: SmsSender,
    K: Clock,
    R: Randomness,
{
    /// See [`crate::app::ports::CodeGate::issue`].
    pub async fn issue(&self, phone: &Phone) -> Result<SmsCode, ApiError> {
        let now = self.clock.now_millis();
        let state = self.state.load().await?;
        if state.live_until > now {
            return Err(ApiError::SmsStillLive);
        }
        let code_id = random_id(self.rng);
        let reservation = GateState {
            code_id: code_id.clone(),
            live_until: now + self.code_ttl_seconds * 1000,
            ..GateState::default()
        };
        self.state.save(&reservation).await?;

        let code = SmsCode::generate(self.rng);
        let key = code_key(phone, &code_id);
        let sent = match self.codes.put(&key, &code, self.code_ttl_seconds).await {
            Ok(()) => self.sender.send(phone, &code).await.map_err(|reason| ApiError::SmsSendFailed {
                reason: format!("provider failed for {}: {reason}", masked(phone)),
            }),
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            // Keep no code, so that the user can ask again at once. Clearing the state is
            // what kills the code; deleting it from KV is tidiness.
            self.state.save(&GateState::default()).await?;
            let _ = self.codes.delete(&key).await;
            return Err(error);
        }
        Ok(code)
    }

    /// See [`crate::app::ports::CodeGate::claim`].
    pub async fn claim(&self, phone: &Phone, guess: &SmsCode) -> Result<Claim, ApiError> {
        let state = self.state.load().await?;
        if state.code_id.is_empty() || state.used || state.live_until <= self.clock.now_millis() {
            return Err(ApiError::WrongSmsCode);
        }
        let stored = self.codes.get(&code_key(phone, &state.code_id)).await?;
        if !stored.is_some_and(|code| code.matches(guess)) {
            return Err(ApiError::WrongSmsCode);
        }
        // Other requests may have run during the KV read: decide on the state as it is now.
        let mut current = self.state.load().await?;
        let now = self.clock.now_millis();
        if current.code_id != state.code_id
            || current.used
            || current.held_until > now
            || current.live_until <= now
        {
            return Err(ApiError::WrongSmsCode);
        }
        let claim = Claim(random_id(self.rng));
        current.held_by = claim.0.clone();
        current.held_until = now + HOLD_MILLIS;
        self.state.save(&current).await?;
        Ok(claim)
    }

    /// See [`crate::app::ports::CodeGate::consume`].
    pub async fn consume(&self, phone: &Phone, claim: &Claim) -> Result<(), ApiError> {
        let mut state = self.state.load().await?;
        if state.held_by != claim.0 {
            return Ok(());
        }
        state.used = true;
        state.held_by.clear();
        state.held_until = 0;
        self.state.save(&state).await?;
        self.codes.delete(&code_key(phone, &state.code_id)).await
    }

    /// See [`crate::app::ports::CodeGate::release`].
    pub async fn release(&self, claim: &Claim) -> Result<(), ApiError> {
        let mut state = self.state.load().await?;
        if state.held_by != claim.0 {
            return Ok(());
        }
        state.held_by.clear();
        state.held_until = 0;
        self.state.save(&state).await
    }
}

/// `+86139****9999`: enough to follow a phone through the log without storing it whole.
pub fn masked(phone: &Phone) -> String {
    let e164 = phone.e164();
    let keep_head = e164.len().saturating_sub(8).max(1);
    let tail = &e164[e164.len() - 4..];
    format!("{}****{tail}", &e164[..keep_head])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::in_memory::{MemoryCodes, MemoryGateState, RecordingSender, YieldingCodes};
    use crate::domain::clock::FixedClock;
    use crate::domain::random::SecureRandom;
    use pollster::block_on;

    struct Fixture<C = MemoryCodes> {
        state: MemoryGateState,
        codes: C,
        sender: RecordingSender,
    }

    impl<C: CodeStore + Default> Fixture<C> {
        fn new() -> Self {
            Fixture {
                state: MemoryGateState::default(),
                codes: C::default(),
                sender: RecordingSender::default(),
            }
        }

        fn gate<'a>(
            &'a self,
            clock: &'a FixedClock,
        ) -> Gate<'a, MemoryGateState, C, RecordingSender, FixedClock, SecureRandom> {
            Gate {
                state: &self.state,
                codes: &self.codes,
                sender: &self.sender,
                clock,
                rng: &SecureRandom,
                code_ttl_seconds: 300,
            }
        }
    }

    fn phone() -> Phone {
        Phone::parse("13911119999").unwrap()
    }

    fn other_than(code: &SmsCode) -> SmsCode {
        SmsCode::parse(if code.as_str() == "000000" { "000001" } else { "000000" }).unwrap()
    }

    #[test]
    fn a_second_send_within_the_codes_life_is_refused() {
        let f = Fixture::<MemoryCodes>::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        assert_eq!(f.sender.sent(), vec![(phone(), code)]);
        assert_eq!(block_on(f.gate(&FixedClock(300_999)).issue(&phone())), Err(ApiError::SmsStillLive));
        assert!(block_on(f.gate(&FixedClock(301_000)).issue(&phone())).is_ok());
    }

    #[test]
    fn a_failed_send_keeps_no_code() {
        let f = Fixture::<MemoryCodes>::new();
        f.sender.fail_next();
        let failed = block_on(f.gate(&FixedClock(1_000)).issue(&phone()));
        assert!(matches!(failed, Err(ApiError::SmsSendFailed { .. })));
        assert!(f.codes.is_empty());
        let retried = block_on(f.gate(&FixedClock(1_001)).issue(&phone())).unwrap();
        assert!(block_on(f.gate(&FixedClock(1_002)).claim(&phone(), &retried)).is_ok());
    }

    #[test]
    fn each_code_has_its_own_key() {
        let f = Fixture::<MemoryCodes>::new();
        block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        let first = f.state.0.borrow().code_id.clone();
        block_on(f.gate(&FixedClock(400_000)).issue(&phone())).unwrap();
        assert_ne!(f.state.0.borrow().code_id, first);
    }

    #[test]
    fn a_code_is_claimed_once_and_consumed_for_good() {
        let f = Fixture::<MemoryCodes>::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        let claim = block_on(f.gate(&clock).claim(&phone(), &code)).unwrap();
        assert_eq!(block_on(f.gate(&clock).claim(&phone(), &code)), Err(ApiError::WrongSmsCode), "held");
        block_on(f.gate(&clock).consume(&phone(), &claim)).unwrap();
        assert_eq!(block_on(f.gate(&clock).claim(&phone(), &code)), Err(ApiError::WrongSmsCode), "used");
        assert!(f.codes.is_empty(), "deleted from KV");
    }

    #[test]
    fn a_released_code_can_be_claimed_again() {
        let f = Fixture::<MemoryCodes>::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        let claim = block_on(f.gate(&clock).claim(&phone(), &code)).unwrap();
        block_on(f.gate(&clock).release(&claim)).unwrap();
        assert!(block_on(f.gate(&clock).claim(&phone(), &code)).is_ok());
    }

    #[test]
    fn a_late_release_does_not_undo_anothers_hold() {
        let f = Fixture::<MemoryCodes>::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        let stale = block_on(f.gate(&FixedClock(1_000)).claim(&phone(), &code)).unwrap();
        // The first hold lapses; a second registration takes the code.
        let later = FixedClock(1_000 + HOLD_MILLIS + 1);
        let current = block_on(f.gate(&later).claim(&phone(), &code)).unwrap();
        block_on(f.gate(&later).release(&stale)).unwrap();
        block_on(f.gate(&later).consume(&phone(), &stale)).unwrap();
        assert_eq!(
            block_on(f.gate(&later).claim(&phone(), &code)),
            Err(ApiError::WrongSmsCode),
            "still held"
        );
        block_on(f.gate(&later).consume(&phone(), &current)).unwrap();
        assert!(f.state.0.borrow().used);
    }

    #[test]
    fn a_wrong_guess_during_a_right_claim_blocks_nothing() {
        // Every KV read yields once, so the two claims interleave as they can in the object.
        let f = Fixture::<YieldingCodes>::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        let gate = f.gate(&clock);
        let wrong = other_than(&code);
        let (guess, right) =
            block_on(futures_join(gate.claim(&phone(), &wrong), gate.claim(&phone(), &code)));
        assert_eq!(guess, Err(ApiError::WrongSmsCode));
        assert!(right.is_ok(), "{right:?}");
    }

    #[test]
    fn of_two_concurrent_right_claims_one_wins() {
        let f = Fixture::<YieldingCodes>::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        let gate = f.gate(&clock);
        let (a, b) = block_on(futures_join(gate.claim(&phone(), &code), gate.claim(&phone(), &code)));
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    }

    #[test]
    fn a_wrong_or_expired_code_is_refused() {
        let f = Fixture::<MemoryCodes>::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        let wrong = other_than(&code);
        assert_eq!(block_on(f.gate(&FixedClock(2_000)).claim(&phone(), &wrong)), Err(ApiError::WrongSmsCode));
        assert_eq!(
            block_on(f.gate(&FixedClock(301_000)).claim(&phone(), &code)),
            Err(ApiError::WrongSmsCode)
        );
    }

    #[test]
    fn masked_phones_keep_country_and_last_digits() {
        assert_eq!(masked(&phone()), "+86139****9999");
    }

    /// Polls two futures in turn until both are done, as one object's event loop would.
    async fn futures_join<A: std::future::Future, B: std::future::Future>(
        a: A,
        b: B,
    ) -> (A::Output, B::Output) {
        futures_util::future::join(a, b).await
    }
}
