//! Operations endpoints: service info, health (including a database that goes away), liveness,
//! readiness, the OpenAPI document and the documentation page with its bundled assets.

use crate::helpers::{Backend, postgres_admin_url, spawn_app};
use crate::on_both_backends;
use crate::support::{Fetch, assert_keys};
use serde_json::Value;
use sqlx::Connection;
use std::time::Duration;

fn content_type(response: &reqwest::Response) -> &str {
    response.headers()["content-type"].to_str().unwrap()
}

async fn root_describes_the_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get("/").fetch_json().await;
    assert_eq!(status, 200, "{body}");
    assert_keys(&body, &["name", "version", "status", "docs"]);
    assert!(body["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["status"], "operational");
    assert_eq!(body["docs"], "/docs");
    app.stop().await;
}

async fn health_live_and_ready(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/health", "/api/v1/health"] {
        let (status, body) = app.get(path).fetch_json().await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_keys(&body, &["status", "version", "uptime_s", "checks"]);
        assert_eq!(body["status"], "healthy", "{body}");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert!(body["uptime_s"].is_u64(), "{body}");
        assert!(body["uptime_s"].as_u64().unwrap() < 600, "{body}");
        assert_keys(&body["checks"], &["database", "redis", "actors"]);
        assert_eq!(body["checks"]["database"], "ok", "{body}");
        assert_eq!(
            body["checks"]["redis"], "disabled",
            "no Redis configured: {body}"
        );
        assert_eq!(body["checks"]["actors"], "ok", "{body}");
    }

    let response = app.get("/health/live").fetch().await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "alive"})
    );
    let response = app.get("/health/ready").fetch().await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ready"})
    );
    app.stop().await;
}

/// Lets connections to `name` in again, whatever happens to the test.
struct AllowConnections(String);

impl AllowConnections {
    async fn set(name: &str, allow: bool) {
        let mut admin = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .expect("admin connection");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"
        )))
        .execute(&mut admin)
        .await
        .expect("alter database");
        if !allow {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )))
            .execute(&mut admin)
            .await
            .expect("terminate connections");
        }
    }
}

impl Drop for AllowConnections {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(AllowConnections::set(&name, true));
            }
        })
        .join();
    }
}

/// PostgreSQL only: a SQLite file cannot be taken away from a running process in the same way.
#[actix_web::test]
async fn health_is_503_degraded_when_postgres_is_gone() {
    let app = spawn_app(Backend::Postgres).await;
    let name = app.database.pg_name.clone().expect("PostgreSQL database");
    assert_eq!(app.get("/health").fetch_status().await, 200);

    let guard = AllowConnections(name.clone());
    AllowConnections::set(&name, false).await;

    let started = std::time::Instant::now();
    let response = app.get("/health").fetch().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "health answers promptly"
    );
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["database"], "down", "{body}");
    assert_eq!(body["checks"]["actors"], "ok", "{body}");
    assert_eq!(app.get("/api/v1/health").fetch_status().await, 503);
    let status = app.get("/health/live").fetch_status().await;
    assert_eq!(status, 200, "still alive");
    // A request that needs the database fails cleanly, not with a hang.
    let response = app.post("/api/v1/sessions").fetch().await;
    assert!(response.status().is_server_error(), "{}", response.status());
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");

    // The database comes back: so does health.
    AllowConnections::set(&name, true).await;
    drop(guard);
    let mut healthy = false;
    for _ in 0..50 {
        let response = app.get("/health").fetch().await;
        if response.status() == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "health recovers once the database is back");
    assert_eq!(app.post("/api/v1/sessions").fetch_status().await, 201);
    app.stop().await;
}

async fn openapi_lists_the_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/openapi.json").fetch().await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).contains("json"));
    let document: Value = response.json().await.unwrap();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "an OpenAPI 3 document"
    );
    let paths = document["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/api/v1/sessions", &["post", "delete"][..]),
        ("/api/v1/sessions/{token}", &["get", "put", "delete"]),
        ("/api/v1/sessions/refresh", &["post"]),
        ("/api/v1/messages", &["post", "get", "delete"]),
        ("/api/v1/messages/{id}", &["get", "delete"]),
        ("/api/v1/feedback", &["post"]),
        ("/api/v1/staff/login", &["post"]),
        ("/api/v1/staff/logout", &["post"]),
        ("/api/v1/staff/opening-hours", &["get", "put"]),
        ("/", &["get"]),
        ("/health", &["get"]),
        ("/health/live", &["get"]),
        ("/health/ready", &["get"]),
        ("/metrics", &["get"]),
    ] {
        let entry = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is documented"));
        for method in methods {
            assert!(
                entry.get(*method).is_some(),
                "{method} {path} is documented"
            );
        }
    }
    // Staff routes name the bearer scheme they need.
    assert_eq!(
        document["components"]["securitySchemes"]["staff_token"]["scheme"],
        "bearer"
    );
    assert!(
        paths["/api/v1/staff/opening-hours"]["put"]["security"].is_array(),
        "{}",
        paths["/api/v1/staff/opening-hours"]
    );
    app.stop().await;
}

async fn docs_page_and_its_assets_are_served_locally(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/docs", "/docs/"] {
        let response = app.get(path).fetch().await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(content_type(&response).starts_with("text/html"), "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("/docs/swagger-ui-bundle.js"),
            "{path}: {html}"
        );
        assert!(html.contains("/openapi.json"), "{path}");
        for remote in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "unpkg",
            "cdn",
        ] {
            assert!(
                !html.contains(remote),
                "{path} loads nothing from the internet: {remote}"
            );
        }
    }
    let response = app.get("/docs/swagger-ui-bundle.js").fetch().await;
    assert_eq!(response.status(), 200);
    let script_type = content_type(&response).to_string();
    assert!(script_type.contains("javascript"), "{script_type}");
    let script = response.bytes().await.unwrap();
    assert!(script.len() > 100_000, "the real bundle is served");
    let response = app.get("/docs/swagger-ui.css").fetch().await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).contains("css"));
    app.stop().await;
}

on_both_backends!(
    root_describes_the_service,
    health_live_and_ready,
    openapi_lists_the_paths,
    docs_page_and_its_assets_are_served_locally,
);
