//! A small HTTP client for the tests, answering with status, headers and parsed body
//! whatever the status (ureq reports 4xx/5xx as errors; here they are answers).

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use serde_json::Value;

/// A worker's local D1, held shared by every request to that worker while it runs, and
/// exclusively by its `TestWorker::query`. A query opens a worker's local SQLite file
/// from a second process, and a write the worker makes meanwhile fails with SQLITE_BUSY
/// (a 9999 the test did not cause; seen once in a full run). A deployed worker has no
/// second process on its database, so the tests keep theirs from racing it rather than
/// the worker retrying. One lock per worker: a query holds up no request to another
/// worker, whose database is another file.
pub type LocalD1 = Arc<RwLock<()>>;

pub struct Client {
    base_url: String,
    agent: ureq::Agent,
    d1: LocalD1,
}

/// One response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics (failing the test) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The envelope's `code`.
    pub fn code(&self) -> u64 {
        self.json()["code"].as_u64().unwrap_or_else(|| panic!("no code in {}", self.text))
    }

    pub fn data(&self) -> Value {
        self.json()["data"].clone()
    }

    /// Asserts the envelope's code and the HTTP status, and that the envelope is whole.
    pub fn expect(&self, code: u64, status: u16) -> &Self {
        let body = self.json();
        assert_eq!((body["code"].as_u64(), self.status), (Some(code), status), "{}", self.text);
        assert_eq!(body["status"], Value::Bool(code == 200), "{}", self.text);
        assert!(body["msg"].is_string(), "{}", self.text);
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(4),
            "exactly code, msg, status, data: {}",
            self.text
        );
        assert_eq!(self.header("content-type"), Some("application/json; charset=utf-8"));
        self
    }

    pub fn msg(&self) -> String {
        self.json()["msg"].as_str().unwrap_or_default().to_string()
    }
}

impl Client {
    /// A client of the worker at `base_url`, whose database `d1` is.
    pub fn new(base_url: &str, d1: LocalD1) -> Client {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        Client { base_url: base_url.to_string(), agent, d1 }
    }

    fn shared_d1(&self) -> RwLockReadGuard<'_, ()> {
        self.d1.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn finish(result: Result<ureq::Response, ureq::Error>) -> Reply {
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("request failed: {error}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .iter()
            .map(|n| (n.clone(), response.header(n).unwrap_or("").to_string()))
            .collect();
        let text = response.into_string().expect("a text body");
        Reply { status, headers, text }
    }

    /// `POST` a JSON value.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string().as_bytes())
    }

    /// `POST` a JSON value with more headers (an address in `CF-Connecting-IP`, an
    /// `Authorization`).
    pub fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.request("POST", path, &all, Some(body.to_string().as_bytes()))
    }

    /// `POST` bytes as `application/json`.
    pub fn post_raw(&self, path: &str, body: &[u8]) -> Reply {
        let request =
            self.agent.post(&format!("{}{path}", self.base_url)).set("Content-Type", "application/json");
        let _d1 = self.shared_d1();
        Client::finish(request.send_bytes(body))
    }

    /// `POST` bytes with chunked transfer encoding, so that no length is declared.
    pub fn post_chunked(&self, path: &str, body: Vec<u8>) -> Reply {
        let request =
            self.agent.post(&format!("{}{path}", self.base_url)).set("Content-Type", "application/json");
        let _d1 = self.shared_d1();
        Client::finish(request.send(std::io::Cursor::new(body)))
    }

    /// Any method, with headers and an optional body.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base_url));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let _d1 = self.shared_d1();
        Client::finish(match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        })
    }

    /// `GET`, or `None` while nothing listens.
    pub fn try_get(&self, path: &str) -> Option<Reply> {
        match self.agent.get(&format!("{}{path}", self.base_url)).timeout(Duration::from_secs(2)).call() {
            Ok(response) => Some(Client::finish(Ok(response))),
            Err(ureq::Error::Status(code, response)) => {
                Some(Client::finish(Err(ureq::Error::Status(code, response))))
            }
            Err(_) => None,
        }
    }
}
