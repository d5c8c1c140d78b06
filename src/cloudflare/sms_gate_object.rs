//! The `SmsGate` Durable Object, one per phone number (named by its E.164 form), which
//! runs that phone's [`CodeGateCore`]. Everything done with a phone's codes runs inside
//! its object, so it happens one request at a time, in one place; `app::code_gate` says
//! why that keeps the invariants. The Worker's side of it is `super::sms_gate`.
//!
//! The class keeps the name `SmsGate` that its first migration in `wrangler.toml` gave
//! it: renaming a deployed Durable Object class takes a migration of its own.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::durable::answer;
use super::sms_gate::{CodeGateCall, CodeGateProtocol, CodeGateReply, DurableCodeGateStorage};
use super::startup;
use crate::app::code_gate::CodeGateCore;
use crate::app::ports::RememberedCode;
use crate::domain::error::{ApiError, Fault};
use crate::domain::phone::Phone;

#[durable_object(fetch)]
pub struct SmsGate {
    state: State,
    env: Env,
    /// The last code issued here, while the object stays loaded (see
    /// `CodeGateCore::take`).
    memory: Rc<RefCell<RememberedCode>>,
}

impl DurableObject for SmsGate {
    fn new(state: State, env: Env) -> Self {
        SmsGate { state, env, memory: Rc::default() }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        answer::<CodeGateProtocol, _>(req, |call| self.run(call)).await
    }
}

impl SmsGate {
    async fn run(&self, call: CodeGateCall) -> std::result::Result<CodeGateReply, ApiError> {
        let app = startup::isolate(&self.env).as_ref().map_err(|broken| broken.error())?;
        let storage = DurableCodeGateStorage { storage: self.state.storage(), memory: self.memory.clone() };
        let gate = CodeGateCore { app, storage: &storage };
        let phone = |text: &str| {
            Phone::parse(text).ok_or_else(|| Fault::Protocol("gate called without a phone".into()))
        };
        Ok(match call {
            CodeGateCall::Issue { phone: p, purpose, from } => {
                CodeGateReply::Issued(gate.issue(&phone(&p)?, purpose, &from).await?)
            }
            CodeGateCall::Decoy { from } => {
                gate.issue_decoy(&from).await?;
                CodeGateReply::Done
            }
            CodeGateCall::Take { phone: p, code, purpose, from } => {
                CodeGateReply::Claimed(gate.take(&phone(&p)?, &code, purpose, &from).await?)
            }
            CodeGateCall::GiveBack { claim, .. } => {
                gate.give_back(&claim).await?;
                CodeGateReply::Done
            }
            CodeGateCall::UsedUp => CodeGateReply::Done,
        })
    }
}
