//! The HTTP admin API, `/healthz`, `/metrics` and the OpenAPI document, on the running app.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, ChatId, Language, Role, Subscriber};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::support::test_app::{TestApp, spawn_app_with_http};

struct Api {
    app: TestApp,
    base: String,
    http: Client,
}

async fn spawn() -> Api {
    let (app, base) =
        spawn_app_with_http(Arc::new(SystemClock), &[("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")]).await;
    Api { app, base, http: Client::new() }
}

impl Api {
    async fn token(&self, name: &str, role: Role) -> String {
        let token = pingan::tokens::new_token().unwrap();
        self.app
            .store
            .create_token(name, &pingan::tokens::hash(&token), role, &Actor::System, Utc::now())
            .await
            .unwrap();
        token
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

fn new_notice(title: &str, severity: &str) -> Value {
    json!({ "title": title, "body": "请注意。", "category": "fraud", "severity": severity, "language": "zh" })
}

#[tokio::test]
async fn every_route_checks_the_token_and_its_role() {
    let api = spawn().await;
    let reader = api.token("reader", Role::Moderator).await;
    let editor = api.token("cms", Role::Editor).await;
    let (_, created) =
        api.call(Method::POST, "/api/notices", Some(&editor), Some(new_notice("t", "Minor"))).await;
    let id = created["id"].as_i64().unwrap();
    let routes: Vec<(Method, String, Option<Value>, bool)> = vec![
        (Method::GET, "/api/notices".into(), None, false),
        (Method::GET, format!("/api/notices/{id}"), None, false),
        (Method::GET, format!("/api/notices/{id}/cap"), None, false),
        (Method::GET, "/api/stats".into(), None, false),
        (Method::POST, "/api/notices".into(), Some(new_notice("x", "Minor")), true),
        (Method::PATCH, format!("/api/notices/{id}"), Some(json!({ "title": "y" })), true),
        (Method::POST, format!("/api/notices/{id}/retract"), None, true),
    ];
    // The list above is every route the OpenAPI document declares behind a token.
    let (_, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    let mut documented: Vec<String> = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation.get("security").is_some_and(|s| s.as_array().is_some_and(|s| !s.is_empty())) {
                documented.push(format!(
                    "{} {}",
                    method.to_uppercase(),
                    path.replace("{id}", &id.to_string())
                ));
            }
        }
    }
    let mut tested: Vec<String> = routes.iter().map(|(m, p, _, _)| format!("{m} {p}")).collect();
    documented.sort();
    tested.sort();
    assert_eq!(documented, tested, "every guarded route is tested");
    for (method, path, body, writes) in &routes {
        let (status, error) = api.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a token");
        assert_eq!(error["error"]["code"], "unauthorized");
        let (status, _) = api.call(method.clone(), path, Some("pingan_not-a-token"), body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with a wrong token");
        let (status, error) = api.call(method.clone(), path, Some(&reader), body.clone()).await;
        if *writes {
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as a moderator");
            assert_eq!(error["error"]["code"], "forbidden");
        } else {
            assert!(status.is_success(), "{method} {path} as a moderator: {status}");
        }
    }
    let unchanged = api.app.store.notice(pingan::domain::NoticeId(id)).await.unwrap().unwrap();
    assert_eq!(unchanged.content.title.as_str(), "t", "refused calls changed nothing");
    assert_eq!(api.app.store.count_notices(&pingan::store::NoticeQuery::default()).await.unwrap(), 1);

    api.app.store.revoke_token("cms", &Actor::System, Utc::now()).await.unwrap();
    let (status, _) = api.call(Method::GET, "/api/notices", Some(&editor), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token is refused");
    for open in ["/healthz", "/metrics", "/api/openapi.json"] {
        assert_eq!(api.call(Method::GET, open, None, None).await.0, StatusCode::OK, "{open} needs no token");
    }
    api.app.stop().await.unwrap();
}

#[tokio::test]
async fn notices_are_created_listed_read_corrected_and_retracted() {
    let api = spawn().await;
    let editor = api.token("cms", Role::Editor).await;
    let (status, created) =
        api.call(Method::POST, "/api/notices", Some(&editor), Some(new_notice("API 通告", "Moderate"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["status"].as_str(), created["author"].as_str()),
        (Some("published"), Some("api:cms"))
    );
    let id = created["id"].as_i64().unwrap();

    let (_, list) = api.call(Method::GET, "/api/notices?status=published&limit=5", Some(&editor), None).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["notices"][0]["title"], "API 通告");
    let (_, one) = api.call(Method::GET, &format!("/api/notices/{id}"), Some(&editor), None).await;
    assert_eq!(one["category"], "fraud");

    let (status, changed) = api
        .call(
            Method::PATCH,
            &format!("/api/notices/{id}"),
            Some(&editor),
            Some(json!({ "title": "API 通告（更正）" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["notice"]["title"], "API 通告（更正）");
    let (status, retracted) =
        api.call(Method::POST, &format!("/api/notices/{id}/retract"), Some(&editor), None).await;
    assert_eq!((status, retracted["notice"]["status"].as_str()), (StatusCode::OK, Some("retracted")));
    let (status, again) =
        api.call(Method::POST, &format!("/api/notices/{id}/retract"), Some(&editor), None).await;
    assert_eq!((status, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));

    let audit = api.app.store.audit_log(Some(&Actor::Api("cms".into())), 10).await.unwrap();
    assert_eq!(audit.len(), 3, "published, corrected, retracted");
    api.app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_the_right_status() {
    let api = spawn().await;
    let editor = api.token("cms", Role::Editor).await;
    let cases = [
        (Method::GET, "/api/notices/999", None, StatusCode::NOT_FOUND, "not_found"),
        (Method::GET, "/api/nowhere", None, StatusCode::NOT_FOUND, "not_found"),
        (Method::GET, "/api/notices?limit=0", None, StatusCode::BAD_REQUEST, "bad_request"),
        (Method::GET, "/api/notices?status=loud", None, StatusCode::BAD_REQUEST, "bad_request"),
        (Method::POST, "/api/notices", Some(json!({ "title": "x" })), StatusCode::BAD_REQUEST, "bad_request"),
        (
            Method::POST,
            "/api/notices",
            Some(new_notice("   ", "Minor")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            Method::POST,
            "/api/notices",
            Some(new_notice("t", "Loud")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            Method::PATCH,
            "/api/notices/999",
            Some(json!({ "title": "y" })),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (Method::GET, "/api/notices/abc", None, StatusCode::NOT_FOUND, "not_found"),
        (Method::GET, "/api/notices?limit=many", None, StatusCode::BAD_REQUEST, "bad_request"),
        (Method::DELETE, "/api/notices", None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (Method::PATCH, "/api/notices/1", Some(json!({})), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, error) = api.call(method.clone(), path, Some(&editor), body).await;
        assert_eq!(got, status, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], code, "{method} {path}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, _) = api
        .http
        .post(format!("{}/api/notices", api.base))
        .bearer_auth(&editor)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut with_id = new_notice("t", "Minor");
    with_id["external_id"] = json!("cms-1");
    assert_eq!(
        api.call(Method::POST, "/api/notices", Some(&editor), Some(with_id.clone())).await.0,
        StatusCode::CREATED
    );
    // A retry (the same external id, the same notice) gets the first one back; the same
    // external id for another notice is a conflict.
    assert_eq!(
        api.call(Method::POST, "/api/notices", Some(&editor), Some(with_id.clone())).await.0,
        StatusCode::OK
    );
    with_id["title"] = json!("another");
    assert_eq!(
        api.call(Method::POST, "/api/notices", Some(&editor), Some(with_id)).await.0,
        StatusCode::CONFLICT
    );
    api.app.stop().await.unwrap();
}

#[tokio::test]
async fn correcting_a_delivered_notice_through_the_api_tells_exactly_its_recipients() {
    let api = spawn().await;
    let editor = api.token("cms", Role::Editor).await;
    for chat in 1..=4 {
        api.app
            .store
            .save_subscriber(&Subscriber::new(
                ChatId(chat),
                Language::Zh,
                chrono_tz::Asia::Shanghai,
                Utc::now(),
            ))
            .await
            .unwrap();
    }
    let (_, created) = api
        .call(Method::POST, "/api/notices", Some(&editor), Some(new_notice("燃气泄漏预警", "Extreme")))
        .await;
    let id = created["id"].as_i64().unwrap();
    for chat in 1..=4 {
        api.app.fake.wait_for_sent(chat, 1).await;
    }
    api.app
        .store
        .save_subscriber(&Subscriber::new(ChatId(9), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while api.app.store.notice_fanouts(pingan::domain::NoticeId(id)).await.unwrap().iter().all(|f| f.sent < 4)
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, changed) = api
        .call(
            Method::PATCH,
            &format!("/api/notices/{id}"),
            Some(&editor),
            Some(json!({ "body": "已排除险情，请勿恐慌。" })),
        )
        .await;
    assert_eq!(changed["recipients_told"], 4);
    for chat in 1..=4 {
        let got = api.app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.contains("已排除险情"), "{}", got[1].text);
        assert_eq!(got[1].reply_to, Some(i64::from(got[0].message_id)));
    }
    assert!(api.app.fake.sent_to(9).is_empty());
    api.app.stop().await.unwrap();
}

#[tokio::test]
async fn health_metrics_stats_cap_and_the_openapi_document() {
    let api = spawn().await;
    let editor = api.token("cms", Role::Editor).await;
    let (status, health) = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));

    api.app.fake.user_sends(&crate::support::fake_telegram::TgUser::new(50, "U", Some("en")), "/help");
    api.app.fake.wait_for_sent(50, 1).await;
    let (_, metrics) = api.call(Method::GET, "/metrics", None, None).await;
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(metrics.contains("pingan_commands_total{command=\"help\"} 1"), "{metrics}");
    assert!(
        metrics.contains("pingan_updates_total 1")
            && metrics.contains("pingan_outbox_depth{state=\"pending\"}")
    );

    let (_, stats) = api.call(Method::GET, "/api/stats", Some(&editor), None).await;
    assert!(stats["subscribers"]["active"].is_number() && stats["deliveries"]["sent"].is_number(), "{stats}");

    let (_, created) =
        api.call(Method::POST, "/api/notices", Some(&editor), Some(new_notice("CAP 导出", "Minor"))).await;
    let response = api
        .http
        .get(format!("{}/api/notices/{}/cap", api.base, created["id"]))
        .bearer_auth(&editor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/cap+xml; charset=utf-8");
    let xml = response.text().await.unwrap();
    let alert = pingan::cap::parse_xml(&xml).expect("valid CAP");
    assert_eq!(alert.info[0].headline.as_deref(), Some("CAP 导出"));

    let (_, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/notices",
        "/api/notices/{id}",
        "/api/notices/{id}/retract",
        "/api/notices/{id}/cap",
        "/api/stats",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in the OpenAPI document");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    api.app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own_away_from_the_api() {
    let port = crate::support::test_app::free_port();
    let metrics_at = format!("127.0.0.1:{port}");
    let (app, base) = crate::support::test_app::spawn_app_with_http(
        Arc::new(SystemClock),
        &[("PINGAN_HTTP_METRICS_LISTEN", metrics_at.as_str())],
    )
    .await;
    let http = reqwest::Client::new();
    let metrics = http.get(format!("http://{metrics_at}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.text().await.unwrap().contains("pingan_outbox_depth{state=\"pending\"} 0"));
    assert_eq!(http.get(format!("http://{metrics_at}/api/stats")).send().await.unwrap().status(), 404);
    assert_eq!(http.get(format!("{base}/metrics")).send().await.unwrap().status(), 404, "not beside the API");
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    app.stop().await.unwrap();
}
