//! Test harness: a real server on port 0 over a real database — a fresh SQLite file, or a fresh
//! PostgreSQL database created for the test and dropped afterwards. Every log line of the whole
//! test binary is captured at TRACE so privacy tests can search it.

use crate::log_buffer::LogBuffer;
use crate::support::Fetch;
use cbln::config::{Environment, Settings, Sources, load};
use cbln::startup::{Application, LoadedConfig};
use cbln_actors::crypto::MasterKey;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::PathBuf;
use std::sync::{Once, OnceLock};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Every log line written by any test in this binary.
pub fn captured_logs() -> String {
    log_buffer().text()
}

fn log_buffer() -> &'static LogBuffer {
    static BUFFER: OnceLock<LogBuffer> = OnceLock::new();
    BUFFER.get_or_init(LogBuffer::default)
}

fn init_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = cbln::config::LogSettings {
            format: cbln::config::LogFormat::Json,
            level: "trace".into(),
        };
        // SAFETY of the test: RUST_LOG must not narrow what the privacy tests can see.
        cbln::logging::init_with_writer(&settings, log_buffer().clone());
    });
}

/// The repository's `config/` directory.
pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
}

/// PostgreSQL server used by the tests.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database made for one test and removed afterwards.
pub struct TestDatabase {
    /// The URL the app uses.
    pub url: String,
    /// The SQLite directory (kept alive while the test runs).
    pub dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database name.
    pub pg_name: Option<String>,
}

impl TestDatabase {
    /// A fresh database on `backend`. PostgreSQL must be running: no silent skip.
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/cbln.db", dir.path().display());
                TestDatabase {
                    url,
                    dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("cbln_test_{}", uuid::Uuid::new_v4().simple());
                let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|error| {
                    panic!(
                        "PostgreSQL is required for this test and is unreachable at {admin}: {error}. \
                         Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut connection)
                    .await
                    .expect("create test database");
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("TEST_DATABASE_URL must end with a database name"),
                };
                TestDatabase {
                    url,
                    dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The SQLite file's path (SQLite only).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.path().join("cbln.db"))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = postgres_admin_url();
            // Drop may run inside an async runtime; use a thread with its own runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async move {
                        if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut connection)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// Settings for a test app: the repository's config in the `test` environment, fresh keys,
/// the given database, port 0, rate limits off (tests of limits turn them on).
pub fn test_settings(database_url: &str, data_dir: &std::path::Path) -> Settings {
    let sources = Sources {
        environment: Some("test".into()),
        config_dir: config_dir(),
        variables: vec![],
    };
    let (_, mut settings) = load(&sources).expect("test configuration loads");
    settings.server.port = 0;
    settings.database.url = SecretString::from(database_url.to_string());
    settings.security.encryption_key = SecretString::from(MasterKey::generate().to_base64());
    settings.security.secret_key = SecretString::from(cbln_actors::crypto::generate_secret_key());
    settings.security.data_dir = data_dir.display().to_string();
    settings.rate_limit.enabled = false;
    settings.server.workers = 2;
    settings.server.shutdown_timeout_s = 5;
    settings
}

/// Points the responder at an OpenAI-compatible mock at `mock_uri`, giving it `timeout_ms`.
pub fn use_provider(settings: &mut Settings, mock_uri: &str, timeout_ms: u64) {
    settings.responder.provider = cbln::config::ResponderProvider::Openai;
    settings.responder.base_url = format!("{mock_uri}/v1");
    settings.responder.timeout_ms = timeout_ms;
    settings.responder.model = "test-model".into();
}

/// A running server and what a test needs to talk to it and look behind it.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// `http://127.0.0.1:port` of the separate `/metrics` listener, when `metrics.listen` is set.
    pub metrics_address: Option<String>,
    /// A client with no default headers.
    pub client: reqwest::Client,
    /// The database (dropped with the app).
    pub database: TestDatabase,
    /// The settings the app runs with.
    pub settings: Settings,
    /// Stops the server.
    pub handle: actix_web::dev::ServerHandle,
    /// Resolves when the server has fully stopped.
    pub stopped: tokio::sync::oneshot::Receiver<()>,
    _data_dir: tempfile::TempDir,
}

/// Starts an app on `backend` with default test settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts an app on `backend` and opens a session in it: the app and the session's token.
pub async fn spawn_with_session(backend: Backend) -> (TestApp, String) {
    let app = spawn_app(backend).await;
    let token = app.create_session().await;
    (app, token)
}

/// Starts an app on `backend`, letting the test adjust the settings first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create(backend).await;
    spawn_app_on(database, adjust).await
}

/// Two instances on one new PostgreSQL database with the same keys, each adjusted by `adjust`; the
/// first owns the database (it is dropped with it), the second only connects to it.
pub async fn spawn_two_instances(
    adjust: impl Fn(&mut Settings) + Clone + 'static,
) -> (TestApp, TestApp) {
    let database = TestDatabase::create(Backend::Postgres).await;
    let shared_url = database.url.clone();
    let first = spawn_app_on(database, adjust.clone()).await;
    let security = first.settings.security.clone();
    let second = spawn_app_on(
        TestDatabase {
            url: shared_url,
            dir: None,
            pg_name: None,
        },
        move |s| {
            adjust(s);
            s.security = security;
        },
    )
    .await;
    (first, second)
}

/// Starts an app over an existing test database.
pub async fn spawn_app_on(database: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_once();
    let data_dir = tempfile::tempdir().expect("data dir");
    let mut settings = test_settings(&database.url, data_dir.path());
    adjust(&mut settings);
    start(database, settings, data_dir).await
}

/// A built, not yet running, application with these settings (for tests of how a run ends).
pub async fn build_application(settings: Settings) -> Application {
    init_once();
    let config = LoadedConfig {
        environment: Environment::Test,
        settings,
        config_dir: config_dir(),
    };
    Application::build(config)
        .await
        .expect("application builds")
}

async fn start(database: TestDatabase, settings: Settings, data_dir: tempfile::TempDir) -> TestApp {
    let application = build_application(settings.clone()).await;
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let handle = application.handle();
    let (done, stopped) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        let _ = application.run_until_stopped().await;
        let _ = done.send(());
    });
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::builder().build().expect("client"),
        database,
        settings,
        handle,
        stopped,
        _data_dir: data_dir,
    }
}

