//! How the Worker speaks to a phone's `SmsGate` Durable Object ([`CodeGateProtocol`]), its
//! client for it ([`DurableCodeGate`], the use cases' `CodeGate`), and the object's
//! storage of the gate's state. The object itself is `super::sms_gate_object`.

use serde::{Deserialize, Serialize};
use worker::Storage;

use super::durable::{unexpected, ObjectClient, Protocol};
use super::platform::OrFault;
use crate::app::ports::{Claim, CodeGate, CodeGateStorage};
use crate::domain::client_address::Caller;
use crate::domain::code_gate_state::CodeGateState;
use crate::domain::error::{ApiError, Backend, Fault};
use crate::domain::phone::Phone;
use crate::domain::sms_code::{CodePurpose, SmsCode};

const STATE_KEY: &str = "gate";

/// What the Worker asks of a phone's gate. A `purpose` missing from a call (one from a
/// Worker of a version before purposes, during a rolling deploy) is `register`.
#[derive(Debug, Serialize, Deserialize)]
pub enum CodeGateCall {
    Issue {
        phone: String,
        #[serde(default)]
        purpose: CodePurpose,
        /// The caller's address, as the limits key it (none from a Worker of a version
        /// before the per-address daily cap).
        #[serde(default)]
        from: String,
    },
    /// From a Worker of a version before the per-address daily cap.
    IssueDecoy,
    Decoy {
        from: String,
    },
    Claim {
        phone: String,
        code: SmsCode,
        #[serde(default)]
        purpose: CodePurpose,
        /// The caller's address, as the limits key it.
        #[serde(default)]
        from: String,
    },
    Consume {
        phone: String,
        claim: Claim,
    },
    Release {
        phone: String,
        claim: Claim,
    },
}

/// What a gate answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum CodeGateReply {
    Issued(SmsCode),
    Claimed(Claim),
    Done,
}

/// The protocol of `SMS_GATE` objects.
pub struct CodeGateProtocol;

impl Protocol for CodeGateProtocol {
    const BINDING: &'static str = "SMS_GATE";
    type Call = CodeGateCall;
    type Reply = CodeGateReply;
}

/// The object's transactional storage. Its calls keep the object's input gate closed,
/// so a read followed by a write here is atomic with respect to other requests.
pub struct DurableCodeGateStorage(pub Storage);

impl CodeGateStorage for DurableCodeGateStorage {
    async fn load(&self) -> std::result::Result<CodeGateState, Fault> {
        let state = self.0.get::<CodeGateState>(STATE_KEY).await;
        Ok(state.or_fault(Backend::ObjectStorage, "load a gate")?.unwrap_or_default())
    }

    async fn save(&self, state: &CodeGateState) -> std::result::Result<(), Fault> {
        self.0.put(STATE_KEY, state).await.or_fault(Backend::ObjectStorage, "save a gate")
    }
}

/// The Worker's side: calls the phone's object.
pub type DurableCodeGate = ObjectClient<CodeGateProtocol>;

fn e164(phone: &Phone) -> String {
    phone.e164().to_string()
}

fn done(reply: CodeGateReply) -> std::result::Result<(), ApiError> {
    match reply {
        CodeGateReply::Done => Ok(()),
        _ => Err(unexpected::<CodeGateProtocol>()),
    }
}

impl CodeGate for DurableCodeGate {
    async fn issue(
        &self,
        phone: &Phone,
        purpose: CodePurpose,
        caller: &Caller,
    ) -> std::result::Result<SmsCode, ApiError> {
        let call = CodeGateCall::Issue { phone: e164(phone), purpose, from: caller.ip.clone() };
        match self.call(phone.e164(), &call).await? {
            CodeGateReply::Issued(code) => Ok(code),
            _ => Err(unexpected::<CodeGateProtocol>()),
        }
    }

    async fn issue_decoy(&self, phone: &Phone, caller: &Caller) -> std::result::Result<(), ApiError> {
        done(self.call(phone.e164(), &CodeGateCall::Decoy { from: caller.ip.clone() }).await?)
    }

    async fn claim(
        &self,
        phone: &Phone,
        code: &SmsCode,
        purpose: CodePurpose,
        caller: &Caller,
    ) -> std::result::Result<Claim, ApiError> {
        let from = caller.ip.clone();
        let call = CodeGateCall::Claim { phone: e164(phone), code: code.clone(), purpose, from };
        match self.call(phone.e164(), &call).await? {
            CodeGateReply::Claimed(claim) => Ok(claim),
            _ => Err(unexpected::<CodeGateProtocol>()),
        }
    }

    async fn consume(&self, phone: &Phone, claim: &Claim) -> std::result::Result<(), ApiError> {
        let call = CodeGateCall::Consume { phone: e164(phone), claim: claim.clone() };
        done(self.call(phone.e164(), &call).await?)
    }

    async fn release(&self, phone: &Phone, claim: &Claim) -> std::result::Result<(), ApiError> {
        let call = CodeGateCall::Release { phone: e164(phone), claim: claim.clone() };
        done(self.call(phone.e164(), &call).await?)
    }
}
