//! What a phone's code gate keeps (its [`CodeGateState`], in the phone's Durable Object)
//! and the limits it keeps it by (its [`CodeGatePolicy`], the `SMS_*` settings). The gate's
//! logic, and why its invariants hold, is `app::code_gate`.

use serde::{Deserialize, Serialize};

use super::rate_limit::{Limit, SlidingWindow};
use super::settings::SmsSettings;
use super::sms_code::CodePurpose;

/// The gate's state for one phone, kept in the object's storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeGateState {
    /// The current code's id, part of its KV key; empty when there is none.
    pub code_id: String,
    /// Until when (ms) the current code lives; no new code before then.
    pub live_until: u64,
    /// What the current code is for (a state saved before purposes existed reads as
    /// `register`, which every code then was).
    pub purpose: CodePurpose,
    /// The claim that took the current code, if one did: what may give it back.
    pub taken_by: String,
    /// The current code was taken (to register a user, reset a password, sign in): it is
    /// no longer live, and the phone may be sent another.
    pub used: bool,
    /// The current code's send is still with the provider: `live_until` is its lease.
    pub pending: bool,
    /// Wrong guesses at the current code, over all addresses.
    pub wrong_guesses: u32,
    /// Wrong guesses at the current code from each address (as the limits key it); at
    /// most as many entries as the code takes wrong guesses.
    pub wrong_guesses_from: Vec<(String, u32)>,
    /// The codes sent to this phone within the daily window.
    pub sends: SlidingWindow,
    /// The same sends, each as the address that asked for it (as the limits key it) and
    /// its time in whole seconds; only those in the window, so at most the phone's daily
    /// cap of them. Pairs of a string and a `u32`, as `wrong_guesses_from` is: the wasm
    /// then has one reader for both.
    pub sends_from: Vec<(String, u32)>,
}

impl CodeGateState {
    /// Whether the current code (or decoy) still keeps the phone from a new one. A code
    /// that wrong guesses killed does not: else a stranger who spent its guesses would
    /// keep the owner from a working code for the rest of its life.
    pub fn is_live(&self, now: u64, policy: &CodeGatePolicy) -> bool {
        self.live_until > now && !self.used && self.wrong_guesses < policy.max_guesses_per_code
    }

    /// Whole seconds until the phone may be sent another code at the request of `from`
    /// (the phone's daily cap, and its cap for one address under it); `None` when it may
    /// now.
    pub fn send_wait_seconds(&mut self, now: u64, policy: &CodeGatePolicy, from: &str) -> Option<u64> {
        let phone = self.sends.wait_seconds(now, policy.per_phone);
        let limit = policy.per_phone_and_ip;
        let now_seconds = now / 1000;
        self.sends_from.retain(|(_, at)| u64::from(*at) + limit.window_seconds > now_seconds);
        let mut here = self.sends_from.iter().filter(|(address, _)| address == from).map(|(_, at)| *at);
        // Kept oldest first: once the oldest of the address's leaves, one more fits.
        let here = match here.clone().count() >= limit.max as usize {
            true => here
                .next()
                .map(|oldest| (u64::from(oldest) + limit.window_seconds).saturating_sub(now_seconds).max(1)),
            false => None,
        };
        phone.max(here)
    }

    /// Counts a send at `now`, asked for from `from`, that [`Self::send_wait_seconds`]
    /// allowed.
    pub fn record_send(&mut self, now: u64, from: &str) {
        self.sends.record(now);
        self.sends_from.push((from.to_string(), u32::try_from(now / 1000).unwrap_or(u32::MAX)));
    }

    /// Whether a guess at the current code from the address `from` can still be judged.
    pub fn takes_guesses(&self, now: u64, policy: &CodeGatePolicy, from: &str) -> bool {
        !self.code_id.is_empty()
            && !self.used
            && self.live_until > now
            && self.wrong_guesses < policy.max_guesses_per_code
            && self.wrong_guesses_from(from) < policy.max_guesses
    }

    pub fn wrong_guesses_from(&self, from: &str) -> u32 {
        self.wrong_guesses_from.iter().find(|(address, _)| address == from).map_or(0, |(_, n)| *n)
    }

    pub fn count_wrong_guess(&mut self, from: &str) {
        self.wrong_guesses += 1;
        match self.wrong_guesses_from.iter_mut().find(|(address, _)| address == from) {
            Some((_, count)) => *count += 1,
            None => self.wrong_guesses_from.push((from.to_string(), 1)),
        }
    }
}

/// The limits a gate keeps (the `SMS_*` settings).
#[derive(Debug, Clone, Copy)]
pub struct CodeGatePolicy {
    /// A code's life, which is also the cooldown before the next.
    pub code_ttl_seconds: u64,
    /// Wrong guesses a code survives from one address: a stranger's guesses then cannot
    /// kill the code the owner is about to type.
    pub max_guesses: u32,
    /// Wrong guesses a code survives over all addresses (20: the odds that one of them
    /// is right stay at 2 in 100,000).
    pub max_guesses_per_code: u32,
    /// Codes per phone per day.
    pub per_phone: Limit,
    /// Codes per phone per day asked for from one address: a stranger from one address
    /// cannot use up the phone's whole day.
    pub per_phone_and_ip: Limit,
    /// How long a send's reservation lasts until the provider accepts it.
    pub lease_millis: u64,
}

/// What a send's lease allows beyond the provider's own timeout: the code's KV write
/// before the call, and the object's answer after it.
pub const LEASE_MARGIN_MILLIS: u64 = 3_000;

impl CodeGatePolicy {
    /// The policy the `SMS_*` settings describe.
    pub fn from_settings(sms: &SmsSettings) -> CodeGatePolicy {
        CodeGatePolicy {
            code_ttl_seconds: sms.code_ttl_seconds,
            max_guesses: sms.max_guesses,
            max_guesses_per_code: sms.max_guesses_per_code,
            per_phone: sms.per_phone,
            per_phone_and_ip: sms.per_phone_and_ip,
            lease_millis: sms.provider_timeout_ms + LEASE_MARGIN_MILLIS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_as_written_whatever_its_purpose_and_an_older_one_reads_too() {
        for purpose in [CodePurpose::Register, CodePurpose::Delete, CodePurpose::ChangePhone(42)] {
            let state =
                CodeGateState { code_id: "c".into(), purpose, live_until: 7, ..CodeGateState::default() };
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(serde_json::from_str::<CodeGateState>(&json).unwrap(), state, "{json}");
        }
        let change = CodeGateState { purpose: CodePurpose::ChangePhone(42), ..CodeGateState::default() };
        assert!(serde_json::to_string(&change).unwrap().contains(r#""purpose":{"change_phone":42}"#));
        // Saved before purposes existed: a registration code's.
        let older: CodeGateState = serde_json::from_str(r#"{"code_id":"c","live_until":7}"#).unwrap();
        assert_eq!(older.purpose, CodePurpose::Register);
    }
}