/// Evaluates `$body` with `$connection` bound to a new connection to the database at `$url`, a
/// PostgreSQL or a SQLite one.
macro_rules! with_connection {
    ($url:expr, |$connection:ident| $body:expr) => {
        if $url.starts_with("postgres") {
            let mut $connection = sqlx::PgConnection::connect($url).await.expect("connect");
            $body
        } else {
            let mut $connection = sqlx::SqliteConnection::connect($url)
                .await
                .expect("connect");
            $body
        }
    };
}

/// One integer from a scalar query (e.g. `SELECT COUNT(*) FROM messages`) against the database
/// at `url`, through a connection of its own (looking behind the API).
pub async fn count_at(url: &str, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    with_connection!(url, |connection| sqlx::query_scalar(sql)
        .fetch_one(&mut connection)
        .await
        .expect("scalar"))
}

impl TestApp {
    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Opens a session and returns its token.
    pub async fn create_session(&self) -> String {
        self.create_session_in("vi").await
    }

    /// Opens a session in `language` and returns its token.
    pub async fn create_session_in(&self, language: &str) -> String {
        let response = self
            .post("/api/v1/sessions")
            .json(&json!({"language_preference": language}))
            .fetch()
            .await;
        assert_eq!(response.status(), 201, "session creation");
        let body: Value = response.json().await.expect("json");
        body["session"]["session_token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// Sends a message with the bearer token; returns status and JSON body.
    pub async fn send_message(&self, token: &str, content: &str) -> (u16, Value) {
        self.post_message_body(token, &json!({ "content": content }))
            .await
    }

    /// Sends a message with the bearer token, which must be answered 201; returns the body.
    pub async fn sent(&self, token: &str, content: &str) -> Value {
        let (status, body) = self.send_message(token, content).await;
        assert_eq!(status, 201, "{content:?}: {body}");
        body
    }

    /// A post of `body` as a message with the bearer token, asking for the reply as a stream.
    pub fn stream_message(&self, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.post_as("/api/v1/messages", token)
            .header("Accept", "text/event-stream")
            .json(body)
    }

    /// Posts `body` as a message with the bearer token; returns status and JSON body (`Null`
    /// when the answer is not JSON).
    pub async fn post_message_body(&self, token: &str, body: &Value) -> (u16, Value) {
        self.post_as("/api/v1/messages", token)
            .json(body)
            .fetch_json_or_null()
            .await
    }

    /// The session's history (first 200).
    pub async fn history(&self, token: &str) -> Value {
        let response = self
            .get_as("/api/v1/messages?limit=200", token)
            .fetch()
            .await;
        assert_eq!(response.status(), 200, "history");
        response.json().await.expect("json")
    }

    /// The server's metrics, parsed.
    pub async fn metrics(&self) -> cbln::monitor::exposition::Exposition {
        let text = self
            .get("/metrics")
            .fetch()
            .await
            .text()
            .await
            .expect("text");
        cbln::monitor::exposition::parse_prometheus_text(&text).expect("the exposition parses")
    }

    /// Raw SQL against the app's database through a separate connection (looking behind the API).
    pub async fn execute(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        with_connection!(&self.database.url, |connection| sqlx::query(sql)
            .execute(&mut connection)
            .await
            .expect("raw SQL")
            .rows_affected())
    }

    /// One integer from a scalar query (e.g. `SELECT COUNT(*) FROM messages`).
    pub async fn count(&self, sql: &str) -> i64 {
        count_at(&self.database.url, sql).await
    }

    /// Everything the database holds, as bytes: the SQLite file and its WAL, or every row of
    /// every PostgreSQL table in its text form (binary columns appear as hex there, so search
    /// both the text and its hex).
    pub async fn database_bytes(&self) -> Vec<u8> {
        match self.database.sqlite_path() {
            Some(path) => {
                let mut bytes = std::fs::read(&path).unwrap_or_default();
                for suffix in ["-wal", "-shm"] {
                    let mut other = path.clone().into_os_string();
                    other.push(suffix);
                    bytes.extend(std::fs::read(PathBuf::from(other)).unwrap_or_default());
                }
                bytes
            }
            None => {
                let mut connection = sqlx::PgConnection::connect(&self.database.url)
                    .await
                    .expect("connect");
                let mut text = String::new();
                for table in cbln_actors::persistence::TABLES {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT CAST(t AS text) FROM {table} t"
                    )))
                    .fetch_all(&mut connection)
                    .await
                    .expect("dump table");
                    for row in rows {
                        text.push_str(&row);
                        text.push('\n');
                    }
                }
                text.into_bytes()
            }
        }
    }

    /// Stops the server gracefully and waits until it has stopped.
    pub async fn stop(self) -> TestDatabase {
        self.handle.stop(true).await;
        let _ = self.stopped.await;
        self.database
    }
}
