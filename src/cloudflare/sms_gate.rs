//! How the Worker speaks to a phone's `SmsGate` Durable Object ([`CodeGateProtocol`]), its
//! client for it ([`DurableCodeGate`], the use cases' `CodeGate`), and the object's
//! storage of the gate's state. The object itself is `super::sms_gate_object`.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use worker::Storage;

use super::durable::{unexpected, ObjectClient, Protocol};
use super::platform::OrFault;
use crate::app::ports::{Claim, CodeGate, CodeGateStorage, RememberedCode};
use crate::domain::client_address::Caller;
use crate::domain::code_gate_state::CodeGateState;
use crate::domain::error::{ApiError, Backend, Fault};
use crate::domain::phone::Phone;
use crate::domain::sms_code::{CodePurpose, SmsCode};

const STATE_KEY: &str = "gate";

/// What the Worker asks of a phone's gate. A `purpose` missing from a call (one from a
/// Worker of a version before purposes, during a rolling deploy) is `register`. Read
/// through [`WireCall`], written as derived.
#[derive(Debug, Serialize, Deserialize)]
#[serde(try_from = "WireCall")]
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
    /// Read also from `IssueDecoy`, as a Worker of a version before the per-address
    /// daily cap wrote it, with no address.
    Decoy { from: String },
    /// Read also from `Claim`, as a Worker of a version before codes were taken in one
    /// call wrote it (it held the code, then used it up or released it).
    Take {
        phone: String,
        code: SmsCode,
        #[serde(default)]
        purpose: CodePurpose,
        /// The caller's address, as the limits key it.
        #[serde(default)]
        from: String,
    },
    /// Read also from `Release`, as that Worker wrote it.
    GiveBack { phone: String, claim: Claim },
    /// That Worker's `Consume`: its `Claim`, read as a take, used the code up already.
    UsedUp,
}

/// A [`CodeGateCall`] as read: the same JSON, but every call's fields in one struct, so
/// that the code reading them is generated once, not once per call (a derived reader of
/// struct variants has a visitor for each; docs/performance.md, "A gate's calls read
/// through one struct"). The fields a call must have are checked by its conversion.
#[derive(Deserialize)]
enum WireCall {
    Issue(CallFields),
    IssueDecoy,
    Decoy(CallFields),
    Take(CallFields),
    GiveBack(CallFields),
    Claim(CallFields),
    Consume(serde::de::IgnoredAny),
    Release(CallFields),
}

/// The fields of all calls; each call has its own few.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CallFields {
    phone: Option<String>,
    purpose: CodePurpose,
    from: Option<String>,
    code: Option<SmsCode>,
    claim: Option<Claim>,
}

/// A field a call must have, missing: the error a derived reader gives.
fn missing<T>(field: Option<T>, name: &str) -> std::result::Result<T, String> {
    field.ok_or_else(|| format!("missing field `{name}`"))
}

impl TryFrom<WireCall> for CodeGateCall {
    type Error = String;

    fn try_from(wire: WireCall) -> std::result::Result<Self, String> {
        Ok(match wire {
            WireCall::Issue(f) => CodeGateCall::Issue {
                phone: missing(f.phone, "phone")?,
                purpose: f.purpose,
                from: f.from.unwrap_or_default(),
            },
            WireCall::IssueDecoy => CodeGateCall::Decoy { from: String::new() },
            WireCall::Decoy(f) => CodeGateCall::Decoy { from: missing(f.from, "from")? },
            WireCall::Take(f) | WireCall::Claim(f) => CodeGateCall::Take {
                phone: missing(f.phone, "phone")?,
                code: missing(f.code, "code")?,
                purpose: f.purpose,
                from: f.from.unwrap_or_default(),
            },
            WireCall::GiveBack(f) | WireCall::Release(f) => CodeGateCall::GiveBack {
                phone: missing(f.phone, "phone")?,
                claim: missing(f.claim, "claim")?,
            },
            WireCall::Consume(_) => CodeGateCall::UsedUp,
        })
    }
}

/// What a gate answers. A take answers `Claimed`, as a claim did.
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
/// Its memory is the object's own, shared by the storages made for its calls.
pub struct DurableCodeGateStorage {
    pub storage: Storage,
    pub memory: Rc<RefCell<RememberedCode>>,
}

impl CodeGateStorage for DurableCodeGateStorage {
    async fn load(&self) -> std::result::Result<CodeGateState, Fault> {
        let state = self.storage.get::<CodeGateState>(STATE_KEY).await;
        Ok(state.or_fault(Backend::ObjectStorage, "load a gate")?.unwrap_or_default())
    }

