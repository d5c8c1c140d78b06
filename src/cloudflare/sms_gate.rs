//! The `SmsGate` Durable Object, one per phone number (named by its E.164 form), and the
//! Worker's client for it. Everything done with a phone's codes runs inside its object,
//! so it happens one request at a time, in one place; `app::sms_gate` says why that
//! keeps the invariants.

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response, Result,
    State, Storage,
};

use super::kv_stores::{KvCodeStore, KV_BINDING};
use super::platform::{settings, WorkerClock};
use super::sms_sender::sender_for;
use crate::app::ports::CodeGate;
use crate::app::sms_gate::{Gate, GateState, GateStateStore};
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::random::SecureRandom;
use crate::domain::sms_code::SmsCode;

/// The binding name in `wrangler.toml`.
pub const SMS_GATE_BINDING: &str = "SMS_GATE";

const STATE_KEY: &str = "gate";

/// What the Worker asks of a gate: `POST /<operation>` with this body.
#[derive(Debug, Serialize, Deserialize)]
struct GateCall {
    phone: String,
    code: Option<String>,
}

/// The gate's answer: the code issued, or the envelope code of the error.
#[derive(Debug, Serialize, Deserialize)]
struct GateAnswer {
    code: Option<String>,
    error: Option<u32>,
}

#[durable_object(fetch)]
pub struct SmsGate {
    state: State,
    env: Env,
}

impl DurableObject for SmsGate {
    fn new(state: State, env: Env) -> Self {
        SmsGate { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let operation = req.path();
        let answer = match req.json::<GateCall>().await {
            Ok(call) => self.run(operation.trim_start_matches('/'), call).await,
            Err(error) => Err(ApiError::internal(format!("bad gate call: {error}"))),
        };
        let answer = match answer {
            Ok(code) => GateAnswer { code: code.map(|c| c.as_str().to_string()), error: None },
            Err(error) => {
                if let Some(detail) = error.log_detail() {
                    worker::console_error!("sms gate: {detail}");
                }
                GateAnswer { code: None, error: Some(error.code()) }
            }
        };
        Response::from_json(&answer)
    }
}

impl SmsGate {
    async fn run(&self, operation: &str, call: GateCall) -> std::result::Result<Option<SmsCode>, ApiError> {
        let phone =
            Phone::parse(&call.phone).ok_or_else(|| ApiError::internal("gate called without a phone"))?;
        let settings = settings(&self.env).map_err(ApiError::internal)?;
        let sender = sender_for(&settings.sms_provider).map_err(ApiError::internal)?;
        let codes = KvCodeStore(self.env.kv(KV_BINDING).map_err(ApiError::internal)?);
        let state = ObjectStorage(self.state.storage());
        let gate = Gate {
            state: &state,
            codes: &codes,
            sender: &sender,
            clock: &WorkerClock,
            rng: &SecureRandom,
            code_ttl_seconds: settings.sms_code_ttl_seconds,
        };
        match operation {
            "issue" => gate.issue(&phone).await.map(Some),
            "claim" => {
                let code = call.code.as_deref().and_then(SmsCode::parse).ok_or(ApiError::WrongSmsCode)?;
                gate.claim(&phone, &code).await.map(|()| None)
            }
            "consume" => gate.consume(&phone).await.map(|()| None),
            "release" => gate.release().await.map(|()| None),
            other => Err(ApiError::internal(format!("unknown gate operation {other:?}"))),
        }
    }
}

/// The object's transactional storage. Its calls keep the object's input gate closed,
/// so a read followed by a write here is atomic with respect to other requests.
struct ObjectStorage(Storage);

impl GateStateStore for ObjectStorage {
    async fn load(&self) -> std::result::Result<GateState, ApiError> {
        Ok(self.0.get::<GateState>(STATE_KEY).await.map_err(ApiError::internal)?.unwrap_or_default())
    }

    async fn save(&self, state: &GateState) -> std::result::Result<(), ApiError> {
        self.0.put(STATE_KEY, state).await.map_err(ApiError::internal)
    }
}

/// The Worker's side: calls the phone's object.
pub struct DurableSmsGate(pub ObjectNamespace);

impl DurableSmsGate {
    async fn call(
        &self,
        operation: &str,
        phone: &Phone,
        code: Option<&SmsCode>,
    ) -> std::result::Result<Option<SmsCode>, ApiError> {
        let call = GateCall { phone: phone.e164().to_string(), code: code.map(|c| c.as_str().to_string()) };
        let answer = self
            .send(operation, &call)
            .await
            .map_err(|e| ApiError::internal(format!("sms gate {operation}: {e}")))?;
        match answer.error {
            None => Ok(answer.code.as_deref().and_then(SmsCode::parse)),
            Some(50017) => Err(ApiError::SmsStillLive),
            Some(50018) => Err(ApiError::SmsSendFailed { reason: "see the sms gate's log".into() }),
            Some(50001) => Err(ApiError::WrongSmsCode),
            Some(other) => Err(ApiError::internal(format!("sms gate {operation} failed with {other}"))),
        }
    }

    async fn send(&self, operation: &str, call: &GateCall) -> Result<GateAnswer> {
        let stub = self.0.id_from_name(&call.phone)?.get_stub()?;
        let body = serde_json::to_string(call)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init(&format!("https://sms-gate/{operation}"), &init)?;
        stub.fetch_with_request(request).await?.json::<GateAnswer>().await
    }
}

impl CodeGate for DurableSmsGate {
    async fn issue(&self, phone: &Phone) -> std::result::Result<SmsCode, ApiError> {
        self.call("issue", phone, None).await?.ok_or_else(|| ApiError::internal("sms gate issued no code"))
    }

    async fn claim(&self, phone: &Phone, code: &SmsCode) -> std::result::Result<(), ApiError> {
        self.call("claim", phone, Some(code)).await.map(|_| ())
    }

    async fn consume(&self, phone: &Phone) -> std::result::Result<(), ApiError> {
        self.call("consume", phone, None).await.map(|_| ())
    }

    async fn release(&self, phone: &Phone) -> std::result::Result<(), ApiError> {
        self.call("release", phone, None).await.map(|_| ())
    }
}
