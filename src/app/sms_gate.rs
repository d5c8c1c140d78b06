//! What a phone's gate does, run inside that phone's Durable Object.
//!
//! Why the invariants hold (see also the README):
//! - *One live code per phone.* Every send for a phone runs in its one object. The
//!   object's state (`live_until`) is read and written with its own storage only, and
//!   the reservation is written *before* the first await that lets other requests in
//!   (the KV write, the provider call). A concurrent send therefore finds the
//!   reservation and gets 50017.
//! - *A code verifies at most once.* A claim marks the state (`claimed_until`) before it
//!   reads KV, and a consumed code is marked `used` in the object's storage, so neither a
//!   concurrent claim nor a stale KV read can use it again.
//! - *A code sent anywhere verifies everywhere.* Only the object reads and writes the
//!   phone's code in KV, always from the object's one location, where KV reads its own
//!   writes at once; KV's cross-location delay never comes into play.

use serde::{Deserialize, Serialize};

use super::ports::{CodeStore, SmsSender};
use crate::domain::clock::Clock;
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::random::Randomness;
use crate::domain::sms_code::SmsCode;

/// How long a claimed code is held for the registration that claimed it. If the
/// registration never reports back (its Worker died), the claim lapses.
const CLAIM_MILLIS: u64 = 30_000;

/// The gate's state for one phone, kept in the object's storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateState {
    /// Until when (ms) the current code lives; no new code before then.
    pub live_until: u64,
    /// Until when (ms) a registration holds the current code.
    pub claimed_until: u64,
    /// The current code registered a user.
    pub used: bool,
}

/// The object's own storage for [`GateState`].
pub trait GateStateStore {
    async fn load(&self) -> Result<GateState, ApiError>;
    async fn save(&self, state: &GateState) -> Result<(), ApiError>;
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
        let mut state = self.state.load().await?;
        if state.live_until > now {
            return Err(ApiError::SmsStillLive);
        }
        state = GateState { live_until: now + self.code_ttl_seconds * 1000, claimed_until: 0, used: false };
        self.state.save(&state).await?;

        let code = SmsCode::generate(self.rng);
        let sent = match self.codes.put(phone, &code, self.code_ttl_seconds).await {
            Ok(()) => self.sender.send(phone, &code).await.map_err(|reason| ApiError::SmsSendFailed {
                reason: format!("provider failed for {}: {reason}", masked(phone)),
            }),
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            // Keep no code, so that the user can ask again at once.
            let _ = self.codes.delete(phone).await;
            self.state.save(&GateState::default()).await?;
            return Err(error);
        }
        Ok(code)
    }

    /// See [`crate::app::ports::CodeGate::claim`].
    pub async fn claim(&self, phone: &Phone, guess: &SmsCode) -> Result<(), ApiError> {
        let now = self.clock.now_millis();
        let mut state = self.state.load().await?;
        if state.used || state.live_until <= now || state.claimed_until > now {
            return Err(ApiError::WrongSmsCode);
        }
        state.claimed_until = now + CLAIM_MILLIS;
        self.state.save(&state).await?;

        let matches = match self.codes.get(phone).await? {
            Some(code) => code.matches(guess),
            None => false,
        };
        if !matches {
            self.release().await?;
            return Err(ApiError::WrongSmsCode);
        }
        Ok(())
    }

    /// See [`crate::app::ports::CodeGate::consume`].
    pub async fn consume(&self, phone: &Phone) -> Result<(), ApiError> {
        let mut state = self.state.load().await?;
        state.used = true;
        state.claimed_until = 0;
        self.state.save(&state).await?;
        self.codes.delete(phone).await
    }

    /// See [`crate::app::ports::CodeGate::release`].
    pub async fn release(&self) -> Result<(), ApiError> {
        let mut state = self.state.load().await?;
        state.claimed_until = 0;
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
    use crate::app::in_memory::{MemoryCodes, MemoryGateState, RecordingSender};
    use crate::domain::clock::FixedClock;
    use crate::domain::random::SecureRandom;
    use pollster::block_on;

    struct Fixture {
        state: MemoryGateState,
        codes: MemoryCodes,
        sender: RecordingSender,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                state: MemoryGateState::default(),
                codes: MemoryCodes::default(),
                sender: RecordingSender::default(),
            }
        }

        fn gate<'a>(
            &'a self,
            clock: &'a FixedClock,
        ) -> Gate<'a, MemoryGateState, MemoryCodes, RecordingSender, FixedClock, SecureRandom> {
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

    #[test]
    fn a_second_send_within_the_codes_life_is_refused() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        assert_eq!(f.sender.sent(), vec![(phone(), code)]);
        assert_eq!(block_on(f.gate(&FixedClock(300_999)).issue(&phone())), Err(ApiError::SmsStillLive));
        assert!(block_on(f.gate(&FixedClock(301_000)).issue(&phone())).is_ok());
    }

    #[test]
    fn a_failed_send_keeps_no_code() {
        let f = Fixture::new();
        f.sender.fail_next();
        assert!(matches!(
            block_on(f.gate(&FixedClock(1_000)).issue(&phone())),
            Err(ApiError::SmsSendFailed { .. })
        ));
        assert_eq!(block_on(f.codes.get(&phone())).unwrap(), None);
        assert!(block_on(f.gate(&FixedClock(1_001)).issue(&phone())).is_ok(), "retry at once");
    }

    #[test]
    fn a_code_is_claimed_once_and_consumed_for_good() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        block_on(f.gate(&clock).claim(&phone(), &code)).unwrap();
        assert_eq!(block_on(f.gate(&clock).claim(&phone(), &code)), Err(ApiError::WrongSmsCode), "held");
        block_on(f.gate(&clock).consume(&phone())).unwrap();
        assert_eq!(block_on(f.gate(&clock).claim(&phone(), &code)), Err(ApiError::WrongSmsCode), "used");
    }

    #[test]
    fn a_released_code_can_be_claimed_again() {
        let f = Fixture::new();
        let clock = FixedClock(1_000);
        let code = block_on(f.gate(&clock).issue(&phone())).unwrap();
        block_on(f.gate(&clock).claim(&phone(), &code)).unwrap();
        block_on(f.gate(&clock).release()).unwrap();
        assert!(block_on(f.gate(&clock).claim(&phone(), &code)).is_ok());
    }

    #[test]
    fn a_wrong_or_expired_code_is_refused() {
        let f = Fixture::new();
        let code = block_on(f.gate(&FixedClock(1_000)).issue(&phone())).unwrap();
        let wrong = SmsCode::parse(if code.as_str() == "000000" { "000001" } else { "000000" }).unwrap();
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
}