    async fn save(&self, state: &CodeGateState) -> std::result::Result<(), Fault> {
        self.storage.put(STATE_KEY, state).await.or_fault(Backend::ObjectStorage, "save a gate")
    }

    fn remember(&self, code_id: &str, sealed: Option<&str>) {
        *self.memory.borrow_mut() = RememberedCode::of(code_id, sealed);
    }

    fn recall(&self, code_id: &str) -> Option<Option<String>> {
        self.memory.borrow().recall(code_id)
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

    async fn take(
        &self,
        phone: &Phone,
        code: &SmsCode,
        purpose: CodePurpose,
        caller: &Caller,
    ) -> std::result::Result<Claim, ApiError> {
        let from = caller.ip.clone();
        let call = CodeGateCall::Take { phone: e164(phone), code: code.clone(), purpose, from };
        match self.call(phone.e164(), &call).await? {
            CodeGateReply::Claimed(claim) => Ok(claim),
            _ => Err(unexpected::<CodeGateProtocol>()),
        }
    }

    async fn give_back(&self, phone: &Phone, claim: &Claim) -> std::result::Result<(), ApiError> {
        let call = CodeGateCall::GiveBack { phone: e164(phone), claim: claim.clone() };
        done(self.call(phone.e164(), &call).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> std::result::Result<CodeGateCall, String> {
        serde_json::from_str::<CodeGateCall>(json).map_err(|error| error.to_string())
    }

    #[test]
    fn every_call_reads_back_as_written() {
        let code = SmsCode::parse("123456").unwrap();
        let calls = [
            CodeGateCall::Issue {
                phone: "+8613911118888".into(),
                purpose: CodePurpose::Reset,
                from: "1.2.3.4".into(),
            },
            CodeGateCall::Decoy { from: "1.2.3.4".into() },
            CodeGateCall::Take {
                phone: "+8613911118888".into(),
                code,
                purpose: CodePurpose::Register,
                from: "1.2.3.4".into(),
            },
            CodeGateCall::GiveBack { phone: "+8613911118888".into(), claim: Claim("c".into()) },
            CodeGateCall::Issue {
                phone: "+8613911118888".into(),
                purpose: CodePurpose::ChangePhone(9_007_199_254_740_991),
                from: "1.2.3.4".into(),
            },
        ];
        for call in calls {
            let json = serde_json::to_string(&call).unwrap();
            assert_eq!(format!("{:?}", read(&json).unwrap()), format!("{call:?}"), "{json}");
        }
    }

    #[test]
    fn a_call_from_an_older_worker_reads_with_its_defaults() {
        let issue = read(r#"{"Issue":{"phone":"+8613911118888"}}"#).unwrap();
        let expected = CodeGateCall::Issue {
            phone: "+8613911118888".into(),
            purpose: CodePurpose::Register,
            from: String::new(),
        };
        assert_eq!(format!("{issue:?}"), format!("{expected:?}"));
        assert!(matches!(read(r#""IssueDecoy""#), Ok(CodeGateCall::Decoy { from }) if from.is_empty()));
        // A claim was a hold, then a use or a release: now a take, nothing, a give-back.
        let claim = read(
            r#"{"Claim":{"phone":"+8613911118888","code":"123456","purpose":"reset","from":"1.2.3.4"}}"#,
        );
        assert!(matches!(claim, Ok(CodeGateCall::Take { purpose: CodePurpose::Reset, .. })), "{claim:?}");
        assert!(matches!(
            read(r#"{"Consume":{"phone":"+8613911118888","claim":"c"}}"#),
            Ok(CodeGateCall::UsedUp)
        ));
        let release = read(r#"{"Release":{"phone":"+8613911118888","claim":"c"}}"#);
        assert!(matches!(release, Ok(CodeGateCall::GiveBack { claim, .. }) if claim.0 == "c"));
    }

    #[test]
    fn a_call_without_a_field_it_needs_is_refused_as_a_derived_reader_refuses_it() {
        for (json, field) in [
            (r#"{"Issue":{"purpose":"reset"}}"#, "phone"),
            (r#"{"Decoy":{}}"#, "from"),
            (r#"{"Take":{"phone":"+8613911118888"}}"#, "code"),
            (r#"{"GiveBack":{"phone":"+8613911118888"}}"#, "claim"),
            (r#"{"Release":{"claim":"c"}}"#, "phone"),
        ] {
            let error = read(json).unwrap_err();
            assert!(error.starts_with(&format!("missing field `{field}`")), "{json}: {error}");
        }
        assert!(read(r#"{"Shout":{}}"#).unwrap_err().starts_with("unknown variant `Shout`"));
    }
}
