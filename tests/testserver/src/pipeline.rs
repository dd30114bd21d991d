//! One request's way through the server, whatever brought it (a socket or
//! [`crate::TestServer::service`]): recorded, offered to the test's hooks, authenticated,
//! authorized, delayed or failed by the controls, then served.

use hyper::Response;
use hyper::header::{ACCEPT, HeaderValue, RETRY_AFTER};

use crate::api;
use crate::auth::User;
use crate::controls::{Controls, RecordedRequest, Shared};
use crate::exec;
use crate::hook::HookRequest;
use crate::pods;
use crate::portforward;
use crate::protobuf;
use crate::request::{Parsed, SECRET_HEADERS};
use crate::response::Body;
use crate::status::Failure;

/// Serves one parsed request; `peer` is the user of the connection's client certificate.
pub(crate) async fn handle(shared: &Shared, peer: Option<User>, mut req: Parsed) -> Response<Body> {
    let controls = &shared.controls;
    let user = controls.auth.authenticate(peer, &req.headers);
    if controls.recording() {
        let name = user
            .as_ref()
            .ok()
            .and_then(|u| u.as_ref().map(|u| u.name.clone()));
        controls.record(recorded(&req, name));
    }
    if let Some(answer) = hand_answer(controls, &req) {
        return answer;
    }
    let accept = req.header(ACCEPT).unwrap_or("").to_owned();
    let user = match user {
        Ok(u) => u,
        Err(f) => return protobuf::fail_in(&accept, f),
    };
    if let Some(f) = controls.auth.authorize(user.as_ref(), &req.info) {
        return protobuf::fail_in(&accept, f);
    }
    let decision = controls.decide(&req.info);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some((code, body, retry_after)) = decision.failure {
        let mut r = protobuf::fail_in(&accept, Failure { code, body });
        if let Some(s) = retry_after {
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
        }
        return r;
    }
    let info = &req.info;
    let on_pod = info.resource.as_deref() == Some("pods");
    match info.subresource.as_deref() {
        Some("exec" | "attach") if on_pod => {
            exec::handle(&shared.store, controls.exec_handler(), &mut req)
        }
        Some("portforward") if on_pod => portforward::handle(&shared.store, controls, &mut req),
        Some("log") if on_pod && info.verb == "get" => {
            pods::logs(&shared.store, controls.log_handler(), &req)
        }
        _ => api::handle(&shared.store, &req, decision.watch_limit),
    }
}

/// The answer of the first hook that does not pass.
fn hand_answer(controls: &Controls, req: &Parsed) -> Option<Response<Body>> {
    let hooks = controls.hooks_for(&req.info);
    if hooks.is_empty() {
        return None;
    }
    let seen = HookRequest::of(req);
    hooks
        .iter()
        .find_map(|hook| hook(&seen))
        .map(|reply| reply.into_response())
}

/// The request for the record, credentials left out.
fn recorded(req: &Parsed, user: Option<String>) -> RecordedRequest {
    let headers = req
        .headers
        .iter()
        .map(|(k, v)| {
            let value = if SECRET_HEADERS.contains(&k.as_str()) {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    RecordedRequest {
        method: req.method.to_string(),
        path: req.raw_path.clone(),
        query: req.query.pairs().to_vec(),
        headers,
        body: req.body.clone(),
        info: req.info.clone(),
        user,
    }
}
